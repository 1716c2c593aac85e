package embedded

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// benchServices are the services of the synthetic workload; every trace
// crosses frontend → checkout → one backend, with client/server pairs.
var benchServices = []string{"frontend", "checkout", "payments", "inventory", "shipping"}

// benchGen makes realistic batches: 10-span traces over three services,
// ~6 span attributes and ~8 resource attributes, a correlation id per
// trace, 2% error traces, log-normal-ish latencies.
type benchGen struct {
	rng  *rand.Rand
	seq  uint64
	host string
}

func newBenchGen(seed uint64) *benchGen {
	return &benchGen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), host: fmt.Sprintf("node-%d", seed%7)}
}

func (g *benchGen) traceID() pcommon.TraceID {
	var id pcommon.TraceID
	binary.BigEndian.PutUint64(id[:8], g.rng.Uint64())
	binary.BigEndian.PutUint64(id[8:], g.rng.Uint64())
	return id
}

func (g *benchGen) spanID() pcommon.SpanID {
	var id pcommon.SpanID
	binary.BigEndian.PutUint64(id[:], g.rng.Uint64()|1)
	return id
}

// correlationIDFor is the correlation id of the n-th trace of a generator.
func correlationIDFor(seed, n uint64) string { return fmt.Sprintf("olly-%x-%08x", seed, n) }

type benchSpan struct {
	service, name string
	kind          ptrace.SpanKind
	parent        int
	startOff, dur time.Duration
}

// addTrace appends one 10-span trace starting at start and returns its id.
func (g *benchGen) addTrace(td ptrace.Traces, seed uint64, start time.Time, withLogs plog.Logs) pcommon.TraceID {
	g.seq++
	tid := g.traceID()
	corr := correlationIDFor(seed, g.seq)
	backend := benchServices[2+g.rng.IntN(3)]
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
	return tid
}

// batch makes one ptrace.Traces of nTraces traces spread over [from, to).
func (g *benchGen) batch(seed uint64, nTraces int, from, to time.Time, logs plog.Logs) ptrace.Traces {
	td := ptrace.NewTraces()
	span := to.Sub(from)
	for range nTraces {
		start := from.Add(time.Duration(g.rng.Int64N(int64(span))))
		g.addTrace(td, seed, start, logs)
	}
	return td
}
