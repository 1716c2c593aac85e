package signalstoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// fixture names everything a test writes with a run-unique prefix and
// places it at a fixed base time a few minutes ago, on whole milliseconds
// (every backend keeps at least that precision).
type fixture struct {
	prefix string
	base   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &fixture{
		prefix: "sst" + hex.EncodeToString(b),
		base:   time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second),
	}
}

func (f *fixture) svc(name string) string  { return f.prefix + "-" + name }
func (f *fixture) corr(name string) string { return f.prefix + "-" + name }
func (f *fixture) at(offset time.Duration) time.Time {
	return f.base.Add(offset)
}

// window is a time range around the fixture's data.
func (f *fixture) window() signalstore.TimeRange {
	return signalstore.TimeRange{Start: f.base.Add(-time.Hour), End: f.base.Add(time.Hour)}
}

func newTraceID() signalstore.TraceID {
	var id signalstore.TraceID
	_, _ = rand.Read(id[:])
	return id
}

func newSpanID() signalstore.SpanID {
	var id signalstore.SpanID
	_, _ = rand.Read(id[:])
	id[0] |= 1 // never all zeros
	return id
}

// spanSpec describes one span; want() gives the model the reader returns.
type spanSpec struct {
	service    string
	resource   map[string]string // extra resource attributes
	scope      string
	traceID    signalstore.TraceID
	spanID     signalstore.SpanID
	parent     signalstore.SpanID
	name       string
	kind       ptrace.SpanKind
	start      time.Time
	duration   time.Duration
	status     ptrace.StatusCode
	statusMsg  string
	corr       string
	attrs      map[string]string
	traceState string
	events     []signalstore.SpanEvent
	links      []signalstore.SpanLink
}

const corrAttr = signalstore.DefaultCorrelationAttribute

func (s spanSpec) want() signalstore.Span {
	attrs := map[string]string{}
	for k, v := range s.attrs {
		attrs[k] = v
	}
	if s.corr != "" {
		attrs[corrAttr] = s.corr
	}
	res := map[string]string{"service.name": s.service}
	for k, v := range s.resource {
		res[k] = v
	}
	return signalstore.Span{
		Timestamp:          s.start.UTC(),
		TraceID:            s.traceID,
		SpanID:             s.spanID,
		ParentSpanID:       s.parent,
		TraceState:         s.traceState,
		SpanName:           s.name,
		SpanKind:           s.kind.String(),
		ServiceName:        s.service,
		ResourceAttributes: res,
		ScopeName:          s.scope,
		SpanAttributes:     nilIfEmpty(attrs),
		Duration:           s.duration,
		StatusCode:         s.status.String(),
		StatusMessage:      s.statusMsg,
		Events:             s.events,
		Links:              s.links,
		CorrelationID:      s.corr,
	}
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func putAttrs(m pcommon.Map, attrs map[string]string) {
	for k, v := range attrs {
		m.PutStr(k, v)
	}
}

// tracesOf builds one ptrace.Traces, a ResourceSpans per span so that each
// span carries its own resource.
func tracesOf(specs ...spanSpec) ptrace.Traces {
	td := ptrace.NewTraces()
	for _, s := range specs {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", s.service)
		putAttrs(rs.Resource().Attributes(), s.resource)
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName(s.scope)
		sp := ss.Spans().AppendEmpty()
		sp.SetTraceID(pcommon.TraceID(s.traceID))
		sp.SetSpanID(pcommon.SpanID(s.spanID))
		sp.SetParentSpanID(pcommon.SpanID(s.parent))
		sp.TraceState().FromRaw(s.traceState)
		sp.SetName(s.name)
		sp.SetKind(s.kind)
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(s.start))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(s.start.Add(s.duration)))
		sp.Status().SetCode(s.status)
		sp.Status().SetMessage(s.statusMsg)
		putAttrs(sp.Attributes(), s.attrs)
		if s.corr != "" {
			sp.Attributes().PutStr(corrAttr, s.corr)
		}
		for _, e := range s.events {
			ev := sp.Events().AppendEmpty()
			ev.SetTimestamp(pcommon.NewTimestampFromTime(e.Timestamp))
			ev.SetName(e.Name)
			putAttrs(ev.Attributes(), e.Attributes)
		}
		for _, l := range s.links {
			link := sp.Links().AppendEmpty()
			link.SetTraceID(pcommon.TraceID(l.TraceID))
			link.SetSpanID(pcommon.SpanID(l.SpanID))
			link.TraceState().FromRaw(l.TraceState)
			putAttrs(link.Attributes(), l.Attributes)
		}
	}
	return td
}

