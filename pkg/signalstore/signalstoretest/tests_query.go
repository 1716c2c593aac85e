package signalstoretest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

func skipQuery(c Capabilities) bool { return c.SkipTypedQuery }

// latencyFixture writes 100 server spans for "api" with durations 1..100 ms
// (every 10th an error) and 10 for "db" at 5 ms, all within the last hour.
func latencyFixture(t *testing.T, s *StoreUnderTest) *fixture {
	t.Helper()
	f := newFixture(t)
	var specs []spanSpec
	for i := 1; i <= 100; i++ {
		status := ptrace.StatusCodeOk
		if i%10 == 0 {
			status = ptrace.StatusCodeError
		}
		route := "/items"
		if i%2 == 0 {
			route = "/cart"
		}
		specs = append(specs, spanSpec{service: f.svc("api"), resource: map[string]string{"deployment.environment.name": "prod"},
			traceID: newTraceID(), spanID: newSpanID(), name: "GET " + route, kind: ptrace.SpanKindServer,
			start: f.at(time.Duration(i) * time.Second), duration: time.Duration(i) * time.Millisecond, status: status,
			attrs: map[string]string{"http.route": route}})
	}
	for i := range 10 {
		specs = append(specs, spanSpec{service: f.svc("db"), resource: map[string]string{"deployment.environment.name": "staging"},
			traceID: newTraceID(), spanID: newSpanID(), name: "SELECT", kind: ptrace.SpanKindClient,
			start: f.at(time.Duration(i) * time.Second), duration: 5 * time.Millisecond, status: ptrace.StatusCodeUnset})
	}
	writeTraces(t, s, specs...)
	return f
}

func mustQuery(t *testing.T, s *StoreUnderTest, text string, check func(*signalstore.QueryResult) string) {
	t.Helper()
	q, err := signalstore.ParseQuery([]byte(text))
	if err != nil {
		t.Fatalf("ParseQuery(%s): %v", text, err)
	}
	s.eventually(t, func() string {
		res, err := s.Reader.Query(ctx, *q)
		if err != nil {
			return fmt.Sprintf("Query(%s): %v", text, err)
		}
		if msg := check(res); msg != "" {
			out, _ := json.Marshal(res)
			return fmt.Sprintf("Query(%s): %s\nresult: %s", text, msg, out)
		}
		return ""
	})
}

func svcFilter(f *fixture, name string) string {
	return fmt.Sprintf(`{"field":"service_name","op":"eq","value":%q}`, f.svc(name))
}

