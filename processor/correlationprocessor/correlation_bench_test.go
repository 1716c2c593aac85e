package correlationprocessor

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/ollystack/ollystack/processor/correlationprocessor/internal/metadata"
)

const (
	benchSpans         = 1000
	benchSpansPerTrace = 10
)

// BenchmarkTraces measures the processor on 1,000-span batches of 100 traces
// with 15 attributes per span, decoded from OTLP protobuf as the receiver
// does (decoding is not timed). Every iteration uses new trace ids, so cache
// entries and derived ids are really created. Reported: ns/span, allocs/span,
// the thread's cpu-ns/span, x-floor: the processor's CPU time divided by that
// of the floor (see tracesFloor), run on a copy of the same batch in the same
// iteration, which cancels most of the noise of a shared machine, and
// x-decode: the processor's CPU time per span divided by that of decoding
// (without its garbage collection), its share of the receiver's work.
func BenchmarkTraces(b *testing.B) {
	b.Run("explicit id in correlation_id on every span", func(b *testing.B) {
		benchmarkTraces(b, func(span int) (string, string) {
			return "correlation_id", fmt.Sprintf("req-%d", span/benchSpansPerTrace)
		}, false)
	})
	b.Run("explicit id in a captured header on every span", func(b *testing.B) {
		benchmarkTraces(b, func(span int) (string, string) {
			return "http.request.header.x-correlation-id", fmt.Sprintf("req-%d", span/benchSpansPerTrace)
		}, false)
	})
	b.Run("cache hit", func(b *testing.B) {
		benchmarkTraces(b, nil, true)
	})
	b.Run("generated", func(b *testing.B) {
		benchmarkTraces(b, nil, false)
	})
}

// benchmarkTraces runs the processor; idAttribute, if set, gives the key and
// value of the explicit id of each span; warmCache first sends the root spans
// with an explicit id so that the timed batch only needs cache hits.
func benchmarkTraces(b *testing.B, idAttribute func(span int) (string, string), warmCache bool) {
	cfg := defaultConfig()
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(b, err)
	defer func() { require.NoError(b, p.Shutdown(context.Background())) }()
	payload := benchPayload(b, idAttribute)
	unmarshaler := ptrace.ProtoUnmarshaler{}
	ctx := context.Background()

	// Decoding allocates far more than the processor; collect its garbage
	// outside the timed region so that its GC does not run during it.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var before, after runtime.MemStats
	var mallocs uint64
	var cpu, floorCPU, decodeCPU time.Duration
	cpuMeasured := true
	spansTimed := 0
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		runtime.GC()
		decode := func() ptrace.Traces {
			var td ptrace.Traces
			var err error
			decodeCPU += cpuTime(func() { td, err = unmarshaler.UnmarshalTraces(payload) })
			require.NoError(b, err)
			renumberTraces(td, i)
			return td
		}
		// The batch decoded last is the warmer in the CPU caches: take
		// turns.
		var td, floorTD ptrace.Traces
		if i%2 == 0 {
			td, floorTD = decode(), decode()
		} else {
			floorTD, td = decode(), decode()
		}
		if warmCache {
			require.NoError(b, p.ConsumeTraces(ctx, rootsWithIDs(td)))
			rootsWithIDs(floorTD)
		}
		spansTimed += td.SpanCount()
		floorCPU += cpuTime(func() { tracesFloor(floorTD) })
		runtime.ReadMemStats(&before)
		b.StartTimer()
		// Read inside the timed region: Start/StopTimer stop the world.
		cpuBefore, ok := threadCPUTime()

		err = p.ConsumeTraces(ctx, td)

		cpuAfter, _ := threadCPUTime()
		b.StopTimer()
		require.NoError(b, err)
		cpu += cpuAfter - cpuBefore
		cpuMeasured = cpuMeasured && ok
		runtime.ReadMemStats(&after)
		mallocs += after.Mallocs - before.Mallocs
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(spansTimed), "ns/span")
	b.ReportMetric(float64(mallocs)/float64(spansTimed), "allocs/span")
	if cpuMeasured {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(spansTimed), "cpu-ns/span")
		b.ReportMetric(float64(cpu)/float64(floorCPU), "x-floor")
		// Two whole batches are decoded per run.
		decodeNsPerSpan := float64(decodeCPU.Nanoseconds()) / float64(2*b.N*benchSpans)
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(spansTimed)/decodeNsPerSpan, "x-decode")
	}
}