type logSpec struct {
	service  string
	traceID  signalstore.TraceID
	spanID   signalstore.SpanID
	ts       time.Time
	severity plog.SeverityNumber
	sevText  string
	body     string
	corr     string
	attrs    map[string]string
}

func (l logSpec) want() signalstore.LogRecord {
	attrs := map[string]string{}
	for k, v := range l.attrs {
		attrs[k] = v
	}
	if l.corr != "" {
		attrs[corrAttr] = l.corr
	}
	return signalstore.LogRecord{
		Timestamp:          l.ts.UTC(),
		TraceID:            l.traceID,
		SpanID:             l.spanID,
		SeverityText:       l.sevText,
		SeverityNumber:     int32(l.severity),
		ServiceName:        l.service,
		Body:               l.body,
		ResourceAttributes: map[string]string{"service.name": l.service},
		LogAttributes:      nilIfEmpty(attrs),
		CorrelationID:      l.corr,
	}
}

func logsOf(specs ...logSpec) plog.Logs {
	ld := plog.NewLogs()
	for _, l := range specs {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", l.service)
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(l.ts))
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(l.ts))
		lr.SetTraceID(pcommon.TraceID(l.traceID))
		lr.SetSpanID(pcommon.SpanID(l.spanID))
		lr.SetSeverityNumber(l.severity)
		lr.SetSeverityText(l.sevText)
		lr.Body().SetStr(l.body)
		putAttrs(lr.Attributes(), l.attrs)
		if l.corr != "" {
			lr.Attributes().PutStr(corrAttr, l.corr)
		}
	}
	return ld
}

func writeTraces(t *testing.T, s *StoreUnderTest, specs ...spanSpec) {
	t.Helper()
	if err := s.Writer.WriteTraces(context.Background(), tracesOf(specs...)); err != nil {
		t.Fatalf("WriteTraces: %v", err)
	}
}

func writeLogs(t *testing.T, s *StoreUnderTest, specs ...logSpec) {
	t.Helper()
	if err := s.Writer.WriteLogs(context.Background(), logsOf(specs...)); err != nil {
		t.Fatalf("WriteLogs: %v", err)
	}
}

func writeMetrics(t *testing.T, s *StoreUnderTest, md pmetric.Metrics) {
	t.Helper()
	if err := s.Writer.WriteMetrics(context.Background(), md); err != nil {
		t.Fatalf("WriteMetrics: %v", err)
	}
}

// checkoutFlow is the suite's main scenario: one business request with an
// explicit correlation id crossing frontend → checkout → payments (error),
// plus a queue consumer in a second trace carrying the same id, children
// written before their roots, and an unrelated trace with another id.
type checkoutFlow struct {
	f                      *fixture
	id, otherID            string
	traceA, traceB, traceC signalstore.TraceID
	spans                  []spanSpec // all spans of traces A and B
	root, client, server   spanSpec
	payment, consumer      spanSpec
	other                  spanSpec
}

