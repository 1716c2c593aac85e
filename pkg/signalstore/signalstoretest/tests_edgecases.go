package signalstoretest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

var edgeCaseTests = []suiteTest{
	{"EmptyWrites", always, func(t *testing.T, s *StoreUnderTest) {
		if err := s.Writer.WriteTraces(ctx, ptrace.NewTraces()); err != nil {
			t.Errorf("WriteTraces(empty): %v", err)
		}
		if err := s.Writer.WriteLogs(ctx, plog.NewLogs()); err != nil {
			t.Errorf("WriteLogs(empty): %v", err)
		}
		if err := s.Writer.WriteMetrics(ctx, pmetric.NewMetrics()); err != nil {
			t.Errorf("WriteMetrics(empty): %v", err)
		}
	}},
	{"HugeAttributeValue", always, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		huge := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
		span := spanSpec{service: f.svc("blob"), traceID: newTraceID(), spanID: newSpanID(), name: "upload",
			kind: ptrace.SpanKindServer, start: f.at(0), duration: time.Millisecond, corr: f.corr("huge"),
			attrs: map[string]string{"payload": huge}}
		writeTraces(t, s, span)
		log := logSpec{service: f.svc("blob"), traceID: span.traceID, ts: f.at(0), body: huge, corr: f.corr("huge")}
		writeLogs(t, s, log)
		s.eventually(t, func() string {
			spans, err := s.Reader.SpansByTraceIDs(ctx, []signalstore.TraceID{span.traceID}, signalstore.TimeRange{}, 0)
			if err != nil {
				return err.Error()
			}
			if len(spans) != 1 || spans[0].SpanAttributes["payload"] != huge {
				return "the 1 MiB attribute did not round-trip"
			}
			logs, err := s.Reader.LogsByTraceIDs(ctx, []signalstore.TraceID{span.traceID}, signalstore.TimeRange{}, 0)
			if err != nil {
				return err.Error()
			}
			if len(logs) != 1 || logs[0].Body != huge {
				return "the 1 MiB log body did not round-trip"
			}
			return ""
		})
	}},
	{"Unicode", always, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		id := f.corr("заказ-注文-🛒")
		span := spanSpec{service: f.svc("café-服务"), resource: map[string]string{"région": "île-de-france"},
			traceID: newTraceID(), spanID: newSpanID(), name: "GET /produits/crème-brûlée 🍮", kind: ptrace.SpanKindServer,
			start: f.at(0), duration: time.Millisecond, corr: id,
			attrs: map[string]string{"ключ": "значение", "emoji 🔑": "✓", "quote\"and\\slash": "line\nbreak\ttab"}}
		writeTraces(t, s, span)
		log := logSpec{service: span.service, traceID: span.traceID, ts: f.at(0), body: "注文を受け付けました ✅", corr: id}
		writeLogs(t, s, log)
		s.eventually(t, func() string {
			ids, err := s.Reader.TraceIDsForCorrelation(ctx, id, signalstore.TimeRange{})
			if err != nil {
				return err.Error()
			}
			if msg := diff("trace ids", ids, []signalstore.TraceID{span.traceID}); msg != "" {
				return msg
			}
			spans, err := s.Reader.SpansByTraceIDs(ctx, ids, signalstore.TimeRange{}, 0)
			if err != nil {
				return err.Error()
			}
			if msg := diff("spans", spans, sortedSpans(span)); msg != "" {
				return msg
			}
			logs, err := s.Reader.LogsByCorrelationID(ctx, id, signalstore.TimeRange{}, 0)
			if err != nil {
				return err.Error()
			}
			return diff("logs", logs, sortedLogs(log))
		})
		if !s.Capabilities.SkipTypedQuery {
			q := fmt.Sprintf(`{"signal":"logs","last":"1h","filters":[{"field":"service_name","op":"eq","value":%q},
				{"field":"body","op":"contains","value":"受け付け"}],"aggregations":[{"func":"count"}]}`, span.service)
			mustQuery(t, s, q, func(r *signalstore.QueryResult) string {
				return diff("rows", r.Rows, [][]any{{int64(1)}})
			})
		}
	}},
	{"IdenticalTimestamps", always, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		trace := newTraceID()
		var specs []spanSpec
		for i := range 50 {
			specs = append(specs, spanSpec{service: f.svc("burst"), traceID: trace, spanID: newSpanID(),
				name: fmt.Sprintf("op-%02d", i), kind: ptrace.SpanKindInternal, start: f.at(0), duration: 0})
		}
		writeTraces(t, s, specs...)
		var logs []logSpec
		for i := range 20 {
			logs = append(logs, logSpec{service: f.svc("burst"), traceID: trace, ts: f.at(0), body: fmt.Sprintf("line %d", i)})
		}
		writeLogs(t, s, logs...)
		want := sortedSpans(specs...)
		s.eventually(t, func() string {
			got, err := s.Reader.SpansByTraceIDs(ctx, []signalstore.TraceID{trace}, signalstore.TimeRange{}, 0)
			if err != nil {
				return err.Error()
			}
			if msg := diff("spans", got, want); msg != "" {
				return msg
			}
			gotLogs, err := s.Reader.LogsByTraceIDs(ctx, []signalstore.TraceID{trace}, signalstore.TimeRange{}, 0)
			if err != nil {
				return err.Error()
			}
			if len(gotLogs) != 20 {
				return fmt.Sprintf("want 20 logs at one timestamp, got %d", len(gotLogs))
			}
			return ""
		})
	}},
	{"SpanWithoutCorrelationOrParent", always, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		span := spanSpec{service: f.svc("lonely"), traceID: newTraceID(), spanID: newSpanID(), name: "tick",
			kind: ptrace.SpanKindUnspecified, start: f.at(0), duration: time.Second}
		writeTraces(t, s, span)
		s.eventually(t, func() string {
			got, err := s.Reader.SpansByTraceIDs(ctx, []signalstore.TraceID{span.traceID}, signalstore.TimeRange{}, 0)
			if err != nil {
				return err.Error()
			}
			return diff("spans", got, sortedSpans(span))
		})
	}},
	{"CancelledContext", always, func(t *testing.T, s *StoreUnderTest) {
		cctx, cancel := contextWithCancel()
		cancel()
		if _, err := s.Reader.TraceIDsForCorrelation(cctx, "x", signalstore.TimeRange{}); err == nil {
			t.Error("TraceIDsForCorrelation with a cancelled context succeeded")
		}
		if _, err := s.Reader.Query(cctx, signalstore.Query{Signal: signalstore.SignalSpans}); err == nil {
			t.Error("Query with a cancelled context succeeded")
		}
	}},
}
