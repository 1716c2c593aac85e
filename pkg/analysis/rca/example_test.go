package rca_test

import (
	"fmt"
	"time"

	"github.com/ollystack/ollystack/pkg/analysis/rca"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

func Example() {
	start := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	trace := signalstore.TraceID{1}
	span := func(id, parent byte, service, name, kind string, at, dur time.Duration, failed bool) signalstore.Span {
		s := signalstore.Span{
			Timestamp: start.Add(at), TraceID: trace, SpanID: signalstore.SpanID{id},
			SpanName: name, SpanKind: kind, ServiceName: service, Duration: dur, StatusCode: "Unset",
		}
		if parent != 0 {
			s.ParentSpanID = signalstore.SpanID{parent}
		}
		if failed {
			s.StatusCode = signalstore.StatusCodeError
		}
		return s
	}
	ctx := rca.Context{
		Spans: []signalstore.Span{
			span(1, 0, "checkout", "POST /checkout", "Server", 0, 40*time.Millisecond, true),
			span(2, 1, "checkout", "POST /charge", "Client", 5*time.Millisecond, 32*time.Millisecond, true),
			span(3, 2, "payment", "POST /charge", "Server", 6*time.Millisecond, 30*time.Millisecond, true),
		},
		Logs: []signalstore.LogRecord{{
			TraceID: trace, SpanID: signalstore.SpanID{3}, ServiceName: "payment", SeverityNumber: 17,
			Body: "connection pool exhausted: active=50 idle=0 waiting=12",
		}},
		Metrics: []signalstore.MetricPoint{
			{MetricType: "gauge", MetricName: "db.client.connections.usage", ServiceName: "payment",
				Attributes: map[string]string{"state": "used"}, Value: 50},
			{MetricType: "gauge", MetricName: "db.client.connections.max", ServiceName: "payment", Value: 50},
		},
	}
	// A real caller builds the baseline from healthy history of the store,
	// e.g. rca.BaselineFromSpans(spans, logs); an empty one still finds
	// error origins, dependency failures and saturation.
	res := rca.Analyze(ctx, rca.Baseline{}, rca.Options{})
	for _, h := range res.Hypotheses {
		fmt.Printf("%-19s %-8s %-27s %.2f\n", h.Kind, h.Service, h.Operation, h.Confidence)
	}
	fmt.Println("critical path ends in", res.CriticalPath[len(res.CriticalPath)-1].Service)
	// Output:
	// resource_saturation payment  db.client.connections.usage 0.86
	// error_origin        payment  POST /charge                0.76
	// dependency_failure  payment  POST /charge                0.60
	// critical path ends in payment
}