// cpuTime returns the CPU time the calling thread spends running f.
func cpuTime(f func()) time.Duration {
	before, _ := threadCPUTime()
	f()
	after, _ := threadCPUTime()
	return after - before
}

// benchPayload encodes one batch: root span first in each trace, 15
// attributes per span, the explicit id (if any) being one of them.
func benchPayload(b *testing.B, idAttribute func(span int) (string, string)) []byte {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "checkout")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for n := range benchSpans {
		span := spans.AppendEmpty()
		span.SetName("GET /api/v1/orders/{id}")
		span.SetSpanID(pcommon.SpanID{byte(n), byte(n >> 8), 1})
		if n%benchSpansPerTrace != 0 {
			span.SetParentSpanID(pcommon.SpanID{byte(n - n%benchSpansPerTrace), byte((n - n%benchSpansPerTrace) >> 8), 1})
		}
		attrs := span.Attributes()
		attrs.PutStr("http.request.method", "GET")
		attrs.PutStr("url.path", "/api/v1/orders/12345")
		attrs.PutStr("url.scheme", "https")
		attrs.PutStr("server.address", "orders.internal")
		attrs.PutInt("server.port", 8443)
		attrs.PutInt("http.response.status_code", 200)
		attrs.PutStr("network.protocol.version", "1.1")
		attrs.PutStr("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)")
		attrs.PutStr("client.address", "10.1.2.3")
		attrs.PutStr("http.route", "/api/v1/orders/{id}")
		attrs.PutStr("db.system.name", "postgresql")
		attrs.PutStr("db.namespace", "orders")
		attrs.PutStr("code.function.name", "OrdersHandler.Get")
		attrs.PutStr("thread.name", "worker-7")
		if idAttribute != nil {
			key, value := idAttribute(n)
			attrs.PutStr(key, value)
		} else {
			attrs.PutStr("deployment.environment.name", "production")
		}
		if attrs.Len() != 15 {
			b.Fatalf("span has %d attributes", attrs.Len())
		}
	}
	payload, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(b, err)
	return payload
}

// renumberTraces gives the batch trace ids never used before.
func renumberTraces(td ptrace.Traces, iteration int) {
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for n := 0; n < spans.Len(); n++ {
		var id pcommon.TraceID
		binary.BigEndian.PutUint64(id[:8], uint64(iteration)+1)
		binary.BigEndian.PutUint64(id[8:], uint64(n/benchSpansPerTrace)+1)
		spans.At(n).SetTraceID(id)
	}
}

// rootsWithIDs returns a batch of the root spans of td carrying explicit ids.
func rootsWithIDs(td ptrace.Traces) ptrace.Traces {
	roots := ptrace.NewTraces()
	out := roots.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for n := 0; n < spans.Len(); n += benchSpansPerTrace {
		root := out.AppendEmpty()
		root.SetTraceID(spans.At(n).TraceID())
		root.Attributes().PutStr("correlation_id", fmt.Sprintf("req-%d", n))
	}
	// The timed batch holds only the children, as when the root was exported
	// in an earlier batch.
	spans.RemoveIf(func(span ptrace.Span) bool { return span.ParentSpanID().IsEmpty() })
	return roots
}

// BenchmarkTracesFloor measures, in the same conditions as BenchmarkTraces,
// tracesFloor alone.
func BenchmarkTracesFloor(b *testing.B) {
	payload := benchPayload(b, nil)
	unmarshaler := ptrace.ProtoUnmarshaler{}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		runtime.GC()
		td, err := unmarshaler.UnmarshalTraces(payload)
		require.NoError(b, err)
		renumberTraces(td, i)
		b.StartTimer()
		cpu += cpuTime(func() { tracesFloor(td) })
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchSpans), "ns/span")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*benchSpans), "cpu-ns/span")
}

// tracesFloor does only what any enrichment of td must do: iterate each
// span's attributes once and add one string attribute. It puts the figures
// of BenchmarkTraces in perspective on a given machine.
func tracesFloor(td ptrace.Traces) {
	keyBytes := 0
	forEachSpan(td, func(span ptrace.Span) {
		attrs := span.Attributes()
		for key := range attrs.All() {
			keyBytes += len(key)
		}
		attrs.PutStr("correlation_id", "olly-t-4bf92f3577b34da6a3ce929d0e0e4736")
	})
	if keyBytes == 0 {
		panic("no attributes")
	}
}
