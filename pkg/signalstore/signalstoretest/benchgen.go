package signalstoretest

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The read benchmarks of every backend run on the same synthetic workload,
// made by BenchGen and laid out by BenchBatches: BenchWriters writers, each
// with its own seeded generator, write batches of BenchTracesPerBatch
// 10-span traces (3 logs each) whose times advance over the BenchSpan
// before the fixture's end. With 25,000 traces per writer that is
// 1,000,000 spans and 300,000 logs.
const (
	BenchWriters        = 4
	BenchTracesPerBatch = 100
	BenchSpan           = 4 * time.Hour
	BenchSpansPerTrace  = 10
	BenchLogsPerTrace   = 3
)

// BenchServices are the services of the synthetic workload; every trace
// crosses frontend → checkout → one backend, with client/server pairs, so
// the service map has len(BenchServices)-1 edges.
var BenchServices = []string{"frontend", "checkout", "payments", "inventory", "shipping"}

// BenchGen makes realistic batches: 10-span traces over three services,
// ~6 span attributes and ~8 resource attributes, a correlation id per
// trace, 2% error traces, log-normal-ish latencies. The same seed makes the
// same traces (ids, attributes, durations and offsets in their batch).
type BenchGen struct {
	rng  *rand.Rand
	seed uint64
	seq  uint64
	host string
}

// NewBenchGen returns the generator for a seed; BenchBatches gives writer w
// the seed w+1.
func NewBenchGen(seed uint64) *BenchGen {
	return &BenchGen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), seed: seed, host: fmt.Sprintf("node-%d", seed%7)}
}

// BenchCorrelationID is the correlation id of the n-th trace (from 1) of
// the generator with this seed.
func BenchCorrelationID(seed, n uint64) string { return fmt.Sprintf("olly-%x-%08x", seed, n) }

// RandomBenchCorrelationID picks the correlation id of a random trace of a
// fixture written by BenchBatches with tracesPerWriter traces per writer.
func RandomBenchCorrelationID(rng *rand.Rand, tracesPerWriter int) string {
	seed := uint64(1 + rng.IntN(BenchWriters))
	return BenchCorrelationID(seed, uint64(1+rng.IntN(tracesPerWriter)))
}

// BenchBatches generates writer w's share (w from 0 to BenchWriters-1) of
// the benchmark fixture ending at end: tracesPerWriter traces in batches of
// BenchTracesPerBatch, their times advancing with the batches over the
// BenchSpan before end as live traffic does, and calls write with each
// batch's spans and logs, stopping at its first error.
func BenchBatches(w, tracesPerWriter int, end time.Time, write func(ptrace.Traces, plog.Logs) error) error {
	gen := NewBenchGen(uint64(w + 1))
	batches := tracesPerWriter / BenchTracesPerBatch
	for i := range batches {
		from := end.Add(-BenchSpan + time.Duration(i)*BenchSpan/time.Duration(batches))
		to := from.Add(BenchSpan / time.Duration(batches))
		logs := plog.NewLogs()
		td := gen.Batch(BenchTracesPerBatch, from, to, logs)
		if err := write(td, logs); err != nil {
			return err
		}
	}
	return nil
}

func (g *BenchGen) traceID() pcommon.TraceID {
	var id pcommon.TraceID
	binary.BigEndian.PutUint64(id[:8], g.rng.Uint64())
	binary.BigEndian.PutUint64(id[8:], g.rng.Uint64())
	return id
}

func (g *BenchGen) spanID() pcommon.SpanID {
	var id pcommon.SpanID
	binary.BigEndian.PutUint64(id[:], g.rng.Uint64()|1)
	return id
}

type benchSpan struct {
	service, name string
	kind          ptrace.SpanKind
	parent        int
	startOff, dur time.Duration
}

