package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore/signalstoretest"
)

// The read benchmarks mirror the embedded backend's on the same workload
// (signalstoretest.BenchBatches: 1,000,000 spans + 300,000 logs over 4
// hours), written by the contrib exporter in-process as the conformance
// suite writes, into a database of their own. They need a server:
//
//	./scripts/with-chdbhttp.sh .tools/bin/chdbhttp .tools/chdb-*/libchdb.so \
//	    bash -c 'cd pkg/signalstore && go test -run "^$" -bench . -benchtime 100x -timeout 60m ./clickhouse/'
//
// The fixture is built once per process and kept: a database that already
// holds the complete fixture of this version is reused, any other content
// of it is dropped.
const (
	benchDatabase = "ollystack_bench"
	// benchFixtureVersion is recorded with the fixture: bump it whenever
	// the workload or the way it is written changes, so an older fixture
	// is rebuilt instead of reused.
	benchFixtureVersion  = "1"
	benchFixtureTable    = "bench_fixture"
	benchTracesPerWriter = 25_000
	benchTraces          = signalstoretest.BenchWriters * benchTracesPerWriter
	benchSpans           = benchTraces * signalstoretest.BenchSpansPerTrace
	benchLogs            = benchTraces * signalstoretest.BenchLogsPerTrace
)

// benchFixture is a complete fixture: its data lies in the BenchSpan before
// End.
type benchFixture struct {
	cfg *Config
	End time.Time
}

var (
	benchFixtureOnce sync.Once
	benchFixtureVal  *benchFixture
	benchFixtureErr  error
)

func millionSpanFixture(b *testing.B) *benchFixture {
	b.Helper()
	if testing.Short() {
		b.Skip("writes a 1,000,000-span fixture through the clickhouse exporter; skipped with -short")
	}
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		b.Skipf("%s is not set: the ClickHouse read benchmarks need a server (make test-clickhouse's chDB through scripts/with-chdbhttp.sh, or one of yours)", dsnEnv)
	}
	benchFixtureOnce.Do(func() {
		cfg := NewDefaultConfig()
		cfg.Endpoint = dsn
		cfg.Database = benchDatabase
		benchFixtureVal, benchFixtureErr = loadOrBuildBenchFixture(b, cfg)
	})
	if benchFixtureErr != nil {
		b.Fatal(benchFixtureErr)
	}
	return benchFixtureVal
}

// openBenchStore opens a reading store on the fixture (its schema exists).
func openBenchStore(b *testing.B) (*Store, *benchFixture) {
	f := millionSpanFixture(b)
	cfg := *f.cfg
	cfg.CreateSchema = false
	store, err := Open(context.Background(), &cfg, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	return store, f
}

func loadOrBuildBenchFixture(b *testing.B, cfg *Config) (*benchFixture, error) {
	ctx := context.Background()
	adminCfg := *cfg
	adminCfg.CreateSchema = false
	admin, err := Open(ctx, &adminCfg, zap.NewNop())
	if err != nil {
		return nil, err
	}
	defer func() { _ = admin.Close() }()
	end, ok, err := existingBenchFixture(ctx, admin)
	if err != nil {
		return nil, err
	}
	if ok {
		b.Logf("reusing the fixture in database %s (built for end %s); %s", benchDatabase, end.Format(time.RFC3339), benchParts(ctx, admin))
		return &benchFixture{cfg: cfg, End: end}, nil
	}

	b.Logf("building the fixture in database %s: %d spans + %d logs through the clickhouse exporter", benchDatabase, benchSpans, benchLogs)
	if err := admin.exec(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(benchDatabase)+" SYNC"); err != nil {
		return nil, fmt.Errorf("drop the old fixture: %w", err)
	}
	start := time.Now()
	writer, err := newExporterWriter(ctx, cfg, zap.NewNop())
	if err != nil {
		return nil, err
	}
	// The exporter has created its tables: the store's views must exist
	// before the first row, or they miss it.
	store, err := Open(ctx, cfg, zap.NewNop())
	if err != nil {
		return nil, errors.Join(err, writer.shutdown(ctx))
	}
	defer func() { _ = store.Close() }()
	select {
	case <-store.done:
	default:
		return nil, errors.Join(errors.New("the store deferred its index views: the exporter's tables are missing"), writer.shutdown(ctx))
	}

	end = time.Now()
	writeStart := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, signalstoretest.BenchWriters)
	for w := range signalstoretest.BenchWriters {
		wg.Go(func() {
			errs <- signalstoretest.BenchBatches(w, benchTracesPerWriter, end, func(td ptrace.Traces, ld plog.Logs) error {
				if err := writer.WriteTraces(ctx, td); err != nil {
					return err
				}
				return writer.WriteLogs(ctx, ld)
			})
		})
	}
	wg.Wait()
	close(errs)
	writeErr := writer.shutdown(ctx)
	for err := range errs {
		writeErr = errors.Join(writeErr, err)
	}
	if writeErr != nil {
		return nil, fmt.Errorf("write the fixture: %w", writeErr)
	}
	wrote := time.Since(writeStart)

	// Inserts may be asynchronous: wait until the tables and the views
	// they feed hold every row.
	waitStart := time.Now()
	if err := waitForBenchCounts(ctx, admin, 5*time.Minute); err != nil {
		return nil, err
	}
	waited := time.Since(waitStart)
	took := time.Since(start)
	err = admin.exec(ctx, "CREATE TABLE "+admin.t.q(benchFixtureTable)+
		" (Version String, End DateTime64(9), BuildSeconds Float64) ENGINE = MergeTree ORDER BY tuple()")
	if err == nil {
		err = admin.exec(ctx, "INSERT INTO "+admin.t.q(benchFixtureTable)+
			" (Version, End, BuildSeconds) VALUES (?, "+nanoTime+", ?)", benchFixtureVersion, end.UnixNano(), took.Seconds())
	}
	if err != nil {
		return nil, fmt.Errorf("record the fixture: %w", err)
	}
	b.Logf("built the fixture in %v: writes %v (%.0f spans/s with logs interleaved, %d writers, batches of %d spans), then %v until every view had its rows; %s",
		took.Round(time.Second), wrote.Round(time.Second), benchSpans/wrote.Seconds(), signalstoretest.BenchWriters,
		signalstoretest.BenchTracesPerBatch*signalstoretest.BenchSpansPerTrace, waited.Round(time.Millisecond), benchParts(ctx, admin))
	return &benchFixture{cfg: cfg, End: end}, nil
}

