package nlq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/pkg/signalstore/embedded"
)

// The fixture: four services over the last half hour, plus checkout a day
// earlier, and a few log records.
//
//	checkout         POST /checkout     40 spans, 100..490ms, 4 errors (every 10th)
//	payment-service  charge             20 spans, errors (10) take 4s, the rest 300ms
//	frontend         GET /cart          30 spans, 50ms
//	frontend         GET /api/products  10 spans, 20ms, one 3s
//	cart             GET /cart          10 spans, 5ms
//	checkout (-24h)  POST /checkout     20 spans, 1 error
//
//	logs: payment-service 5× ERROR "upstream timeout after 2s", 3× INFO "charge ok";
//	      frontend 2× WARN "Timeout contacting cart"; checkout 1× INFO "order placed".
type fixtureSpan struct {
	service, name string
	at            time.Time
	duration      time.Duration
	isError       bool
}

func writeFixture(t *testing.T, s signalstore.Writer, now time.Time) {
	t.Helper()
	var spans []fixtureSpan
	recent := func(i int) time.Time { return now.Add(-30 * time.Minute).Add(time.Duration(i) * 10 * time.Second) }
	for i := range 40 {
		spans = append(spans, fixtureSpan{"checkout", "POST /checkout", recent(i), time.Duration(100+10*i) * time.Millisecond, i%10 == 9})
	}
	for i := range 20 {
		d, isErr := 300*time.Millisecond, i%2 == 0
		if isErr {
			d = 4 * time.Second
		}
		spans = append(spans, fixtureSpan{"payment-service", "charge", recent(i), d, isErr})
	}
	for i := range 30 {
		spans = append(spans, fixtureSpan{"frontend", "GET /cart", recent(i), 50 * time.Millisecond, false})
	}
	for i := range 10 {
		d := 20 * time.Millisecond
		if i == 3 {
			d = 3 * time.Second
		}
		spans = append(spans, fixtureSpan{"frontend", "GET /api/products", recent(i), d, false})
	}
	for i := range 10 {
		spans = append(spans, fixtureSpan{"cart", "GET /cart", recent(i), 5 * time.Millisecond, false})
	}
	yesterday := now.Add(-24*time.Hour - 30*time.Minute)
	for i := range 20 {
		spans = append(spans, fixtureSpan{"checkout", "POST /checkout", yesterday.Add(time.Duration(i) * time.Second), 200 * time.Millisecond, i == 0})
	}
	td := ptrace.NewTraces()
	for i, sp := range spans {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", sp.service)
		span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		span.SetTraceID(pcommon.TraceID{byte(i >> 8), byte(i), 1})
		span.SetSpanID(pcommon.SpanID{byte(i >> 8), byte(i), 1})
		span.SetName(sp.name)
		span.SetKind(ptrace.SpanKindServer)
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(sp.at))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(sp.at.Add(sp.duration)))
		if sp.isError {
			span.Status().SetCode(ptrace.StatusCodeError)
		} else {
			span.Status().SetCode(ptrace.StatusCodeOk)
		}
	}
	ld := plog.NewLogs()
	addLogs := func(service string, n int, sev plog.SeverityNumber, text, body string) {
		sl := ld.ResourceLogs().AppendEmpty()
		sl.Resource().Attributes().PutStr("service.name", service)
		records := sl.ScopeLogs().AppendEmpty().LogRecords()
		for i := range n {
			r := records.AppendEmpty()
			r.SetTimestamp(pcommon.NewTimestampFromTime(recent(i)))
			r.SetSeverityNumber(sev)
			r.SetSeverityText(text)
			r.Body().SetStr(body)
		}
	}
	addLogs("payment-service", 5, plog.SeverityNumberError, "ERROR", "upstream timeout after 2s")
	addLogs("payment-service", 3, plog.SeverityNumberInfo, "INFO", "charge ok")
	addLogs("frontend", 2, plog.SeverityNumberWarn, "WARN", "Timeout contacting cart")
	addLogs("checkout", 1, plog.SeverityNumberInfo, "INFO", "order placed")
	ctx := context.Background()
	if err := s.WriteTraces(ctx, td); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteLogs(ctx, ld); err != nil {
		t.Fatal(err)
	}
}

func openStore(t *testing.T) *embedded.Store {
	t.Helper()
	cfg := embedded.NewDefaultConfig()
	cfg.Path = filepath.Join(t.TempDir(), "signals.db")
	store, err := embedded.Open(context.Background(), cfg, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Error(err)
		}
	})
	return store
}

