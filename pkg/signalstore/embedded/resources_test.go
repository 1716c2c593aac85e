package embedded

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/pkg/signalstore/signalstoretest"
)

// processTraceID is the trace of instance of traceTag (the first 8 bytes of
// the tag, then the instance: unique for any instance number).
func processTraceID(traceTag string, instance int) signalstore.TraceID {
	var id signalstore.TraceID
	copy(id[:8], traceTag)
	binary.BigEndian.PutUint64(id[8:], uint64(instance)+1)
	return id
}

// appendProcess adds to td one 5-span trace, processTraceID(traceTag, instance),
// from the process <service>-<instance>: a resource of its own carrying
// padding bytes of attributes, as a pod with a fresh service.instance.id
// and its labels would.
func appendProcess(td ptrace.Traces, service string, instance, padding int, traceTag string, ts time.Time) {
	rs := td.ResourceSpans().AppendEmpty()
	attrs := rs.Resource().Attributes()
	attrs.PutStr("service.name", service)
	attrs.PutStr("service.instance.id", fmt.Sprintf("%s-%d", service, instance))
	attrs.PutStr("k8s.pod.labels", strings.Repeat("l", padding))
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for j := range 5 {
		sp := spans.AppendEmpty()
		sp.SetTraceID(pcommon.TraceID(processTraceID(traceTag, instance)))
		sp.SetSpanID(pcommon.SpanID{byte(j + 1), byte(instance), byte(instance >> 8), 7})
		sp.SetName("op")
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(ts))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(ts.Add(time.Millisecond)))
	}
}

// writeProcesses writes processes [0, n) of service, 100 per WriteTraces.
func writeProcesses(t *testing.T, s *Store, service string, n, padding int, ts time.Time) {
	t.Helper()
	for first := 0; first < n; first += 100 {
		td := ptrace.NewTraces()
		for i := first; i < min(first+100, n); i++ {
			appendProcess(td, service, i, padding, service, ts)
		}
		if err := s.WriteTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
	}
}