func newCheckoutFlow(f *fixture) *checkoutFlow {
	c := &checkoutFlow{f: f, id: f.corr("order-42"), otherID: f.corr("other"),
		traceA: newTraceID(), traceB: newTraceID(), traceC: newTraceID()}
	c.root = spanSpec{service: f.svc("frontend"), resource: map[string]string{"host.name": "web-1"}, scope: "frontend/http",
		traceID: c.traceA, spanID: newSpanID(), name: "POST /checkout", kind: ptrace.SpanKindServer,
		start: f.at(0), duration: 120 * time.Millisecond, status: ptrace.StatusCodeError, statusMsg: "payment failed",
		corr: c.id, attrs: map[string]string{"http.request.method": "POST", "http.response.status_code": "502"},
		traceState: "vendor=1"}
	c.client = spanSpec{service: f.svc("frontend"), resource: map[string]string{"host.name": "web-1"}, scope: "frontend/http",
		traceID: c.traceA, spanID: newSpanID(), parent: c.root.spanID, name: "POST checkout/pay", kind: ptrace.SpanKindClient,
		start: f.at(5 * time.Millisecond), duration: 100 * time.Millisecond, status: ptrace.StatusCodeError, corr: c.id}
	c.server = spanSpec{service: f.svc("checkout"), scope: "checkout/grpc",
		traceID: c.traceA, spanID: newSpanID(), parent: c.client.spanID, name: "Pay", kind: ptrace.SpanKindServer,
		start: f.at(10 * time.Millisecond), duration: 90 * time.Millisecond, status: ptrace.StatusCodeError, corr: c.id,
		attrs: map[string]string{"rpc.method": "Pay"},
		events: []signalstore.SpanEvent{{Timestamp: f.at(50 * time.Millisecond).UTC(), Name: "exception",
			Attributes: map[string]string{"exception.type": "PaymentDeclined", "exception.message": "card declined"}}}}
	c.payment = spanSpec{service: f.svc("payments"), scope: "payments/grpc",
		traceID: c.traceA, spanID: newSpanID(), parent: c.server.spanID, name: "Charge", kind: ptrace.SpanKindServer,
		start: f.at(20 * time.Millisecond), duration: 40 * time.Millisecond, status: ptrace.StatusCodeError,
		statusMsg: "declined", corr: c.id}
	c.consumer = spanSpec{service: f.svc("fulfilment"), scope: "fulfilment/queue",
		traceID: c.traceB, spanID: newSpanID(), name: "orders process", kind: ptrace.SpanKindConsumer,
		start: f.at(2 * time.Second), duration: 30 * time.Millisecond, status: ptrace.StatusCodeOk, corr: c.id,
		links: []signalstore.SpanLink{{TraceID: c.traceA, SpanID: c.server.spanID, TraceState: "",
			Attributes: map[string]string{"messaging.operation": "process"}}}}
	c.other = spanSpec{service: f.svc("frontend"), traceID: c.traceC, spanID: newSpanID(), name: "GET /health",
		kind: ptrace.SpanKindServer, start: f.at(3 * time.Second), duration: time.Millisecond,
		status: ptrace.StatusCodeUnset, corr: c.otherID}
	c.spans = []spanSpec{c.root, c.client, c.server, c.payment, c.consumer}
	return c
}

// write stores the flow in three batches, children first, as collectors
// see them in practice.
func (c *checkoutFlow) write(t *testing.T, s *StoreUnderTest) {
	t.Helper()
	writeTraces(t, s, c.payment, c.server)
	writeTraces(t, s, c.client, c.root, c.other)
	writeTraces(t, s, c.consumer)
}

func (c *checkoutFlow) logs() []logSpec {
	f := c.f
	return []logSpec{
		{service: f.svc("checkout"), traceID: c.traceA, spanID: c.server.spanID, ts: f.at(15 * time.Millisecond),
			severity: plog.SeverityNumberInfo, sevText: "INFO", body: "charging card for order 42", corr: c.id},
		{service: f.svc("payments"), traceID: c.traceA, spanID: c.payment.spanID, ts: f.at(55 * time.Millisecond),
			severity: plog.SeverityNumberError, sevText: "ERROR", body: "card declined: insufficient funds", corr: c.id,
			attrs: map[string]string{"exception.type": "PaymentDeclined"}},
		// No trace context, only the correlation id (e.g. an edge proxy).
		{service: f.svc("edge"), ts: f.at(-2 * time.Millisecond), severity: plog.SeverityNumberInfo, sevText: "INFO",
			body: "accepted POST /checkout", corr: c.id},
		{service: f.svc("fulfilment"), traceID: c.traceB, ts: f.at(2010 * time.Millisecond),
			severity: plog.SeverityNumberWarn, sevText: "WARN", body: "order 42 queued for manual review", corr: c.id},
		{service: f.svc("frontend"), traceID: c.traceC, ts: f.at(3 * time.Second),
			severity: plog.SeverityNumberDebug, sevText: "DEBUG", body: "health ok", corr: c.otherID},
	}
}

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