var queryTests = []suiteTest{
	{"CountByService", skipQuery, func(t *testing.T, s *StoreUnderTest) {
		f := latencyFixture(t, s)
		q := fmt.Sprintf(`{"signal":"spans","last":"1h","filters":[{"field":"service_name","op":"contains","value":%q}],
			"group_by":[{"field":"service_name"}],"aggregations":[{"func":"count"},{"func":"max","field":"duration"}]}`, f.prefix)
		mustQuery(t, s, q, func(r *signalstore.QueryResult) string {
			want := &signalstore.QueryResult{
				Columns: []signalstore.Column{{Name: "service_name", Type: "string"}, {Name: "count", Type: "int"}, {Name: "max_duration", Type: "duration"}},
				Rows:    [][]any{{f.svc("api"), int64(100), 100 * time.Millisecond}, {f.svc("db"), int64(10), 5 * time.Millisecond}},
			}
			return diff("result", r, want)
		})
	}},
	{"PercentilesByService", skipQuery, func(t *testing.T, s *StoreUnderTest) {
		f := latencyFixture(t, s)
		q := fmt.Sprintf(`{"signal":"spans","last":"1h","filters":[%s],"group_by":[{"field":"service_name"}],
			"aggregations":[{"func":"p50","field":"duration"},{"func":"p95","field":"duration"},{"func":"p99","field":"duration"},
			{"func":"avg","field":"duration"},{"func":"min","field":"duration"}]}`, svcFilter(f, "api"))
		mustQuery(t, s, q, func(r *signalstore.QueryResult) string {
			if len(r.Rows) != 1 || len(r.Rows[0]) != 6 {
				return "want one row of 6 columns"
			}
			// Backends may interpolate (SQLite) or estimate (ClickHouse
			// quantile); both land within 5% of the exact order statistic.
			want := []time.Duration{50 * time.Millisecond, 95 * time.Millisecond, 99 * time.Millisecond, 50500 * time.Microsecond, time.Millisecond}
			for i, w := range want {
				got, ok := r.Rows[0][i+1].(time.Duration)
				if !ok || !withinRelative(got, w, 0.05) {
					return fmt.Sprintf("column %s = %v, want %v ±5%%", r.Columns[i+1].Name, r.Rows[0][i+1], w)
				}
			}
			return ""
		})
	}},
	{"RawRowsWithFilters", skipQuery, func(t *testing.T, s *StoreUnderTest) {
		f := latencyFixture(t, s)
		q := fmt.Sprintf(`{"signal":"spans","last":"1h","filters":[%s,
			{"field":"status_code","op":"eq","value":"Error"},
			{"field":"duration","op":"gte","value":"50ms"},
			{"field":"attribute","key":"http.route","op":"eq","value":"/cart"},
			{"field":"resource","key":"deployment.environment.name","op":"eq","value":"prod"}]}`, svcFilter(f, "api"))
		mustQuery(t, s, q, func(r *signalstore.QueryResult) string {
			// Errors are i%10==0; >=50ms and /cart (even): 50,60,70,80,90,100, newest first.
			if len(r.Rows) != 6 {
				return fmt.Sprintf("want 6 rows, got %d", len(r.Rows))
			}
			if msg := diff("columns", r.Columns, signalstore.RawColumns[signalstore.SignalSpans]); msg != "" {
				return msg
			}
			for i, row := range r.Rows {
				if d := row[6].(time.Duration); d != time.Duration(100-10*i)*time.Millisecond {
					return fmt.Sprintf("row %d duration %v: want newest first", i, d)
				}
			}
			return ""
		})
	}},
	{"NeqMatchesMissingAttribute", skipQuery, func(t *testing.T, s *StoreUnderTest) {
		f := latencyFixture(t, s)
		q := fmt.Sprintf(`{"signal":"spans","last":"1h","filters":[{"field":"service_name","op":"contains","value":%q},
			{"field":"attribute","key":"http.route","op":"neq","value":"/cart"}],"aggregations":[{"func":"count"}]}`, f.prefix)
		mustQuery(t, s, q, func(r *signalstore.QueryResult) string {
			return diff("rows", r.Rows, [][]any{{int64(60)}}) // 50 /items + 10 db spans without the attribute
		})
	}},
	{"GroupByAttributeOrderLimit", skipQuery, func(t *testing.T, s *StoreUnderTest) {
		f := latencyFixture(t, s)
		q := fmt.Sprintf(`{"signal":"spans","last":"1h","filters":[%s],"group_by":[{"field":"attribute","key":"http.route"}],
			"aggregations":[{"func":"count","alias":"n"},{"func":"max","field":"duration"}],
			"order_by":[{"column":"max_duration","desc":true}],"limit":1}`, svcFilter(f, "api"))
		mustQuery(t, s, q, func(r *signalstore.QueryResult) string {
			want := &signalstore.QueryResult{
				Columns:   []signalstore.Column{{Name: "attribute.http.route", Type: "string"}, {Name: "n", Type: "int"}, {Name: "max_duration", Type: "duration"}},
				Rows:      [][]any{{"/cart", int64(50), 100 * time.Millisecond}},
				Truncated: true,
			}
			return diff("result", r, want)
		})
	}},
	{"IntervalAndRate", skipQuery, func(t *testing.T, s *StoreUnderTest) {
		f := latencyFixture(t, s)
		start, end := f.at(0).Format(time.RFC3339Nano), f.at(2*time.Minute).Format(time.RFC3339Nano)
		q := fmt.Sprintf(`{"signal":"spans","start":%q,"end":%q,"filters":[%s],"interval":"1m",
			"aggregations":[{"func":"count"},{"func":"rate"}]}`, start, end, svcFilter(f, "api"))
		mustQuery(t, s, q, func(r *signalstore.QueryResult) string {
			// Spans at base+1s..base+100s; base is on a whole second but
			// not a whole minute, so count per epoch-aligned minute.
			counts := map[time.Time]int64{}
			for i := 1; i <= 100; i++ {
				counts[f.at(time.Duration(i)*time.Second).Truncate(time.Minute)]++
			}
			if len(r.Rows) != len(counts) {
				return fmt.Sprintf("want %d buckets, got %d", len(counts), len(r.Rows))
			}
			var total int64
			for _, row := range r.Rows {
				bucket, _ := row[0].(time.Time)
				n, _ := row[1].(int64)
				rate, _ := row[2].(float64)
				if counts[bucket] != n {
					return fmt.Sprintf("bucket %v: count %d, want %d", bucket, n, counts[bucket])
				}
				if want := float64(n) / 60; rate < want*0.999 || rate > want*1.001 {
					return fmt.Sprintf("bucket %v: rate %v, want %v", bucket, rate, want)
				}
				total += n
			}
			if total != 100 {
				return fmt.Sprintf("total %d, want 100", total)
			}
			return ""
		})
	}},
	{"LogsBodyContainsAndSeverity", skipQuery, func(t *testing.T, s *StoreUnderTest) {
		c := newCheckoutFlow(newFixture(t))
		writeLogs(t, s, c.logs()...)
		q := fmt.Sprintf(`{"signal":"logs","last":"1h","filters":[{"field":"service_name","op":"contains","value":%q},
			{"field":"body","op":"contains","value":"order 42"},{"field":"severity_number","op":"gte","value":%d}]}`,
			c.f.prefix, plog.SeverityNumberWarn)
		mustQuery(t, s, q, func(r *signalstore.QueryResult) string {
			if len(r.Rows) != 1 || r.Rows[0][6] != "order 42 queued for manual review" || r.Rows[0][4] != "WARN" {
				return "want only the WARN record mentioning order 42"
			}
			return ""
		})
		q = fmt.Sprintf(`{"signal":"logs","last":"1h","filters":[{"field":"correlation_id","op":"eq","value":%q}],
			"group_by":[{"field":"severity_text"}],"aggregations":[{"func":"count"}]}`, c.id)
		mustQuery(t, s, q, func(r *signalstore.QueryResult) string {
			return diff("rows", r.Rows, [][]any{{"ERROR", int64(1)}, {"INFO", int64(2)}, {"WARN", int64(1)}})
		})
	}},
	{"EmptyResultHasColumns", skipQuery, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		q := fmt.Sprintf(`{"signal":"spans","last":"1h","filters":[%s],"group_by":[{"field":"span_name"}],
			"aggregations":[{"func":"p95","field":"duration"}]}`, svcFilter(f, "nobody"))
		mustQuery(t, s, q, func(r *signalstore.QueryResult) string {
			want := &signalstore.QueryResult{
				Columns: []signalstore.Column{{Name: "span_name", Type: "string"}, {Name: "p95_duration", Type: "duration"}},
				Rows:    [][]any{},
			}
			return diff("result", r, want)
		})
	}},
	{"InvalidQueryIsRejected", skipQuery, func(t *testing.T, s *StoreUnderTest) {
		for _, q := range []signalstore.Query{
			{Signal: "profiles"},
			{Signal: signalstore.SignalSpans, Filters: []signalstore.Filter{{Field: "body", Op: "contains", Value: "x"}}},
			{Signal: signalstore.SignalSpans, Filters: []signalstore.Filter{{Field: "attribute", Key: `a"); DROP TABLE otel_traces; --`, Op: "eq"}}},
			{Signal: signalstore.SignalLogs, Aggregations: []signalstore.Aggregation{{Func: "p95", Field: "body"}}},
		} {
			if _, err := s.Reader.Query(ctx, q); err == nil {
				t.Errorf("Query(%+v) succeeded, want a validation error", q)
			}
		}
	}},
}
