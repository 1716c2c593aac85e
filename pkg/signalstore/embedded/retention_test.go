package embedded

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/pkg/signalstore/signalstoretest"
)

// sqliteStmt shortens row callbacks' signatures.
type sqliteStmt = sqlite3.Stmt

// testClock is a clock tests move forward.
type testClock struct{ ns atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *testClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func openClockStore(t *testing.T, clock *testClock, logger *zap.Logger, mutate func(*Config)) *Store {
	t.Helper()
	cfg := NewDefaultConfig()
	cfg.Path = filepath.Join(t.TempDir(), "signals.db")
	cfg.MaintenanceInterval = 10 * time.Millisecond
	if mutate != nil {
		mutate(cfg)
	}
	store, err := open(context.Background(), cfg, logger, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}

// agedTraces makes n traces of 10 spans with correlation ids "<tag>-<i>",
// starting at ts.
func agedTraces(tag string, n int, ts time.Time) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", tag)
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i := range n {
		tid := traceIDFor(tag, i)
		var root pcommon.SpanID
		for j := range 10 {
			sp := spans.AppendEmpty()
			sp.SetTraceID(pcommon.TraceID(tid))
			sid := pcommon.SpanID{byte(j + 1), byte(i), byte(i >> 8), byte(i >> 16), 1}
			sp.SetSpanID(sid)
			if j == 0 {
				root = sid
			} else {
				sp.SetParentSpanID(root)
			}
			sp.SetName("op")
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(ts))
			sp.SetEndTimestamp(pcommon.NewTimestampFromTime(ts.Add(time.Millisecond)))
			sp.Attributes().PutStr("correlation_id", fmt.Sprintf("%s-%d", tag, i))
		}
	}
	return td
}

func traceIDFor(tag string, i int) signalstore.TraceID {
	var id signalstore.TraceID
	copy(id[:], tag)
	id[12], id[13], id[14], id[15] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)|0x80
	return id
}

func agedLogsAndMetrics(tag string, ts time.Time) (plog.Logs, pmetric.Metrics) {
	ld := plog.NewLogs()
	recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := range 20 {
		lr := recs.AppendEmpty()
		lr.SetTraceID(pcommon.TraceID(traceIDFor(tag, i)))
		lr.SetTimestamp(pcommon.NewTimestampFromTime(ts))
		lr.Body().SetStr(tag)
		lr.Attributes().PutStr("correlation_id", fmt.Sprintf("%s-%d", tag, i))
	}
	md := pmetric.NewMetrics()
	g := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	g.SetName(tag)
	dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	dp.SetDoubleValue(1)
	ex := dp.Exemplars().AppendEmpty()
	ex.SetTraceID(pcommon.TraceID(traceIDFor(tag, 0)))
	return ld, md
}

