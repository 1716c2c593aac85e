package clickhouse

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

var (
	testStart = time.Date(2026, 11, 22, 17, 0, 0, 0, time.UTC)
	testEnd   = testStart.Add(time.Hour)
	testWin   = window{start: testStart.UnixNano(), end: testEnd.UnixNano()}
	testIDs   = []string{"0102030405060708090a0b0c0d0e0f10", "1112131415161718191a1b1c1d1e1f20"}
)

// TestGoldenReads pins each read primitive's SQL and parameters and checks
// that every read of a signal table is bounded in time.
func TestGoldenReads(t *testing.T) {
	rs := newReadSQL(NewDefaultConfig())
	since := testStart
	for _, tc := range []struct {
		name     string
		st       statement
		timeCols []string // each must be bounded below and above
	}{
		{"read_trace_ids_for_correlation", rs.traceIDsForCorrelation("order-42", testWin), nil},
		{"read_correlation_bounds", rs.correlationBounds("order-42"), nil},
		{"read_recent_correlations", rs.recentCorrelations(signalstore.CorrelationFilter{}, since, 100), []string{"LastSeen"}},
		{"read_recent_correlations_filtered", rs.recentCorrelations(signalstore.CorrelationFilter{
			Service: "checkout", ErrorsOnly: true, MinDuration: time.Second}, since, 10), []string{"LastSeen"}},
		{"read_recent_correlations_until", rs.recentCorrelations(signalstore.CorrelationFilter{
			Service: "checkout", Until: testEnd}, since, 10), []string{"LastSeen"}},
		{"read_trace_bounds", rs.traceBounds(testIDs), nil},
		{"read_spans_by_trace_ids", rs.spansByTraceIDs(testIDs, testWin, 0), []string{"Timestamp"}},
		{"read_spans_by_trace_ids_limit", rs.spansByTraceIDs(testIDs, testWin, 1001), []string{"Timestamp"}},
		{"read_logs_by_trace_ids", rs.logsByTraceIDs(testIDs, testWin, 0), []string{"Timestamp"}},
		{"read_logs_by_trace_ids_limit", rs.logsByTraceIDs(testIDs[:1], testWin, 50), []string{"Timestamp"}},
		{"read_logs_by_correlation_id", rs.logsByCorrelationID("order-42", testWin, 20), []string{"Timestamp"}},
		{"read_metrics_gauge", rs.metricPointsByExemplarTraceIDs(metricTables[0], testIDs, testWin, 0), []string{"TimeUnix"}},
		{"read_metrics_sum", rs.metricPointsByExemplarTraceIDs(metricTables[1], testIDs, testWin, 5), []string{"TimeUnix"}},
		{"read_metrics_histogram", rs.metricPointsByExemplarTraceIDs(metricTables[2], testIDs, testWin, 0), []string{"TimeUnix"}},
		{"read_service_edges", rs.serviceEdges(testWin, testWin.widen(5*time.Minute).start), []string{"Timestamp"}},
		{"read_error_fingerprints", rs.errorFingerprints(testWin, "", 100), nil},
		{"read_error_fingerprints_service", rs.errorFingerprints(testWin, "checkout", 10), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGolden(t, tc.name, renderStatement(tc.st))
			checkPlaceholders(t, tc.st)
			// toDate wraps around outside 1970..2149 (and before the epoch
			// west of UTC): a bound turned into a Day must go through Date32.
			if strings.Contains(tc.st.sql, "toDate("+nanoTime) {
				t.Errorf("a bound is converted with toDate, which wraps outside 1970..2149:\n%s", tc.st.sql)
			}
			for _, col := range tc.timeCols {
				if !strings.Contains(tc.st.sql, col+" >= "+nanoTime) {
					t.Errorf("no lower time bound on %s", col)
				}
			}
			for _, col := range tc.timeCols {
				if col != "LastSeen" && !strings.Contains(tc.st.sql, col+" < "+nanoTime) {
					t.Errorf("no upper time bound on %s", col)
				}
			}
		})
	}
}