// addTrace appends one 10-span trace starting at start, and its 3 logs to
// withLogs unless that is the zero plog.Logs.
func (g *BenchGen) addTrace(td ptrace.Traces, start time.Time, withLogs plog.Logs) {
	g.seq++
	tid := g.traceID()
	corr := BenchCorrelationID(g.seed, g.seq)
	backend := BenchServices[2+g.rng.IntN(3)]
	base := time.Duration(5+g.rng.ExpFloat64()*20) * time.Millisecond
	isErr := g.rng.IntN(50) == 0
	layout := []benchSpan{
		{"frontend", "POST /api/checkout", ptrace.SpanKindServer, -1, 0, 10 * base},
		{"frontend", "render cart", ptrace.SpanKindInternal, 0, base / 10, base},
		{"frontend", "POST checkout/Checkout", ptrace.SpanKindClient, 0, base, 8 * base},
		{"checkout", "Checkout", ptrace.SpanKindServer, 2, base + base/10, 7 * base},
		{"checkout", "SELECT carts", ptrace.SpanKindClient, 3, 2 * base, base / 2},
		{"checkout", "validate order", ptrace.SpanKindInternal, 3, 3 * base, base / 3},
		{"checkout", "POST " + backend + "/Do", ptrace.SpanKindClient, 3, 4 * base, 3 * base},
		{backend, "Do", ptrace.SpanKindServer, 6, 4*base + base/10, 2 * base},
		{backend, "SELECT items", ptrace.SpanKindClient, 7, 4*base + base/5, base},
		{backend, "publish event", ptrace.SpanKindProducer, 7, 5 * base, base / 5},
	}
	ids := make([]pcommon.SpanID, len(layout))
	bySvc := map[string]ptrace.SpanSlice{}
	for i, l := range layout {
		spans, ok := bySvc[l.service]
		if !ok {
			rs := td.ResourceSpans().AppendEmpty()
			attrs := rs.Resource().Attributes()
			attrs.PutStr("service.name", l.service)
			attrs.PutStr("service.version", "1.4.2")
			attrs.PutStr("service.namespace", "shop")
			attrs.PutStr("host.name", g.host)
			attrs.PutStr("k8s.pod.name", l.service+"-7d9c5b6f4-x2x9z")
			attrs.PutStr("deployment.environment.name", "prod")
			attrs.PutStr("telemetry.sdk.language", "go")
			attrs.PutStr("telemetry.sdk.version", "1.38.0")
			ss := rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp")
			spans = ss.Spans()
			bySvc[l.service] = spans
		}
		sp := spans.AppendEmpty()
		ids[i] = g.spanID()
		sp.SetTraceID(tid)
		sp.SetSpanID(ids[i])
		if l.parent >= 0 {
			sp.SetParentSpanID(ids[l.parent])
		}
		sp.SetName(l.name)
		sp.SetKind(l.kind)
		st := start.Add(l.startOff)
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(st))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(st.Add(l.dur)))
		a := sp.Attributes()
		a.PutStr("correlation_id", corr)
		a.PutStr("http.request.method", "POST")
		a.PutStr("url.path", "/api/checkout")
		a.PutInt("http.response.status_code", 200)
		a.PutStr("server.address", l.service+".shop.svc.cluster.local")
		a.PutStr("enduser.id", fmt.Sprintf("user-%d", g.rng.IntN(100000)))
		if isErr && l.service == backend {
			sp.Status().SetCode(ptrace.StatusCodeError)
			sp.Status().SetMessage("upstream timeout")
		}
		if withLogs != (plog.Logs{}) && (i == 0 || i == 3 || i == 7) {
			lr := withLogs.ResourceLogs().AppendEmpty()
			lr.Resource().Attributes().PutStr("service.name", l.service)
			rec := lr.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
			rec.SetTimestamp(pcommon.NewTimestampFromTime(st.Add(time.Millisecond)))
			rec.SetTraceID(tid)
			rec.SetSpanID(ids[i])
			rec.SetSeverityNumber(plog.SeverityNumberInfo)
			rec.SetSeverityText("INFO")
			rec.Body().SetStr("handled " + l.name + " for order " + corr)
			rec.Attributes().PutStr("correlation_id", corr)
		}
	}
}

// Batch makes one ptrace.Traces of nTraces traces starting at random times
// in [from, to), appending their logs to logs unless it is the zero
// plog.Logs (plog.Logs{}: no logs).
func (g *BenchGen) Batch(nTraces int, from, to time.Time, logs plog.Logs) ptrace.Traces {
	td := ptrace.NewTraces()
	span := to.Sub(from)
	for range nTraces {
		start := from.Add(time.Duration(g.rng.Int64N(int64(span))))
		g.addTrace(td, start, logs)
	}
	return td
}

// ReportLatencies adds the p50, p95 and p99 of the measured durations, in
// milliseconds, to the benchmark's output. It sorts d.
func ReportLatencies(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	at := func(q float64) float64 {
		return float64(d[min(len(d)-1, int(q*float64(len(d))))]) / 1e6
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}
