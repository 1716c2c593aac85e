package correlateapiextension

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/internal/httpapi"
	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/pkg/signalstore/embedded"
	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
)

// openStore opens a real embedded store in a temporary directory.
func openStore(tb testing.TB) *embedded.Store {
	tb.Helper()
	cfg := embedded.NewDefaultConfig()
	cfg.Path = filepath.Join(tb.TempDir(), "signals.db")
	cfg.Sync = embedded.SyncNormal
	store, err := embedded.Open(context.Background(), cfg, zap.NewNop())
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, store.Close()) })
	return store
}

// scenario is one business request crossing three services and a queue:
//
//	trace A: gateway POST /checkout (root) → orders POST /orders → orders publish (producer)
//	trace B: payments consume (consumer, links to A) → payments charge (error, exception)
//
// Both traces carry the explicit id; trace B's child was exported before its
// root. Logs are joined by trace id only (no id attribute) except one that
// carries only the id; a histogram exemplar names trace B. Trace C carries
// no id at all and is reached through its derived id.
type scenario struct {
	base                     time.Time
	id                       string
	traceA, traceB, traceC   signalstore.TraceID
	gatewayRoot, ordersSrv   signalstore.SpanID
	ordersProduce            signalstore.SpanID
	paymentsConsume, payment signalstore.SpanID
	derivedID                string
}

func newScenario(base time.Time) *scenario {
	s := &scenario{base: base.UTC().Truncate(time.Millisecond), id: "olly-2k8f9x3-a7b2c4d1"}
	s.traceA = signalstore.TraceID{0xa1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	s.traceB = signalstore.TraceID{0xb2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	s.traceC = signalstore.TraceID{0xc3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	s.gatewayRoot = signalstore.SpanID{0xa1, 0, 0, 0, 0, 0, 0, 1}
	s.ordersSrv = signalstore.SpanID{0xa1, 0, 0, 0, 0, 0, 0, 2}
	s.ordersProduce = signalstore.SpanID{0xa1, 0, 0, 0, 0, 0, 0, 3}
	s.paymentsConsume = signalstore.SpanID{0xb2, 0, 0, 0, 0, 0, 0, 1}
	s.payment = signalstore.SpanID{0xb2, 0, 0, 0, 0, 0, 0, 2}
	s.derivedID = correlationid.Derive("olly", s.traceC)
	return s
}

func (s *scenario) at(ms int) time.Time { return s.base.Add(time.Duration(ms) * time.Millisecond) }

type spanDef struct {
	service  string
	resource map[string]string
	trace    signalstore.TraceID
	id       signalstore.SpanID
	parent   signalstore.SpanID
	name     string
	kind     ptrace.SpanKind
	startMs  int
	durMs    int
	err      string
	corr     string
	attrs    map[string]string
	link     *signalstore.TraceID
	linkSpan signalstore.SpanID
}

func (s *scenario) traces(defs ...spanDef) ptrace.Traces {
	td := ptrace.NewTraces()
	for _, d := range defs {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", d.service)
		for k, v := range d.resource {
			rs.Resource().Attributes().PutStr(k, v)
		}
		sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		sp.SetTraceID(pcommon.TraceID(d.trace))
		sp.SetSpanID(pcommon.SpanID(d.id))
		sp.SetParentSpanID(pcommon.SpanID(d.parent))
		sp.SetName(d.name)
		sp.SetKind(d.kind)
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(s.at(d.startMs)))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(s.at(d.startMs + d.durMs)))
		if d.corr != "" {
			sp.Attributes().PutStr(signalstore.DefaultCorrelationAttribute, d.corr)
		}
		for k, v := range d.attrs {
			sp.Attributes().PutStr(k, v)
		}
		if d.err != "" {
			sp.Status().SetCode(ptrace.StatusCodeError)
			sp.Status().SetMessage(d.err)
			ev := sp.Events().AppendEmpty()
			ev.SetName("exception")
			ev.SetTimestamp(pcommon.NewTimestampFromTime(s.at(d.startMs + d.durMs - 1)))
			ev.Attributes().PutStr("exception.type", "PoolTimeoutError")
			ev.Attributes().PutStr("exception.message", d.err)
		}
		if d.link != nil {
			l := sp.Links().AppendEmpty()
			l.SetTraceID(pcommon.TraceID(*d.link))
			l.SetSpanID(pcommon.SpanID(d.linkSpan))
		}
	}
	return td
}

type logDef struct {
	service  string
	trace    signalstore.TraceID
	span     signalstore.SpanID
	ms       int
	severity plog.SeverityNumber
	body     string
	corr     string
}

func (s *scenario) logs(defs ...logDef) plog.Logs {
	ld := plog.NewLogs()
	for _, d := range defs {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", d.service)
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(s.at(d.ms)))
		lr.SetTraceID(pcommon.TraceID(d.trace))
		lr.SetSpanID(pcommon.SpanID(d.span))
		lr.SetSeverityNumber(d.severity)
		lr.SetSeverityText(d.severity.String())
		lr.Body().SetStr(d.body)
		if d.corr != "" {
			lr.Attributes().PutStr(signalstore.DefaultCorrelationAttribute, d.corr)
		}
	}
	return ld
}