func countRows(t *testing.T, s *Store, table string) int64 {
	t.Helper()
	var n int64
	err := s.withReader(context.Background(), func(c *dbConn) error {
		return c.query(`SELECT count(*) FROM `+table, nil, func(st *sqliteStmt) error {
			n = st.ColumnInt64(0)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRetentionDeletesOnlyExpiredData(t *testing.T) {
	start := time.Now().Add(-100 * time.Hour).Truncate(time.Second)
	clock := newTestClock(start)
	store := openClockStore(t, clock, zap.NewNop(), func(c *Config) { c.Retention = time.Hour })
	ctx := context.Background()

	// 1,200 old traces (12,000 spans) need several delete chunks.
	for b := range 4 {
		td := agedTraces(fmt.Sprintf("old%d", b), 300, clock.now())
		if err := store.WriteTraces(ctx, td); err != nil {
			t.Fatal(err)
		}
	}
	ld, md := agedLogsAndMetrics("old0", clock.now())
	if err := store.WriteLogs(ctx, ld); err != nil {
		t.Fatal(err)
	}
	if err := store.WriteMetrics(ctx, md); err != nil {
		t.Fatal(err)
	}

	clock.advance(90 * time.Minute) // the old data is now 1h30m old
	if err := store.WriteTraces(ctx, agedTraces("new", 10, clock.now())); err != nil {
		t.Fatal(err)
	}
	ld, md = agedLogsAndMetrics("new", clock.now())
	if err := store.WriteLogs(ctx, ld); err != nil {
		t.Fatal(err)
	}
	if err := store.WriteMetrics(ctx, md); err != nil {
		t.Fatal(err)
	}

	signalstoretest.Poll(t, 20*time.Second, func() string {
		if n := countRows(t, store, "otel_traces"); n != 100 {
			return fmt.Sprintf("%d spans left, want the 100 new ones", n)
		}
		return ""
	})
	for table, want := range map[string]int64{
		"otel_logs": 20, "otel_metrics_gauge": 1, "ollystack_trace_spans": 10, "ollystack_trace_logs": 20,
		"ollystack_correlation_logs": 20, "ollystack_exemplar_traces": 1,
	} {
		signalstoretest.Poll(t, 10*time.Second, func() string {
			if got := countRows(t, store, table); got != want {
				return fmt.Sprintf("%s: %d rows, want %d", table, got, want)
			}
			return ""
		})
	}
	// The correlation index forgets the old ids and keeps the new ones.
	signalstoretest.Poll(t, 10*time.Second, func() string {
		old, err := store.TraceIDsForCorrelation(ctx, "old0-1", signalstore.TimeRange{})
		if err != nil {
			return err.Error()
		}
		recent, err := store.TraceIDsForCorrelation(ctx, "new-1", signalstore.TimeRange{})
		if err != nil {
			return err.Error()
		}
		if len(old) != 0 || len(recent) != 1 {
			return fmt.Sprintf("index: old id → %v, new id → %v", old, recent)
		}
		return ""
	})
	spans, err := store.SpansByTraceIDs(ctx, []signalstore.TraceID{traceIDFor("new", 3)}, signalstore.TimeRange{}, 0)
	if err != nil || len(spans) != 10 {
		t.Fatalf("new trace after retention: %d spans, %v", len(spans), err)
	}
	// Ingest keeps working after retention rewrote the segment bookkeeping.
	if err := store.WriteTraces(ctx, agedTraces("later", 5, clock.now())); err != nil {
		t.Fatal(err)
	}
}

func TestSizeCapEvictsOldestAndLogs(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	clock := newTestClock(time.Now())
	store := openClockStore(t, clock, zap.New(core), func(c *Config) { c.MaxSizeMiB = 16 })
	ctx := context.Background()
	// The size cap evicts telemetry only: a document goes by retention.
	doc := signalstore.Document{Kind: "investigation", ID: "kept", Updated: clock.now(), Body: []byte(`{}`)}
	if err := store.PutDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 16<<10)
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	// ~60 MiB of spans in 24 batches of 2.5 MiB, one minute apart.
	for b := range 24 {
		td := agedTraces(fmt.Sprintf("b%02d", b), 16, clock.now())
		for _, sp := range td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().All() {
			sp.Attributes().PutStr("payload", string(big))
		}
		if err := store.WriteTraces(ctx, td); err != nil {
			t.Fatal(err)
		}
		clock.advance(time.Minute)
	}
	signalstoretest.Poll(t, 30*time.Second, func() string {
		var used int64
		err := store.withReader(ctx, func(c *dbConn) error {
			var pages, free, size int64
			for pragma, into := range map[string]*int64{"page_count": &pages, "freelist_count": &free, "page_size": &size} {
				if err := c.query(`PRAGMA `+pragma, nil, func(st *sqliteStmt) error {
					*into = st.ColumnInt64(0)
					return nil
				}); err != nil {
					return err
				}
			}
			used = (pages - free) * size
			return nil
		})
		if err != nil {
			return err.Error()
		}
		if used > 16<<20 {
			return fmt.Sprintf("live data %d MiB, cap 16 MiB", used>>20)
		}
		return ""
	})
	if logs.FilterMessageSnippet("size cap reached").Len() == 0 {
		t.Error("no log line says the size cap bit")
	}
	newest, err := store.SpansByTraceIDs(ctx, []signalstore.TraceID{traceIDFor("b23", 5)}, signalstore.TimeRange{}, 0)
	if err != nil || len(newest) != 10 {
		t.Errorf("newest batch: %d spans, %v; want it kept", len(newest), err)
	}
	oldest, err := store.SpansByTraceIDs(ctx, []signalstore.TraceID{traceIDFor("b00", 5)}, signalstore.TimeRange{}, 0)
	if err != nil || len(oldest) != 0 {
		t.Errorf("oldest batch: %d spans, %v; want it evicted", len(oldest), err)
	}
	if _, err := store.GetDocument(ctx, doc.Kind, doc.ID); err != nil {
		t.Errorf("document older than every span after eviction: %v; want it kept", err)
	}
}