func resourceServices(t *testing.T, s *Store) []string {
	t.Helper()
	var names []string
	err := s.withReader(context.Background(), func(c *dbConn) error {
		return c.query(`SELECT ServiceName FROM ollystack_resources ORDER BY ServiceName`, nil, func(st *sqliteStmt) error {
			names = append(names, st.ColumnText(0))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestRetentionDeletesUnreferencedResources: 2,000 short-lived processes,
// each its own resource with 2 KiB of attributes, must not leave 2,000
// resource rows (4 MiB) behind once their data has expired, while the
// resources of data still kept, in every kind of data table, stay.
func TestRetentionDeletesUnreferencedResources(t *testing.T) {
	clock := newTestClock(time.Now().Add(-100 * time.Hour).Truncate(time.Second))
	store := openClockStore(t, clock, zap.NewNop(), func(c *Config) {
		c.Retention = time.Hour
		c.Sync = SyncNormal
	})
	ctx := context.Background()
	writeProcesses(t, store, "churn", 2000, 2048, clock.now())
	// "shared" writes before and after the cutoff: its old rows go, its
	// resource must stay for the new ones.
	old := ptrace.NewTraces()
	appendProcess(old, "shared", 0, 2048, "sharedold", clock.now())
	if err := store.WriteTraces(ctx, old); err != nil {
		t.Fatal(err)
	}

	if n := countRows(t, store, "ollystack_resources"); n != 2001 {
		t.Fatalf("%d resources before expiry, want 2001", n)
	}

	clock.advance(90 * time.Minute)
	recent := ptrace.NewTraces()
	appendProcess(recent, "shared", 0, 2048, "sharednew", clock.now())
	if err := store.WriteTraces(ctx, recent); err != nil {
		t.Fatal(err)
	}
	// Resources referenced only from logs or from one metric table each.
	ld, _ := agedLogsAndMetrics("logonly", clock.now())
	ld.ResourceLogs().At(0).Resource().Attributes().PutStr("service.name", "logonly")
	if err := store.WriteLogs(ctx, ld); err != nil {
		t.Fatal(err)
	}
	for _, md := range []pmetric.Metrics{gaugeOnly(clock.now()), sumOnly(clock.now()), histogramOnly(clock.now())} {
		if err := store.WriteMetrics(ctx, md); err != nil {
			t.Fatal(err)
		}
	}

	clock.advance(31 * time.Minute) // the first writes are 2h01m old, the others 31m
	want := []string{"gauge", "histogram", "logonly", "shared", "sum"}
	signalstoretest.Poll(t, 30*time.Second, func() string {
		if n := countRows(t, store, tableTraces); n != 5 {
			return fmt.Sprintf("%d spans left, want the 5 recent ones", n)
		}
		if got := resourceServices(t, store); !slices.Equal(got, want) {
			return fmt.Sprintf("%d resources left (first %v), want those of the kept data: %v", len(got), got[:min(5, len(got))], want)
		}
		return ""
	})

	spans, err := store.SpansByTraceIDs(ctx, []signalstore.TraceID{processTraceID("sharednew", 0)}, signalstore.TimeRange{}, 0)
	if err != nil || len(spans) != 5 || spans[0].ResourceAttributes["service.instance.id"] != "shared-0" {
		t.Fatalf("kept spans of a resource whose older rows expired: %d spans (%v), resource %v", len(spans), err, firstResource(spans))
	}
	logs, err := store.LogsByTraceIDs(ctx, []signalstore.TraceID{traceIDFor("logonly", 3)}, signalstore.TimeRange{}, 0)
	if err != nil || len(logs) != 1 || logs[0].ResourceAttributes["service.name"] != "logonly" {
		t.Fatalf("kept log: %v, %v", logs, err)
	}

	// A process whose resource was deleted comes back: the writer must not
	// reuse the id it had cached for those attributes.
	again := ptrace.NewTraces()
	appendProcess(again, "churn", 7, 2048, "again", clock.now())
	if err := store.WriteTraces(ctx, again); err != nil {
		t.Fatal(err)
	}
	spans, err = store.SpansByTraceIDs(ctx, []signalstore.TraceID{processTraceID("again", 7)}, signalstore.TimeRange{}, 0)
	if err != nil || len(spans) != 5 || spans[0].ResourceAttributes["service.instance.id"] != "churn-7" ||
		len(spans[0].ResourceAttributes["k8s.pod.labels"]) != 2048 {
		t.Fatalf("spans of a returning process: %d spans (%v), resource %.80v", len(spans), err, firstResource(spans))
	}
}

func firstResource(spans []signalstore.Span) map[string]string {
	if len(spans) == 0 {
		return nil
	}
	return spans[0].ResourceAttributes
}

func gaugeOnly(ts time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "gauge")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("g")
	dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	dp.SetDoubleValue(1)
	return md
}

func sumOnly(ts time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "sum")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("s")
	dp := m.SetEmptySum().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	dp.SetIntValue(2)
	return md
}

func histogramOnly(ts time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "histogram")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("h")
	dp := m.SetEmptyHistogram().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	dp.SetCount(1)
	dp.SetSum(3)
	return md
}

// TestSizeCapDeletesUnreferencedResources: when resources hold most of the
// space, evicting the oldest data must free their resources too, or the
// cap could never be met.
func TestSizeCapDeletesUnreferencedResources(t *testing.T) {
	clock := newTestClock(time.Now())
	store := openClockStore(t, clock, zap.NewNop(), func(c *Config) {
		c.MaxSizeMiB = 16
		c.Sync = SyncNormal
	})
	// ~2,500 processes with 8 KiB of attributes: some 30 MiB of resources
	// next to 1.5 MiB of spans.
	writeProcesses(t, store, "pod", 2500, 8<<10, clock.now())
	signalstoretest.Poll(t, 30*time.Second, func() string {
		var used int64
		err := store.withReader(context.Background(), func(c *dbConn) error {
			return c.query(`SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count()),
				(SELECT page_size FROM pragma_page_size())`, nil, func(st *sqliteStmt) error {
				used = st.ColumnInt64(0) * st.ColumnInt64(1)
				return nil
			})
		})
		if err != nil {
			return err.Error()
		}
		if used > 16<<20 {
			return fmt.Sprintf("live data %d MiB with %d resources, cap 16 MiB", used>>20, countRows(t, store, "ollystack_resources"))
		}
		return ""
	})
	spans, err := store.SpansByTraceIDs(context.Background(), []signalstore.TraceID{processTraceID("pod", 2499)}, signalstore.TimeRange{}, 0)
	if err != nil || len(spans) != 5 || spans[0].ResourceAttributes["service.instance.id"] != "pod-2499" {
		t.Fatalf("newest process after eviction: %d spans (%v), resource %.80v; want it kept whole", len(spans), err, firstResource(spans))
	}
}

// TestResourcesOfOlderFilesAreSwept: a file written before resource uses
// were recorded has resources without any; Open must give them uses so
// that they go with the data already stored.
func TestResourcesOfOlderFilesAreSwept(t *testing.T) {
	clock := newTestClock(time.Now().Add(-100 * time.Hour))
	store := openClockStore(t, clock, zap.NewNop(), func(c *Config) {
		c.Retention = time.Hour
		c.Sync = SyncNormal
	})
	writeProcesses(t, store, "legacy", 300, 64, clock.now())
	cfg := store.cfg
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := openConn(cfg.Path, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.conn.Exec(`DROP TABLE ollystack_resource_uses; DELETE FROM ollystack_meta WHERE Key = 'resource_uses'`); err != nil {
		t.Fatal(err)
	}
	_ = c.close()

	clock.advance(2 * time.Hour)
	reopened, err := open(context.Background(), &cfg, zap.NewNop(), clock.now)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reopened.Close() }()
	signalstoretest.Poll(t, 30*time.Second, func() string {
		if n, r := countRows(t, reopened, tableTraces), countRows(t, reopened, "ollystack_resources"); n != 0 || r != 0 {
			return fmt.Sprintf("%d spans and %d resources left after retention, want none", n, r)
		}
		return ""
	})
}

// TestResourceCacheIsBounded: the writer's hash → id cache must not grow
// with every process ever seen.
func TestResourceCacheIsBounded(t *testing.T) {
	w := newWriter(nil, NewDefaultConfig(), zap.NewNop(), time.Now)
	var last [sha256.Size]byte
	for i := range maxCachedResources + 500 {
		binary.BigEndian.PutUint64(last[:], uint64(i))
		w.cacheResources(map[[sha256.Size]byte]int64{last: int64(i + 1)})
	}
	if len(w.resourceIDs) > maxCachedResources {
		t.Fatalf("cache holds %d resources, bound %d", len(w.resourceIDs), maxCachedResources)
	}
	if id := w.resourceIDs[last]; id != maxCachedResources+500 {
		t.Fatalf("newest resource cached as %d, want %d", id, maxCachedResources+500)
	}
}
