package correlationprocessor

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
)

// TestConcurrentSignals hammers one correlator from traces and logs pipelines
// at once (run it with -race). Whatever the interleaving, every item ends up
// with either its trace's explicit id or its trace's derived id, and a batch
// holding the root always gives the root's id to all its spans.
func TestConcurrentSignals(t *testing.T) {
	cfg := defaultConfig()
	cfg.Cache.MaxTraces = 64 // small, so eviction runs concurrently too
	p := newPipelines(t, cfg)
	const workers, traces = 4, 200
	ctx := context.Background()

	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for n := range traces {
				td := concurrentTraces(n, w%2 == 0)
				if err := p.traces.ConsumeTraces(ctx, td); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for n := range traces {
				if err := p.logs.ConsumeLogs(ctx, concurrentLogs(n)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	for _, td := range p.tracesOut.AllTraces() {
		hasRoot := false
		forEachSpan(td, func(span ptrace.Span) { hasRoot = hasRoot || span.ParentSpanID().IsEmpty() })
		forEachSpan(td, func(span ptrace.Span) {
			id := attributeOrAbsent(span.Attributes())
			explicit := explicitFor(span.TraceID())
			if hasRoot {
				assert.Equal(t, explicit, id)
			} else {
				assert.Contains(t, []string{explicit, correlationid.Derive("olly", span.TraceID())}, id)
			}
		})
	}
	for _, ld := range p.logsOut.AllLogs() {
		record := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
		id := attributeOrAbsent(record.Attributes())
		assert.Contains(t, []string{explicitFor(record.TraceID()), correlationid.Derive("olly", record.TraceID())}, id)
	}
}

func concurrentTraceID(n int) pcommon.TraceID {
	return pcommon.TraceID{byte(n), byte(n >> 8), 0xc0}
}

func explicitFor(traceID pcommon.TraceID) string {
	return fmt.Sprintf("req-%d", int(traceID[0])|int(traceID[1])<<8)
}

// concurrentTraces returns either the root with one child, or two children.
func concurrentTraces(n int, withRoot bool) ptrace.Traces {
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i := range 2 {
		span := spans.AppendEmpty()
		span.SetTraceID(concurrentTraceID(n))
		span.SetSpanID(pcommon.SpanID{byte(i + 1)})
		if i == 0 && withRoot {
			span.Attributes().PutStr("http.request.header.x-correlation-id", explicitFor(concurrentTraceID(n)))
		} else {
			span.SetParentSpanID(pcommon.SpanID{1})
		}
	}
	return td
}

func concurrentLogs(n int) plog.Logs {
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().SetTraceID(concurrentTraceID(n))
	return ld
}
