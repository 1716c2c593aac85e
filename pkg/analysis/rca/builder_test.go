package rca

import (
	"encoding/binary"
	"strconv"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// t0 is the start of every test trace; traces are spaced a second apart.
var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const ms = time.Millisecond

// traceBuilder builds the spans, logs and metric points of test traces.
type traceBuilder struct {
	trace   signalstore.TraceID
	base    time.Time
	nextID  uint64
	spans   []signalstore.Span
	logs    []signalstore.LogRecord
	metrics []signalstore.MetricPoint
	// versions is service.version per service.
	versions map[string]string
}

func newTraceBuilder(n int) *traceBuilder {
	b := &traceBuilder{base: t0.Add(time.Duration(n) * time.Second), versions: map[string]string{}}
	binary.BigEndian.PutUint64(b.trace[8:], uint64(n)+1)
	b.nextID = uint64(n) << 20
	return b
}

type spanMod func(*signalstore.Span)

func failed(msg string) spanMod {
	return func(s *signalstore.Span) { s.StatusCode, s.StatusMessage = signalstore.StatusCodeError, msg }
}

func attr(k, v string) spanMod {
	return func(s *signalstore.Span) {
		if s.SpanAttributes == nil {
			s.SpanAttributes = map[string]string{}
		}
		s.SpanAttributes[k] = v
	}
}

// add appends a span starting at start (from the trace base) lasting dur.
func (b *traceBuilder) add(parent signalstore.SpanID, service, name, kind string, start, dur time.Duration, mods ...spanMod) signalstore.SpanID {
	b.nextID++
	var id signalstore.SpanID
	binary.BigEndian.PutUint64(id[:], b.nextID)
	s := signalstore.Span{
		Timestamp: b.base.Add(start), TraceID: b.trace, SpanID: id, ParentSpanID: parent,
		SpanName: name, SpanKind: kind, ServiceName: service, Duration: dur, StatusCode: signalstore.StatusCodeUnset,
	}
	if v := b.versions[service]; v != "" {
		s.ResourceAttributes = map[string]string{"service.version": v}
	}
	for _, m := range mods {
		m(&s)
	}
	b.spans = append(b.spans, s)
	return id
}

func (b *traceBuilder) log(span signalstore.SpanID, service, severity string, at time.Duration, body string) {
	number := map[string]int32{"INFO": 9, "WARN": 13, "ERROR": 17}[severity]
	l := signalstore.LogRecord{
		Timestamp: b.base.Add(at), TraceID: b.trace, SpanID: span, SeverityText: severity,
		SeverityNumber: number, ServiceName: service, Body: body,
	}
	if v := b.versions[service]; v != "" {
		l.ResourceAttributes = map[string]string{"service.version": v}
	}
	b.logs = append(b.logs, l)
}

func (b *traceBuilder) gauge(service, name string, value float64, attrs map[string]string) {
	b.metrics = append(b.metrics, signalstore.MetricPoint{
		MetricType: signalstore.MetricTypeGauge, MetricName: name, ServiceName: service,
		Attributes: attrs, TimeUnix: b.base, Value: value,
	})
}

func (b *traceBuilder) context() Context {
	return Context{Spans: b.spans, Logs: b.logs, Metrics: b.metrics}
}

// shopFault selects the fault injected into a shop trace.
type shopFault struct {
	poolExhausted bool          // payment cannot get a DB connection
	slowShipping  time.Duration // extra self time in shipping's rate computation
	badDeploy     bool          // checkout runs a new version that panics
	retryStorm    int           // checkout calls an overloaded inventory this many times
}

// Versions of the healthy shop.
var shopVersions = map[string]string{
	"frontend": "1.8.0", "checkout": "2.3.1", "inventory": "0.9.4", "payment": "3.1.0", "shipping": "1.2.2",
}

// shopTrace builds one checkout request through a five-service shop:
//
//	frontend GET /checkout
//	└─ checkout POST /checkout
//	   ├─ inventory GET /stock → SELECT stock (postgresql)
//	   ├─ payment POST /charge → INSERT payments (postgresql)
//	   └─ shipping POST /quote → compute rates
//
// n varies the timings a little so the baseline has a spread; fault injects
// one failure. It returns the builder holding the trace.
func shopTrace(n int, fault shopFault) *traceBuilder {
	b := newTraceBuilder(n)
	for k, v := range shopVersions {
		b.versions[k] = v
	}
	if fault.badDeploy {
		b.versions["checkout"] = "2.4.0"
	}
	j := time.Duration(n%7) * ms / 2 // deterministic jitter, 0..3ms
	fe := b.add(signalstore.SpanID{}, "frontend", "GET /checkout", "Server", 0, 0)
	feCall := b.add(fe, "frontend", "POST /checkout", "Client", 2*ms, 0)
	co := b.add(feCall, "checkout", "POST /checkout", "Server", 3*ms, 0)
	cursor := 5 * ms
	var failure string

	// Inventory: normally one call; in a retry storm every attempt times out
	// on the client at 50ms while the overloaded server keeps working.
	attempts := max(1, fault.retryStorm)
	for range attempts {
		if fault.retryStorm > 0 {
			call := b.add(co, "checkout", "GET /stock", "Client", cursor, 50*ms, failed("context deadline exceeded"), attr("peer.service", "inventory"))
			// Overloaded: the server queues the request before its usual
			// query, and answers after the client has given up.
			srv := b.add(call, "inventory", "GET /stock", "Server", cursor+1*ms, 120*ms)
			b.add(srv, "inventory", "SELECT stock", "Client", cursor+108*ms, 10*ms, attr("db.system", "postgresql"))
			b.log(call, "checkout", "WARN", cursor+50*ms, "retrying inventory call attempt failed: context deadline exceeded")
			cursor += 52 * ms
			failure = "inventory unavailable"
			continue
		}
		call := b.add(co, "checkout", "GET /stock", "Client", cursor, 20*ms+j, attr("peer.service", "inventory"))
		srv := b.add(call, "inventory", "GET /stock", "Server", cursor+1*ms, 18*ms+j)
		b.add(srv, "inventory", "SELECT stock", "Client", cursor+3*ms, 10*ms+j, attr("db.system", "postgresql"))
		cursor += 21*ms + j
	}

	// Payment.
	if failure == "" {
		if fault.poolExhausted {
			call := b.add(co, "checkout", "POST /charge", "Client", cursor, 33*ms, failed("500 Internal Server Error"), attr("peer.service", "payment"))
			srv := b.add(call, "payment", "POST /charge", "Server", cursor+1*ms, 31*ms, failed("connection pool exhausted"))
			b.log(srv, "payment", "ERROR", cursor+31*ms, "HikariPool-1 - Connection is not available, request timed out after 30000ms (total=50, active=50, idle=0, waiting=12)")
			b.log(srv, "payment", "ERROR", cursor+31*ms, "connection pool exhausted: active=50 idle=0 waiting=12")
			cursor += 34 * ms
			failure = "payment failed"
		} else {
			call := b.add(co, "checkout", "POST /charge", "Client", cursor, 30*ms+j, attr("peer.service", "payment"))
			srv := b.add(call, "payment", "POST /charge", "Server", cursor+1*ms, 28*ms+j)
			b.add(srv, "payment", "INSERT payments", "Client", cursor+5*ms, 12*ms+j, attr("db.system", "postgresql"))
			b.log(srv, "payment", "INFO", cursor+20*ms, "charge accepted for order "+strconv.Itoa(4711+n)+" amount 12.50 EUR")
			cursor += 31*ms + j
		}
	}
	usage := float64(8 + n%5)
	if fault.poolExhausted {
		usage = 50
		b.gauge("payment", "db.client.connections.pending_requests", 12, map[string]string{"pool.name": "payments"})
	}
	b.gauge("payment", "db.client.connections.usage", usage, map[string]string{"pool.name": "payments", "state": "used"})
	b.gauge("payment", "db.client.connections.max", 50, map[string]string{"pool.name": "payments"})
	b.gauge("shipping", "system.cpu.utilization", 0.35, nil)

	// Shipping.
	if failure == "" {
		rates := 15*ms + j + fault.slowShipping
		call := b.add(co, "checkout", "POST /quote", "Client", cursor, rates+4*ms, attr("peer.service", "shipping"))
		srv := b.add(call, "shipping", "POST /quote", "Server", cursor+1*ms, rates+2*ms)
		b.add(srv, "shipping", "compute rates", "Internal", cursor+2*ms, rates)
		cursor += rates + 5*ms
	}

	if fault.badDeploy {
		cursor += 2 * ms
		failure = "checkout panicked"
		b.log(co, "checkout", "ERROR", cursor, "panic: runtime error: invalid memory address or nil pointer dereference in cart.Total")
	}
	b.log(co, "checkout", "INFO", cursor, "checkout finished for cart "+strconv.Itoa(900+n))
	b.finish(co, cursor+1*ms, failure)
	b.finish(feCall, cursor+2*ms, failure)
	b.finish(fe, cursor+3*ms, failure)
	return b
}

// finish sets the duration of an open span ending at end, failed when
// failure is not empty.
func (b *traceBuilder) finish(id signalstore.SpanID, end time.Duration, failure string) {
	for i := range b.spans {
		if b.spans[i].SpanID == id {
			b.spans[i].Duration = b.base.Add(end).Sub(b.spans[i].Timestamp)
			if failure != "" {
				failed(failure)(&b.spans[i])
			}
		}
	}
}

// shopBaseline is the baseline of 60 healthy shop requests.
func shopBaseline() Baseline {
	var spans []signalstore.Span
	var logs []signalstore.LogRecord
	for n := range 60 {
		b := shopTrace(n, shopFault{})
		spans = append(spans, b.spans...)
		logs = append(logs, b.logs...)
	}
	return BaselineFromSpans(spans, logs)
}