// existingBenchFixture reports whether the database holds the complete
// fixture of this version, and its end.
func existingBenchFixture(ctx context.Context, s *Store) (time.Time, bool, error) {
	if ok, err := s.tablesExist(ctx, benchFixtureTable); err != nil || !ok {
		return time.Time{}, false, err
	}
	var end time.Time
	found := false
	err := s.query(ctx, statement{sql: "SELECT End FROM " + s.t.q(benchFixtureTable) +
		" WHERE Version = ? ORDER BY End DESC LIMIT 1", args: []any{benchFixtureVersion}}, func(rows driver.Rows) error {
		found = true
		return rows.Scan(&end)
	})
	if err != nil || !found {
		return time.Time{}, false, err
	}
	got, err := benchCounts(ctx, s)
	if err != nil || got != wantBenchCounts {
		return time.Time{}, false, err
	}
	return end, true, nil
}

// benchRowCounts are the rows of the exporter's tables and of the store's
// index tables.
type benchRowCounts struct{ spans, logs, traceIDs, serviceSpans, indexedSpans, indexedLogs uint64 }

var wantBenchCounts = benchRowCounts{benchSpans, benchLogs, benchTraces, benchSpans, benchSpans, benchLogs}

func benchCounts(ctx context.Context, s *Store) (benchRowCounts, error) {
	var c benchRowCounts
	t := s.t
	err := s.query(ctx, statement{sql: `SELECT
    (SELECT count() FROM ` + t.q(t.traces) + `),
    (SELECT count() FROM ` + t.q(t.logs) + `),
    (SELECT uniqExact(TraceId) FROM ` + t.q(t.traceIDTimes) + `),
    (SELECT count() FROM ` + t.q(t.serviceSpans) + `),
    (SELECT sum(SpanCount) FROM ` + t.q(t.correlations) + `),
    (SELECT sum(LogCount) FROM ` + t.q(t.correlations) + `)`}, func(rows driver.Rows) error {
		return rows.Scan(&c.spans, &c.logs, &c.traceIDs, &c.serviceSpans, &c.indexedSpans, &c.indexedLogs)
	})
	return c, err
}

func waitForBenchCounts(ctx context.Context, s *Store, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := benchCounts(ctx, s)
		if err != nil {
			return fmt.Errorf("count the fixture's rows: %w", err)
		}
		if got == wantBenchCounts {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v the fixture holds %+v, want %+v", timeout, got, wantBenchCounts)
		}
		<-tick.C
	}
}

// benchParts describes the active parts per table, which a read opens.
func benchParts(ctx context.Context, s *Store) string {
	var parts []string
	err := s.query(ctx, statement{sql: `SELECT table, count(), sum(rows) FROM system.parts
WHERE database = ? AND active GROUP BY table ORDER BY table`, args: []any{benchDatabase}}, func(rows driver.Rows) error {
		var (
			table   string
			n, rowN uint64
		)
		if err := rows.Scan(&table, &n, &rowN); err != nil {
			return err
		}
		parts = append(parts, fmt.Sprintf("%s %d parts/%d rows", table, n, rowN))
		return nil
	})
	if err != nil {
		return "active parts: " + err.Error()
	}
	return "active parts: " + strings.Join(parts, ", ")
}

// BenchmarkCorrelationLookup1M resolves one correlation id to its traces,
// their spans and their logs — what /api/v1/correlate/{id} reads — on the
// 1,000,000-span fixture, for random ids: the index by key, the exporter's
// trace-id table twice and the span and log tables in the trace's window.
func BenchmarkCorrelationLookup1M(b *testing.B) {
	store, _ := openBenchStore(b)
	signalstoretest.BenchCorrelationLookup(b, store, benchTracesPerWriter)
}

// BenchmarkQueryP95ByService1M runs the typed query "p95 latency and count
// by service" on the 1,000,000-span fixture, over its last hour (~250,000
// spans) and over all 4 hours: one SELECT on otel_traces each (there is no
// rollup on this backend).
func BenchmarkQueryP95ByService1M(b *testing.B) {
	store, f := openBenchStore(b)
	for _, window := range []struct {
		name string
		span time.Duration
	}{{"last1h", time.Hour}, {"all4h", signalstoretest.BenchSpan}} {
		b.Run(window.name, func(b *testing.B) {
			signalstoretest.BenchQueryP95ByService(b, store, f.End, window.span, nil)
		})
	}
}

// BenchmarkServiceEdges1M reads the service map of the fixture's last hour:
// the join of ollystack_service_spans to itself over the window.
func BenchmarkServiceEdges1M(b *testing.B) {
	store, f := openBenchStore(b)
	signalstoretest.BenchServiceEdges(b, store, f.End)
}
