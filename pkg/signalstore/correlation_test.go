package signalstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/pkg/signalstore/embedded"
)

func TestReadCorrelationClosesOverTracesAndCuts(t *testing.T) {
	cfg := embedded.NewDefaultConfig()
	cfg.Path = filepath.Join(t.TempDir(), "store.db")
	store, err := embedded.Open(context.Background(), cfg, zap.NewNop())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	ctx := context.Background()
	start := time.Now().Add(-time.Minute)

	traceA, traceB, traceC := pcommon.TraceID{1}, pcommon.TraceID{2}, pcommon.TraceID{3}
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i, tr := range []pcommon.TraceID{traceA, traceA, traceB, traceC} {
		s := spans.AppendEmpty()
		s.SetTraceID(tr)
		s.SetSpanID(pcommon.SpanID{byte(i + 1)})
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(i) * time.Second)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(i)*time.Second + time.Millisecond)))
		if tr == traceA {
			s.Attributes().PutStr("correlation_id", "order-1")
		}
	}
	require.NoError(t, store.WriteTraces(ctx, td))
	ld := plog.NewLogs()
	records := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	byTrace := records.AppendEmpty() // found by trace id and by correlation id: one copy kept
	byTrace.SetTraceID(traceA)
	byTrace.SetTimestamp(pcommon.NewTimestampFromTime(start))
	byTrace.Attributes().PutStr("correlation_id", "order-1")
	byTrace.Body().SetStr("charged")
	noTrace := records.AppendEmpty() // only the correlation id joins it
	noTrace.SetTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Second)))
	noTrace.Attributes().PutStr("correlation_id", "order-1")
	noTrace.Body().SetStr("queued")
	require.NoError(t, store.WriteLogs(ctx, ld))

	limits := signalstore.CorrelationLimits{MaxTraces: 10, MaxSpans: 10, MaxLogs: 10, MaxMetrics: 10}
	c, err := signalstore.ReadCorrelation(ctx, store, "order-1", limits, signalstore.TraceID(traceB))
	require.NoError(t, err)
	assert.ElementsMatch(t, []signalstore.TraceID{signalstore.TraceID(traceA), signalstore.TraceID(traceB)}, c.TraceIDs)
	require.Len(t, c.Spans, 3, "trace A's two spans and trace B's, not trace C's")
	assert.True(t, c.Spans[0].Timestamp.Before(c.Spans[2].Timestamp), "spans in time order")
	require.Len(t, c.Logs, 2)
	assert.Equal(t, []string{"charged", "queued"}, []string{c.Logs[0].Body, c.Logs[1].Body})
	assert.False(t, c.Truncated.Any())

	limits.MaxSpans, limits.MaxLogs, limits.MaxTraces = 1, 1, 1
	c, err = signalstore.ReadCorrelation(ctx, store, "order-1", limits, signalstore.TraceID(traceB))
	require.NoError(t, err)
	assert.Len(t, c.TraceIDs, 1)
	assert.Len(t, c.Spans, 1)
	assert.Len(t, c.Logs, 1)
	assert.Equal(t, signalstore.Truncation{Traces: true, Spans: true, Logs: true}, c.Truncated)
}
