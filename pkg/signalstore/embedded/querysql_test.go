package embedded

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/pkg/signalstore/signalstoretest"
)

func TestCompileQueryBindsEveryValue(t *testing.T) {
	hostile := `x'); DROP TABLE otel_traces; --`
	q, err := signalstore.ParseQuery([]byte(`{"signal":"spans","last":"1h",
		"filters":[{"field":"service_name","op":"eq","value":"` + hostile + `"},
			{"field":"attribute","key":"k'); DELETE FROM otel_logs; --","op":"contains","value":"` + hostile + `"},
			{"field":"resource","key":"host.name","op":"neq","value":"` + hostile + `"},
			{"field":"duration","op":"gt","value":"250ms"}],
		"group_by":[{"field":"attribute","key":"weird key ; --"}],
		"interval":"5m",
		"aggregations":[{"func":"p99","field":"duration","alias":"slow"},{"func":"rate"}],
		"order_by":[{"column":"slow","desc":true}],"limit":7}`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 17, 0, 0, 0, time.UTC)
	start, end := q.Window(now)
	cq, err := compileQuery(q, start, end, 10, 20)
	if err != nil {
		t.Fatal(err)
	}
	const want = `SELECT (s.Timestamp / ?) * ?, coalesce(json_extract(s.SpanAttributes, ?), ''), ` +
		`percentile_cont(s.Duration, ?), count(*) / ? FROM otel_traces s WHERE s.rowid BETWEEN ? AND ? AND ` +
		`s.Timestamp >= ? AND s.Timestamp < ? AND s.ServiceName = ? AND ` +
		`instr(coalesce(json_extract(s.SpanAttributes, ?), ''), ?) > 0 AND ` +
		`coalesce((SELECT json_extract(r.ResourceAttributes, ?) FROM ollystack_resources r WHERE r.ResourceId = s.ResourceId), '') <> ? AND ` +
		`s.Duration > ? GROUP BY 1, 2 ORDER BY 3 DESC, 1 ASC, 2 ASC LIMIT ?`
	if cq.sql != want {
		t.Errorf("SQL:\n got %s\nwant %s", cq.sql, want)
	}
	for _, leaked := range []string{"DROP", "DELETE", "weird", "slow", "250", "300000000000"} {
		if strings.Contains(cq.sql, leaked) {
			t.Errorf("query text %q reached the SQL", leaked)
		}
	}
	wantArgs := []any{int64(300e9), int64(300e9), `$."weird key ; --"`, 0.99, 300.0,
		int64(10), int64(20), start.UnixNano(), end.UnixNano(), hostile,
		`$."k'); DELETE FROM otel_logs; --"`, hostile, `$."host.name"`, hostile, int64(250e6), 8}
	if len(cq.args) != len(wantArgs) {
		t.Fatalf("args %#v\nwant %#v", cq.args, wantArgs)
	}
	for i := range wantArgs {
		if cq.args[i] != wantArgs[i] {
			t.Errorf("arg %d = %#v, want %#v", i, cq.args[i], wantArgs[i])
		}
	}
}

// TestRollupMatchesRawScan checks the rollup shortcut against the SQL scan
// of the same spans: counts, min, max and avg exactly, percentiles within
// the histogram's error bound.
func TestRollupMatchesRawScan(t *testing.T) {
	store := openTestStore(t)
	gen := signalstoretest.NewBenchGen(42)
	now := time.Now()
	for range 20 {
		td := gen.Batch(50, now.Add(-90*time.Minute), now.Add(-time.Minute), plog.Logs{})
		if err := store.WriteTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
	}
	base := signalstore.Query{
		Signal: signalstore.SignalSpans, Start: now.Add(-100 * time.Minute).Add(17 * time.Second), End: now,
		GroupBy: []signalstore.GroupBy{{Field: signalstore.FieldServiceName}, {Field: signalstore.FieldSpanName}},
		Aggregations: []signalstore.Aggregation{
			{Func: signalstore.AggCount}, {Func: signalstore.AggMin, Field: signalstore.FieldDuration},
			{Func: signalstore.AggMax, Field: signalstore.FieldDuration}, {Func: signalstore.AggAvg, Field: signalstore.FieldDuration},
			{Func: signalstore.AggP50, Field: signalstore.FieldDuration}, {Func: signalstore.AggP99, Field: signalstore.FieldDuration},
		},
		Limit: 1000,
	}
	rolled, err := store.Query(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	raw := base
	// A filter the rollup cannot answer forces the scan; it matches all.
	raw.Filters = []signalstore.Filter{{Field: signalstore.FieldDuration, Op: signalstore.OpGte, Value: "0"}}
	if rollupEligible(&raw) {
		t.Fatal("the duration filter should force the raw scan")
	}
	scanned, err := store.Query(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(rolled.Rows) != len(scanned.Rows) || len(rolled.Rows) < 10 {
		t.Fatalf("rollup %d groups, scan %d groups", len(rolled.Rows), len(scanned.Rows))
	}
	for i := range rolled.Rows {
		r, s := rolled.Rows[i], scanned.Rows[i]
		for c := range 5 { // groups, count, min, max exact
			if r[c] != s[c] {
				t.Errorf("row %d column %s: rollup %v, scan %v", i, rolled.Columns[c].Name, r[c], s[c])
			}
		}
		if d := r[5].(time.Duration) - s[5].(time.Duration); d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("row %d avg: rollup %v, scan %v", i, r[5], s[5])
		}
		// Interpolated (scan) and bucketed (rollup) percentiles of small
		// groups can straddle neighbouring samples: compare against the
		// scan's value with the histogram bound plus one sample gap.
		for _, c := range []int{6, 7} {
			got, want := r[c].(time.Duration), s[c].(time.Duration)
			if diff := float64(got - want); diff > 0.15*float64(want) || -diff > 0.15*float64(want) {
				t.Errorf("row %d %s: rollup %v, scan %v", i, rolled.Columns[c].Name, got, want)
			}
		}
	}
}
