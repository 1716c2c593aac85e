package clickhouse

import (
	"strings"
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// TestGoldenTypedQueries pins the compilation of typed queries: SQL text,
// parameters, result columns, and the Timestamp predicate that prunes
// partitions.
func TestGoldenTypedQueries(t *testing.T) {
	rs := newReadSQL(NewDefaultConfig())
	for _, tc := range []struct{ name, query string }{
		{"query_spans_raw", `{"signal":"spans"}`},
		{"query_logs_raw_filters", `{"signal":"logs","filters":[
			{"field":"body","op":"contains","value":"timeout"},
			{"field":"severity_number","op":"gte","value":17},
			{"field":"correlation_id","op":"eq","value":"order-42"},
			{"field":"trace_id","op":"eq","value":"0102030405060708090A0B0C0D0E0F10"}]}`},
		{"query_spans_p95_by_service", `{"signal":"spans",
			"filters":[{"field":"service_name","op":"eq","value":"checkout"}],
			"group_by":[{"field":"span_name"}],
			"aggregations":[{"func":"p95","field":"duration"},{"func":"count"}],
			"order_by":[{"column":"p95_duration","desc":true}],"limit":10}`},
		{"query_spans_all_aggregations", `{"signal":"spans",
			"filters":[{"field":"status_code","op":"eq","value":"Error"},{"field":"duration","op":"gt","value":"250ms"},
				{"field":"span_kind","op":"neq","value":"Internal"}],
			"aggregations":[{"func":"count"},{"func":"rate"},{"func":"avg","field":"duration"},
				{"func":"min","field":"duration"},{"func":"max","field":"duration"},{"func":"p50","field":"duration"},
				{"func":"p90","field":"duration"},{"func":"p99","field":"duration"}]}`},
		{"query_spans_group_by_attributes", `{"signal":"spans",
			"filters":[{"field":"attribute","key":"http.route","op":"neq","value":"/health"},
				{"field":"resource","key":"deployment.environment.name","op":"eq","value":"prod"}],
			"group_by":[{"field":"attribute","key":"http.route"},{"field":"resource","key":"k8s.pod.name"}],
			"aggregations":[{"func":"count","alias":"n"}],"order_by":[{"column":"n","desc":true}]}`},
		{"query_logs_interval_rate", `{"signal":"logs","interval":"1m",
			"group_by":[{"field":"severity_number"}],
			"aggregations":[{"func":"rate"},{"func":"avg","field":"severity_number"},{"func":"max","field":"severity_number"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := signalstore.ParseQuery([]byte(tc.query))
			if err != nil {
				t.Fatal(err)
			}
			cq, err := rs.compileQuery(q, testStart, testEnd)
			if err != nil {
				t.Fatal(err)
			}
			var cols []string
			for i, c := range cq.columns {
				nullable := ""
				if cq.nullable[i] {
					nullable = " nullable"
				}
				cols = append(cols, "-- column "+c.Name+" "+string(c.Type)+nullable)
			}
			checkGolden(t, tc.name, renderStatement(cq.stmt)+strings.Join(cols, "\n")+"\n")
			checkPlaceholders(t, cq.stmt)
			if !strings.Contains(cq.stmt.sql, "WHERE Timestamp >= "+nanoTime+" AND Timestamp < "+nanoTime) {
				t.Errorf("no time-range predicate:\n%s", cq.stmt.sql)
			}
			if cq.stmt.args[countBefore(cq.stmt.sql, "WHERE")] != testStart.UnixNano() {
				t.Errorf("the first WHERE parameter is not the start time: %v", cq.stmt.args)
			}
			if got := cq.stmt.args[len(cq.stmt.args)-1]; got != q.EffectiveLimit()+1 {
				t.Errorf("limit parameter %v, want %d", got, q.EffectiveLimit()+1)
			}
		})
	}
}

// countBefore counts the placeholders before the first occurrence of word.
func countBefore(sql, word string) int {
	return strings.Count(sql[:strings.Index(sql, word)], "?")
}

func TestTypedQueryRateUsesTheWindow(t *testing.T) {
	rs := newReadSQL(NewDefaultConfig())
	q := &signalstore.Query{Signal: signalstore.SignalSpans, Aggregations: []signalstore.Aggregation{{Func: signalstore.AggRate}}}
	cq, err := rs.compileQuery(q, testStart, testStart.Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if cq.stmt.args[0] != 600.0 {
		t.Errorf("rate divisor %v, want 600 seconds", cq.stmt.args[0])
	}
	q.Interval = signalstore.Duration(time.Minute)
	if cq, _ = rs.compileQuery(q, testStart, testStart.Add(10*time.Minute)); cq.stmt.args[2] != 60.0 {
		t.Errorf("rate divisor with interval %v, want 60 seconds", cq.stmt.args[2])
	}
}