// fixtureStore opens an embedded store holding the fixture written at now,
// and loads its catalog.
func fixtureStore(t *testing.T) (*embedded.Store, Catalog, time.Time) {
	t.Helper()
	store := openStore(t)
	now := time.Now().UTC()
	writeFixture(t, store, now)
	cat, err := LoadCatalog(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	return store, cat, now
}

// TestAskEmbeddedStore runs questions end to end against the embedded
// store and checks the rows and summaries against the fixture.
func TestAskEmbeddedStore(t *testing.T) {
	store, cat, now := fixtureStore(t)
	ctx := context.Background()
	wantCat := Catalog{Services: []string{"cart", "checkout", "frontend", "payment-service"},
		Operations: []string{"GET /api/products", "GET /cart", "POST /checkout", "charge"}}
	if mustJSON(t, cat) != mustJSON(t, wantCat) {
		t.Fatalf("catalog %+v, want %+v", cat, wantCat)
	}

	ask := func(t *testing.T, question string) *Answer {
		t.Helper()
		a, err := Ask(ctx, store, question, Options{Catalog: cat, Now: now})
		if err != nil {
			t.Fatalf("Ask(%q): %v", question, err)
		}
		// The answer is what the API returns: it must encode.
		if _, err := json.Marshal(a); err != nil {
			t.Fatalf("encode answer: %v", err)
		}
		return a
	}
	for _, tc := range []struct {
		question string
		check    func(t *testing.T, a *Answer)
		summary  []string // substrings of the summary
	}{
		{"how many errors in chekout in the last hour", func(t *testing.T, a *Answer) {
			wantRows(t, a, [][]any{{int64(4)}})
		}, []string{"In the last hour, error spans of checkout: count 4."}},
		{"errors in checkout", func(t *testing.T, a *Answer) {
			if len(a.Rows) != 4 {
				t.Errorf("%d rows, want 4", len(a.Rows))
			}
		}, []string{"Found 4 error spans of checkout in the last hour", "the slowest took 490ms (POST /checkout in checkout)"}},
		{"error rate by service", func(t *testing.T, a *Answer) {
			wantRows(t, a, [][]any{
				{"payment-service", int64(20), int64(10), 0.5},
				{"checkout", int64(40), int64(4), 0.1},
				{"frontend", int64(40), int64(0), 0.0},
				{"cart", int64(10), int64(0), 0.0},
			})
		}, []string{"In the last hour, the highest error rates of spans by service were payment-service 50.0% (10 of 20), checkout 10.0% (4 of 40) and frontend 0.0% (0 of 40); 4 groups in all."}},
		{"which service has the highest error rate", func(t *testing.T, a *Answer) {
			wantRows(t, a, [][]any{{"payment-service", int64(20), int64(10), 0.5}})
		}, []string{"In the last hour, the highest error rate of spans by service was payment-service 50.0% (10 of 20)."}},
		{"error rate of checkout compared to yesterday", func(t *testing.T, a *Answer) {
			wantRows(t, a, [][]any{{int64(40), int64(4), 0.1}})
			if a.Comparison == nil || mustJSON(t, a.Comparison.Rows) != `[[20,1,0.05]]` {
				t.Errorf("comparison %+v", a.Comparison)
			}
		}, []string{"the error rate of spans of checkout was 10.0% (4 of 40), against 5.0% (1 of 20) yesterday"}},
		{"errors in checkout compared to yesterday", func(t *testing.T, a *Answer) {
			wantRows(t, a, [][]any{{int64(4)}})
			if a.Comparison == nil || mustJSON(t, a.Comparison.Rows) != `[[1]]` || a.Comparison.Label != "yesterday" {
				t.Errorf("comparison %+v", a.Comparison)
			}
		}, []string{"count 4 (yesterday 1, +300%)"}},
		{"top 2 slowest endpoints", func(t *testing.T, a *Answer) {
			if len(a.Rows) != 2 || a.Rows[0][0] != "charge" || a.Rows[1][0] != "GET /api/products" {
				t.Errorf("rows %v, want charge then GET /api/products", a.Rows)
			}
		}, []string{"In the last hour, spans by operation: charge (p99 latency ", "and GET /api/products (p99 latency 2.", "; more than 2 groups matched."}},
		{"slow requests over 2s", func(t *testing.T, a *Answer) {
			if len(a.Rows) != 11 {
				t.Errorf("%d rows, want 11", len(a.Rows))
			}
			for _, row := range a.Rows {
				if d := row[6].(time.Duration); d <= 2*time.Second {
					t.Errorf("row with duration %v", d)
				}
			}
		}, []string{"Found 11 spans taking longer than 2s in the last hour", "10 with status Error", "most from payment-service (10 of 11)"}},
		{"p99 latency of the payment service", func(t *testing.T, a *Answer) {
			// The store's quantiles are within 5% (signalstore.LatencyQuantileRelativeError).
			if d, ok := a.Rows[0][0].(time.Duration); !ok || d < 3800*time.Millisecond || d > 4200*time.Millisecond {
				t.Errorf("p99 %v, want about 4s", a.Rows[0][0])
			}
		}, []string{"In the last hour, spans of payment-service: p99 latency "}},
		{"busiest services", func(t *testing.T, a *Answer) {
			if len(a.Rows) != 4 || a.Rows[3][0] != "cart" || a.Rows[3][1] != int64(10) || a.Rows[0][1] != int64(40) {
				t.Errorf("rows %v", a.Rows)
			}
		}, nil},
		{"requests per second for checkout", func(t *testing.T, a *Answer) {
			if r, ok := a.Rows[0][0].(float64); !ok || r < 40.0/3600*0.99 || r > 40.0/3600*1.01 {
				t.Errorf("rate %v, want 40/3600", a.Rows[0][0])
			}
		}, []string{"In the last hour, spans of checkout: rate per second 0.0111/s."}},
		{"logs containing timeout", func(t *testing.T, a *Answer) {
			if len(a.Rows) != 5 { // "Timeout contacting cart" differs in case
				t.Errorf("%d rows, want 5", len(a.Rows))
			}
		}, []string{`Found 5 log records containing "timeout" in the last hour: all from payment-service; the first reads "upstream timeout after 2s"`}},
		{"error logs", func(t *testing.T, a *Answer) {
			if len(a.Rows) != 5 {
				t.Errorf("%d rows, want 5", len(a.Rows))
			}
		}, []string{"Found 5 error log records"}},
		{"warnings in frontend", func(t *testing.T, a *Answer) {
			if len(a.Rows) != 2 {
				t.Errorf("%d rows, want 2", len(a.Rows))
			}
		}, []string{"Found 2 warning log records of frontend"}},
		{"logs by severity", func(t *testing.T, a *Answer) {
			wantRows(t, a, [][]any{{"ERROR", int64(5)}, {"INFO", int64(4)}, {"WARN", int64(2)}})
		}, nil},
		{"errors per minute in the last 15 minutes", func(t *testing.T, a *Answer) {
			var total int64
			for _, row := range a.Rows {
				total += row[1].(int64)
			}
			if total != 0 { // the fixture's errors are 20 to 30 minutes old
				t.Errorf("%d errors in the last 15 minutes, want 0", total)
			}
		}, nil},
		{"p99 latency by service today compared to yesterday", func(t *testing.T, a *Answer) {
			if a.Comparison == nil || len(a.Comparison.Rows) > 1 {
				t.Errorf("comparison %+v: want at most checkout's row (the data of 24h ago may fall before midnight)", a.Comparison)
			}
		}, nil},
	} {
		t.Run(tc.question, func(t *testing.T) {
			a := ask(t, tc.question)
			t.Logf("summary: %s", a.Summary)
			tc.check(t, a)
			for _, want := range tc.summary {
				if !strings.Contains(a.Summary, want) {
					t.Errorf("summary %q\nlacks %q", a.Summary, want)
				}
			}
			if a.Source != SourceParser || a.Explanation == "" || a.Window == "" {
				t.Errorf("answer metadata: source %q explanation %q window %q", a.Source, a.Explanation, a.Window)
			}
		})
	}
}

func wantRows(t *testing.T, a *Answer, want [][]any) {
	t.Helper()
	got := mustJSON(t, a.Rows)
	if w := mustJSON(t, want); got != w && !containsRows(got, w) {
		t.Errorf("rows %s, want %s", got, w)
	}
}

// containsRows reports whether the JSON rows got include every row of want
// (for unordered results).
func containsRows(got, want string) bool {
	var g, w [][]any
	if json.Unmarshal([]byte(got), &g) != nil || json.Unmarshal([]byte(want), &w) != nil || len(w) > len(g) {
		return false
	}
	rows := map[string]bool{}
	for _, r := range g {
		rows[fmt.Sprint(r)] = true
	}
	for _, r := range w {
		if !rows[fmt.Sprint(r)] {
			return false
		}
	}
	return true
}

// TestHostileQuestionsAgainstStore: whatever the question says, only a
// validated typed query runs, with text as bound filter values; the store
// is intact afterwards.
func TestHostileQuestionsAgainstStore(t *testing.T) {
	store, cat, now := fixtureStore(t)
	ctx := context.Background()
	for _, q := range hostileQuestions {
		a, err := Ask(ctx, store, q, Options{Catalog: cat, Now: now})
		var nu *NotUnderstoodError
		switch {
		case errors.As(err, &nu):
		case err != nil:
			t.Errorf("Ask(%.40q): %v", q, err)
		default:
			checkHostileQuery(t, q, &a.Query)
		}
	}
	a, err := Ask(ctx, store, "how many logs in the last hour", Options{Catalog: cat, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, a, [][]any{{int64(11)}})
	a, err = Ask(ctx, store, "how many spans in the last hour", Options{Catalog: cat, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, a, [][]any{{int64(110)}})
}

// TestRunLimits: the read limits apply to any plan.
func TestRunLimits(t *testing.T) {
	store, _, now := fixtureStore(t)
	ctx := context.Background()
	plan := &Plan{Question: "q", Source: SourceModel, Now: now, Query: signalstore.Query{
		Signal: signalstore.SignalSpans, Last: signalstore.Duration(30 * 24 * time.Hour), Limit: 5000}}
	a, err := Run(ctx, store, plan, Limits{MaxRows: 7, MaxWindow: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if a.Query.Limit != 7 || time.Duration(a.Query.Last) != 48*time.Hour || len(a.Rows) != 7 || !a.Truncated {
		t.Errorf("query %s: %d rows, truncated %v", mustJSON(t, a.Query), len(a.Rows), a.Truncated)
	}
	if len(a.Notes) != 2 || a.Window != "in the last 2 days" {
		t.Errorf("notes %q, window %q", a.Notes, a.Window)
	}
	if !strings.HasPrefix(a.Summary, "More than 7 spans in the last 2 days matched; the first 7 are shown") {
		t.Errorf("summary %q", a.Summary)
	}

	// Absolute windows are cut to their most recent part; an unlimited
	// query gets the default limit.
	start := now.Add(-10 * 24 * time.Hour)
	plan.Query = signalstore.Query{Signal: signalstore.SignalLogs, Start: start, End: now}
	a, err = Run(ctx, store, plan, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Query.Start.Equal(now.Add(-DefaultMaxWindow)) || a.Query.Limit != signalstore.DefaultQueryLimit || len(a.Rows) != 11 {
		t.Errorf("query %s: %d rows", mustJSON(t, a.Query), len(a.Rows))
	}

	// An invalid plan never reaches the store.
	plan.Query = signalstore.Query{Signal: "metrics"}
	if _, err := Run(ctx, store, plan, Limits{}); err == nil || !strings.Contains(err.Error(), "invalid plan") {
		t.Errorf("Run of an invalid plan: %v", err)
	}
}

// queryFunc is a QueryRunner made of a function.
type queryFunc func(signalstore.Query) *signalstore.QueryResult

func (f queryFunc) Query(_ context.Context, q signalstore.Query) (*signalstore.QueryResult, error) {
	return f(q), nil
}

// TestLoadCatalogKeepsBusiestServices: with more services than the catalog
// holds, the ones cut are the least busy (the query orders by count), not
// those whose names sort last.
func TestLoadCatalogKeepsBusiestServices(t *testing.T) {
	runner := queryFunc(func(q signalstore.Query) *signalstore.QueryResult {
		res := &signalstore.QueryResult{}
		if q.Signal != signalstore.SignalSpans {
			return res
		}
		res.Rows = append(res.Rows, []any{"zookeeper", "sync", int64(1_000_000)})
		for i := range maxCatalogOperations - 1 {
			res.Rows = append(res.Rows, []any{fmt.Sprintf("svc-%04d", i), "op", int64(maxCatalogOperations - i)})
		}
		return res
	})
	cat, err := LoadCatalog(context.Background(), runner)
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Services) != maxCatalogServices || !slices.IsSorted(cat.Services) {
		t.Fatalf("%d services, sorted %v", len(cat.Services), slices.IsSorted(cat.Services))
	}
	if !slices.Contains(cat.Services, "zookeeper") {
		t.Error("the busiest service was cut from the catalog")
	}
	if !slices.Contains(cat.Services, "svc-0000") || slices.Contains(cat.Services, "svc-0998") {
		t.Error("the catalog does not hold the busiest services")
	}
}