// TestCorrelationLookupsUseTheIndex: correlation reads touch the index
// table and the exporter's trace-id lookup table, never otel_traces without
// a trace id and time predicate.
func TestCorrelationLookupsUseTheIndex(t *testing.T) {
	rs := newReadSQL(NewDefaultConfig())
	for _, st := range []statement{rs.traceIDsForCorrelation("x", testWin), rs.correlationBounds("x"),
		rs.recentCorrelations(signalstore.CorrelationFilter{Service: "s"}, testStart, 1)} {
		if !strings.Contains(st.sql, "`ollystack_correlations`") || strings.Contains(st.sql, "`otel_traces`") {
			t.Errorf("correlation lookup not on the index:\n%s", st.sql)
		}
		if !strings.Contains(st.sql, "CorrelationId") {
			t.Errorf("correlation lookup without the key:\n%s", st.sql)
		}
	}
	if st := rs.traceBounds(testIDs); !strings.Contains(st.sql, "`otel_traces_trace_id_ts`") {
		t.Errorf("trace bounds not from the lookup table:\n%s", st.sql)
	}
}

func TestWindow(t *testing.T) {
	open := windowOf(signalstore.TimeRange{})
	if open.start != 0 || open.end <= testEnd.UnixNano() {
		t.Errorf("open range = %+v", open)
	}
	w := windowOf(signalstore.TimeRange{Start: testStart, End: testEnd})
	if got := w.intersect(testStart.Add(time.Minute).UnixNano(), testEnd.Add(time.Hour).UnixNano()); got.start != testStart.Add(time.Minute).UnixNano() || got.end != testEnd.UnixNano() {
		t.Errorf("intersect = %+v", got)
	}
	if !w.intersect(testEnd.UnixNano(), testEnd.Add(time.Hour).UnixNano()).empty() {
		t.Error("disjoint windows must intersect to empty")
	}
	if wide := open.widen(time.Hour); wide.start != 0 || wide.end != open.end {
		t.Errorf("widen overflowed: %+v", wide)
	}
}

func TestTraceIDStrings(t *testing.T) {
	a, _ := signalstore.ParseTraceID(testIDs[0])
	got := traceIDStrings([]signalstore.TraceID{a, {}, a})
	if len(got) != 1 || got[0] != testIDs[0] {
		t.Errorf("traceIDStrings = %q", got)
	}
}

// TestRecentCorrelationsDayBoundReachesBackADay: an index row's Day is the
// day its spans started, its LastSeen their latest end. A span started
// before midnight and ended after the bound is found only if the Day
// pruning reaches back to the day before the bound's.
func TestRecentCorrelationsDayBoundReachesBackADay(t *testing.T) {
	rs := newReadSQL(NewDefaultConfig())
	for _, f := range []signalstore.CorrelationFilter{{}, {Until: testEnd}} {
		st := rs.recentCorrelations(f, testStart, 10)
		want := "WHERE Day >= " + nanoDate + " - 1 AND LastSeen >= " + nanoTime
		if !strings.Contains(st.sql, want) {
			t.Errorf("the Day bound does not reach back a day (want %q):\n%s", want, st.sql)
		}
		if st.args[0] != testStart.UnixNano() || st.args[1] != testStart.UnixNano() {
			t.Errorf("Day and LastSeen bounds %v, %v; want since", st.args[0], st.args[1])
		}
	}
}

// TestLongTraceIDListsRaiseMaxQuerySize: trace ids are bound into the SQL
// text, which the server parses only up to max_query_size (256 KiB by
// default). The correlate API allows 10,000 traces (360 KB of ids), so such
// reads must carry a larger max_query_size; ordinary ones carry none.
func TestLongTraceIDListsRaiseMaxQuerySize(t *testing.T) {
	rs := newReadSQL(NewDefaultConfig())
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%032x", i+1)
		}
		return out
	}
	many := ids(10_000)
	for name, st := range map[string]statement{
		"bounds":  rs.traceBounds(many),
		"spans":   rs.spansByTraceIDs(many, testWin, 0),
		"logs":    rs.logsByTraceIDs(many, testWin, 100),
		"metrics": rs.metricPointsByExemplarTraceIDs(metricTables[2], many, testWin, 100),
	} {
		// What clickhouse-go binds: '<id>' joined by ", " — 36 bytes an id.
		bound := len(st.sql) + 36*len(many)
		if bound <= defaultMaxQuerySize {
			t.Fatalf("%s: test ids too few to exceed the default (%d bytes)", name, bound)
		}
		if got := st.maxQuerySize(); got < bound {
			t.Errorf("%s: max_query_size %d for a %d-byte statement", name, got, bound)
		}
	}
	for name, st := range map[string]statement{
		"spans of 100 traces": rs.spansByTraceIDs(ids(100), testWin, 0),
		"error fingerprints":  rs.errorFingerprints(testWin, "checkout", 10),
	} {
		if got := st.maxQuerySize(); got != 0 {
			t.Errorf("%s: max_query_size %d sent where the default suffices", name, got)
		}
	}
}
