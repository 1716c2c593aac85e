package clickhouse

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

func openFake(t *testing.T, cfg *Config, conn *fakeConn) *Store {
	t.Helper()
	s, err := openWithConn(context.Background(), cfg, conn, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func countPrefix(stmts []string, prefix string) int {
	n := 0
	for _, s := range stmts {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

// TestSchemaWaitsForTheExporterTables: at collector start the extension
// runs before the exporter has created otel_traces / otel_logs, so views
// are created in the background once those tables appear.
func TestSchemaWaitsForTheExporterTables(t *testing.T) {
	defer func(d time.Duration) { viewRetryInterval = d }(viewRetryInterval)
	viewRetryInterval = 10 * time.Millisecond
	tablesCreated := make(chan struct{})
	conn := &fakeConn{answer: func(st statement) [][]any {
		select {
		case <-tablesCreated:
			if strings.Contains(st.sql, "system.tables") {
				return [][]any{{"otel_traces"}, {"otel_logs"}}
			}
		default:
		}
		return nil
	}}
	s := openFake(t, NewDefaultConfig(), conn)
	execs := conn.executed()
	if countPrefix(execs, "CREATE DATABASE") != 1 || countPrefix(execs, "CREATE TABLE") != 3 || countPrefix(execs, "CREATE MATERIALIZED VIEW") != 0 {
		t.Fatalf("before the exporter's tables exist: %d statements:\n%s", len(execs), strings.Join(execs, "\n"))
	}
	close(tablesCreated)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		t.Fatal("deferred views were not created")
	}
	if n := countPrefix(conn.executed(), "CREATE MATERIALIZED VIEW"); n != 5 {
		t.Fatalf("%d views created, want 5", n)
	}
}

// TestDeferredViewsRetryAfterAnError: a failed view (say a replica of the
// cluster was briefly unreachable for ON CLUSTER) is tried again, not lost.
func TestDeferredViewsRetryAfterAnError(t *testing.T) {
	defer func(d time.Duration) { viewRetryInterval = d }(viewRetryInterval)
	viewRetryInterval = 10 * time.Millisecond
	var sourcesExist, failed atomic.Bool
	conn := &fakeConn{
		answer: func(st statement) [][]any {
			if sourcesExist.Load() && strings.Contains(st.sql, "system.tables") {
				return [][]any{{"otel_traces"}, {"otel_logs"}}
			}
			return nil
		},
		execErr: func(sql string) error {
			if strings.Contains(sql, "_logs_mv") && failed.CompareAndSwap(false, true) {
				return errors.New("code: 159, timeout exceeded")
			}
			return nil
		},
	}
	s := openFake(t, NewDefaultConfig(), conn)
	sourcesExist.Store(true)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		t.Fatal("deferred views were not created")
	}
	views := map[string]bool{}
	for _, sql := range conn.executed() {
		if name, ok := strings.CutPrefix(sql, "CREATE MATERIALIZED VIEW IF NOT EXISTS "); ok {
			views[strings.Fields(name)[0]] = true
		}
	}
	if len(views) != 5 || !failed.Load() {
		t.Fatalf("views created %v (failed once: %v), want 5", views, failed.Load())
	}
}

// TestRetryDeferredViewsTriesAtOnce: when the pipelines have started, the
// views are created without waiting for the next retry.
func TestRetryDeferredViewsTriesAtOnce(t *testing.T) {
	defer func(d time.Duration) { viewRetryInterval = d }(viewRetryInterval)
	viewRetryInterval = time.Hour
	var sourcesExist atomic.Bool
	conn := &fakeConn{answer: func(st statement) [][]any {
		if sourcesExist.Load() && strings.Contains(st.sql, "system.tables") {
			return [][]any{{"otel_traces"}, {"otel_logs"}}
		}
		return nil
	}}
	s := openFake(t, NewDefaultConfig(), conn)
	sourcesExist.Store(true)
	s.RetryDeferredViews()
	s.RetryDeferredViews() // a second call while one is pending is dropped
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		t.Fatal("deferred views were not created at once")
	}
	if n := countPrefix(conn.executed(), "CREATE MATERIALIZED VIEW"); n != 5 {
		t.Fatalf("%d views created, want 5", n)
	}
	s.RetryDeferredViews() // after the loop ended: does not block
}

func TestCloseStopsWaitingForTables(t *testing.T) {
	s := openFake(t, NewDefaultConfig(), &fakeConn{})
	done := make(chan error)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs on the view retry loop")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestNoSchemaWithoutCreateSchema(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.CreateSchema = false
	conn := &fakeConn{}
	openFake(t, cfg, conn)
	if execs := conn.executed(); len(execs) != 0 {
		t.Fatalf("create_schema false ran %q", execs)
	}
}

func TestSpansNarrowToTheTraceBounds(t *testing.T) {
	traceStart := testStart.Add(10 * time.Minute)
	spanRow := []any{traceStart.Add(5 * time.Millisecond), testIDs[0], "0102030405060708", "", "", "GET /", "Server",
		"web", map[string]string{"service.name": "web"}, "scope", "1.0",
		map[string]string{"correlation_id": "order-42"}, uint64(2_000_000), "Error", "boom",
		[]time.Time{traceStart.Add(6 * time.Millisecond)}, []string{"exception"},
		[]map[string]string{{"exception.type": "E"}}, []string{testIDs[1]}, []string{"1112131415161718"}, []string{""},
		[]map[string]string{{}}}
	conn := &fakeConn{answer: func(st statement) [][]any {
		switch {
		case strings.Contains(st.sql, "_trace_id_ts"):
			return [][]any{{traceStart.UnixNano(), traceStart.UnixNano(), uint64(1)}}
		case strings.Contains(st.sql, "`otel_traces`"):
			return [][]any{spanRow}
		}
		return nil
	}}
	cfg := NewDefaultConfig()
	cfg.CreateSchema = false
	s := openFake(t, cfg, conn)
	id, _ := signalstore.ParseTraceID(testIDs[0])
	spans, err := s.SpansByTraceIDs(context.Background(), []signalstore.TraceID{id, id, {}}, signalstore.TimeRange{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	reads := conn.queried("FROM `default`.`otel_traces`")
	if len(reads) != 1 {
		t.Fatalf("%d span reads", len(reads))
	}
	if args := reads[0].args; args[1] != traceStart.UnixNano() || args[2] != traceStart.Add(time.Second).UnixNano() {
		t.Errorf("span read window %v..%v, want the trace's second", args[1], args[2])
	}
	if len(spans) != 1 {
		t.Fatalf("got %d spans", len(spans))
	}
	sp := spans[0]
	if sp.TraceID != id || sp.SpanID.String() != "0102030405060708" || !sp.ParentSpanID.IsEmpty() ||
		sp.Duration != 2*time.Millisecond || sp.CorrelationID != "order-42" || len(sp.Events) != 1 ||
		sp.Events[0].Attributes["exception.type"] != "E" || len(sp.Links) != 1 || sp.Links[0].Attributes != nil ||
		sp.Links[0].SpanID.String() != "1112131415161718" {
		t.Errorf("span = %+v", sp)
	}

	// A trace the lookup table does not know has no spans: no span read.
	conn.answer = func(statement) [][]any { return [][]any{{int64(0), int64(0), uint64(0)}} }
	if spans, err = s.SpansByTraceIDs(context.Background(), []signalstore.TraceID{id}, signalstore.TimeRange{}, 0); err != nil || len(spans) != 0 {
		t.Fatalf("unknown trace: %v, %v", spans, err)
	}
	if n := len(conn.queried("FROM `default`.`otel_traces`")); n != 1 {
		t.Errorf("unknown trace read otel_traces (%d reads)", n)
	}
}

func TestRecentCorrelationsSummary(t *testing.T) {
	first := testStart
	conn := &fakeConn{answer: func(st statement) [][]any {
		return [][]any{{"order-42", first, first.Add(1500 * time.Millisecond), int64(2), int64(5), int64(4), int64(3),
			[]string{"checkout", "web"}, uint8(1), "web", "POST /checkout"},
			{"health", first, first, int64(1), int64(1), int64(0), int64(0), []string{"web"}, uint8(0), "", ""}}
	}}
	cfg := NewDefaultConfig()
	cfg.CreateSchema = false
	s := openFake(t, cfg, conn)
	got, err := s.RecentCorrelations(context.Background(), signalstore.CorrelationFilter{Service: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Duration != 1500*time.Millisecond || got[0].RootService != "web" ||
		got[0].TraceCount != 2 || got[0].LogCount != 3 || got[1].RootService != "" {
		t.Errorf("summaries = %+v", got)
	}
	st := conn.queried("ollystack_correlations")[0]
	if since := st.args[0].(int64); time.Since(time.Unix(0, since)) < cfg.DefaultLookback-time.Minute {
		t.Errorf("no Since: lookback starts at %v, want about %v ago", time.Unix(0, since), cfg.DefaultLookback)
	}
	if st.args[len(st.args)-1] != signalstore.DefaultCorrelationLimit {
		t.Errorf("limit %v", st.args[len(st.args)-1])
	}
}

func TestQueryScansTypedAndNullColumns(t *testing.T) {
	conn := &fakeConn{answer: func(statement) [][]any {
		return [][]any{{"checkout", int64(3), nil, 1500.0}, {"web", int64(0), 2_000_000.0, nil}}
	}}
	cfg := NewDefaultConfig()
	cfg.CreateSchema = false
	s := openFake(t, cfg, conn)
	res, err := s.Query(context.Background(), signalstore.Query{Signal: signalstore.SignalSpans, Limit: 1,
		GroupBy:      []signalstore.GroupBy{{Field: signalstore.FieldServiceName}},
		Aggregations: []signalstore.Aggregation{{Func: "count"}, {Func: "p95", Field: "duration"}, {Func: "avg", Field: "duration"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || !res.Truncated {
		t.Fatalf("limit 1 of 2 rows: %+v", res)
	}
	if row := res.Rows[0]; row[0] != "checkout" || row[1] != int64(3) || row[2] != nil || row[3] != 1500*time.Nanosecond {
		t.Errorf("row = %#v", row)
	}
	if _, err := s.Query(context.Background(), signalstore.Query{Signal: "metrics"}); err == nil {
		t.Error("an invalid query must be rejected before compiling")
	}
}

func TestWritesAreRefused(t *testing.T) {
	s := &Store{}
	if err := s.WriteTraces(context.Background(), ptrace.NewTraces()); !errors.Is(err, ErrWriteUnsupported) {
		t.Errorf("WriteTraces = %v", err)
	}
}

// TestKeepsNoDocuments: the backend is read-only, so it must not offer the
// AI features a DocumentStore it cannot write (README; the extension answers
// ErrNoDocuments for it).
func TestKeepsNoDocuments(t *testing.T) {
	if _, ok := any((*Store)(nil)).(signalstore.DocumentStore); ok {
		t.Fatal("the read-only clickhouse backend implements signalstore.DocumentStore")
	}
}

func TestOpenWithoutServerFails(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.Endpoint = "tcp://127.0.0.1:1"
	cfg.DialTimeout = 2 * time.Second
	_, err := Open(context.Background(), cfg, zap.NewNop())
	if err == nil || !strings.Contains(err.Error(), "ping clickhouse") {
		t.Fatalf("Open = %v, want a ping error", err)
	}
	cfg.Database = "bad name"
	if _, err := Open(context.Background(), cfg, zap.NewNop()); err == nil || !strings.Contains(err.Error(), "invalid clickhouse config") {
		t.Fatalf("Open(invalid) = %v", err)
	}
}