// latencyPoint is a delta latency histogram point of service over the
// minute before ms.
func (s *scenario) latencyPoint(service string, ms int) (pmetric.Metrics, pmetric.HistogramDataPoint) {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", service)
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("http.server.request.duration")
	m.SetUnit("s")
	h := m.SetEmptyHistogram()
	h.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	dp := h.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(pcommon.NewTimestampFromTime(s.at(ms - 60_000)))
	dp.SetTimestamp(pcommon.NewTimestampFromTime(s.at(ms)))
	return md, dp
}

// metrics is a latency histogram whose exemplar names the failed payment.
func (s *scenario) metrics() pmetric.Metrics {
	md, dp := s.latencyPoint("payments", 400)
	dp.SetCount(2)
	dp.SetSum(2.5)
	dp.ExplicitBounds().FromRaw([]float64{0.1, 1})
	dp.BucketCounts().FromRaw([]uint64{0, 1, 1})
	ex := dp.Exemplars().AppendEmpty()
	ex.SetTimestamp(pcommon.NewTimestampFromTime(s.at(350)))
	ex.SetDoubleValue(2.2)
	ex.SetTraceID(pcommon.TraceID(s.traceB))
	ex.SetSpanID(pcommon.SpanID(s.payment))
	return md
}

// exemplarPoint is a latency histogram point of service at ms holding one
// exemplar per trace, as a point aggregating several requests does.
func (s *scenario) exemplarPoint(service string, ms int, traces ...signalstore.TraceID) pmetric.Metrics {
	md, dp := s.latencyPoint(service, ms)
	dp.SetCount(uint64(len(traces)))
	dp.SetSum(float64(len(traces)))
	for i, trace := range traces {
		ex := dp.Exemplars().AppendEmpty()
		ex.SetTimestamp(pcommon.NewTimestampFromTime(s.at(ms - len(traces) + i)))
		ex.SetDoubleValue(1)
		ex.SetTraceID(pcommon.TraceID(trace))
	}
	return md
}

// write stores the scenario, children before their roots as SDKs export
// them.
func (s *scenario) write(tb testing.TB, w signalstore.Writer) {
	tb.Helper()
	ctx := context.Background()
	a := s.traceA
	// Trace B's failing child arrives first.
	require.NoError(tb, w.WriteTraces(ctx, s.traces(
		spanDef{service: "payments", trace: s.traceB, id: s.payment, parent: s.paymentsConsume, name: "charge card",
			kind: ptrace.SpanKindClient, startMs: 220, durMs: 150, err: "connection pool exhausted after 30000 ms", corr: s.id},
		spanDef{service: "orders", trace: s.traceA, id: s.ordersProduce, parent: s.ordersSrv, name: "orders publish",
			kind: ptrace.SpanKindProducer, startMs: 60, durMs: 10, corr: s.id},
	)))
	require.NoError(tb, w.WriteTraces(ctx, s.traces(
		spanDef{service: "gateway", resource: map[string]string{"tenant.id": "acme"}, trace: s.traceA, id: s.gatewayRoot,
			name: "POST /checkout", kind: ptrace.SpanKindServer, startMs: 0, durMs: 120, corr: s.id,
			attrs: map[string]string{"enduser.id": "user-42"}},
		spanDef{service: "orders", trace: s.traceA, id: s.ordersSrv, parent: s.gatewayRoot, name: "POST /orders",
			kind: ptrace.SpanKindServer, startMs: 20, durMs: 80, corr: s.id},
		spanDef{service: "payments", trace: s.traceB, id: s.paymentsConsume, name: "orders process",
			kind: ptrace.SpanKindConsumer, startMs: 200, durMs: 200, err: "connection pool exhausted after 30001 ms", corr: s.id,
			link: &a, linkSpan: s.ordersProduce},
		spanDef{service: "orders", trace: s.traceC, id: signalstore.SpanID{0xc3, 0, 0, 0, 0, 0, 0, 1},
			name: "GET /orders", kind: ptrace.SpanKindServer, startMs: 1000, durMs: 5},
	)))
	require.NoError(tb, w.WriteLogs(ctx, s.logs(
		logDef{service: "orders", trace: s.traceA, span: s.ordersSrv, ms: 30, severity: plog.SeverityNumberInfo, body: "order 1234 created"},
		logDef{service: "payments", trace: s.traceB, span: s.payment, ms: 360, severity: plog.SeverityNumberError, body: "charge failed: pool exhausted"},
		logDef{service: "gateway", ms: 125, severity: plog.SeverityNumberWarn, body: "slow checkout", corr: s.id},
		logDef{service: "orders", trace: s.traceC, ms: 1002, severity: plog.SeverityNumberInfo, body: "listed orders"},
	)))
	require.NoError(tb, w.WriteMetrics(ctx, s.metrics()))
}

// errorBody is the JSON error shape of every non-2xx answer.
type errorBody struct {
	Error *httpapi.Error `json:"error"`
}
