package embedded

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore/signalstoretest"
)

// benchFixtureVersion is part of the cached file name: bump it whenever the
// workload (signalstoretest.BenchGen, BenchBatches) changes so stale caches
// are rebuilt, never reused.
const benchFixtureVersion = "3"

// The million-span fixture is signalstoretest's benchmark workload: 4
// writers × 25,000 traces × 10 spans, three log records per trace, spread
// over the 4 hours before build time. OLLYSTACK_BENCH_SCALE=10 multiplies
// the traces (10,000,000 spans) to see how the reads grow; the benchmark
// names keep saying 1M.
var fixtureTracesPerWriter = 25_000 * benchScale()

func benchScale() int {
	if n, err := strconv.Atoi(os.Getenv("OLLYSTACK_BENCH_SCALE")); err == nil && n > 1 {
		return n
	}
	return 1
}

type benchFixture struct {
	Path  string    `json:"path"`
	End   time.Time `json:"end"`
	Spans int       `json:"spans"`
	Logs  int       `json:"logs"`
}

var (
	benchFixtureOnce sync.Once
	benchFixtureVal  *benchFixture
	benchFixtureErr  error
)

// millionSpanFixture returns the cached fixture database, building it the
// first time (about a minute on 2 cores). The cache lives under the temp
// dir, keyed by fixture and schema version.
func millionSpanFixture(b *testing.B) *benchFixture {
	b.Helper()
	if testing.Short() {
		b.Skip("builds a 1,000,000-span database; skipped with -short")
	}
	benchFixtureOnce.Do(func() { benchFixtureVal, benchFixtureErr = loadOrBuildFixture(b) })
	if benchFixtureErr != nil {
		b.Fatal(benchFixtureErr)
	}
	return benchFixtureVal
}

func loadOrBuildFixture(b *testing.B) (*benchFixture, error) {
	dir := filepath.Join(os.TempDir(), "ollystack-signalstore-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("spans%dm-f%s-s%s", benchScale(), benchFixtureVersion, schemaVersion)
	dbPath, metaPath := filepath.Join(dir, name+".db"), filepath.Join(dir, name+".json")
	if meta, err := os.ReadFile(metaPath); err == nil {
		var f benchFixture
		if err := json.Unmarshal(meta, &f); err == nil {
			if _, err := os.Stat(dbPath); err == nil {
				f.Path = dbPath
				return &f, nil
			}
		}
	}
	building := dbPath + ".building"
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(building + suffix)
	}
	cfg := benchConfig(building)
	store, err := Open(context.Background(), cfg, zap.NewNop())
	if err != nil {
		return nil, err
	}
	end := time.Now()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, signalstoretest.BenchWriters)
	for w := range signalstoretest.BenchWriters {
		wg.Go(func() {
			errs <- signalstoretest.BenchBatches(w, fixtureTracesPerWriter, end, func(td ptrace.Traces, logs plog.Logs) error {
				if err := store.WriteTraces(context.Background(), td); err != nil {
					return err
				}
				return store.WriteLogs(context.Background(), logs)
			})
		})
	}
	wg.Wait()
	close(errs)
	took := time.Since(start)
	if err := store.Close(); err != nil {
		return nil, err
	}
	for err := range errs {
		if err != nil {
			return nil, err
		}
	}
	spans := signalstoretest.BenchWriters * fixtureTracesPerWriter * signalstoretest.BenchSpansPerTrace
	logs := signalstoretest.BenchWriters * fixtureTracesPerWriter * signalstoretest.BenchLogsPerTrace
	b.Logf("built %s: %d spans + %d logs in %v (%.0f spans/s with logs interleaved)",
		dbPath, spans, logs, took.Round(time.Second), float64(spans)/took.Seconds())
	if err := os.Rename(building, dbPath); err != nil {
		return nil, err
	}
	f := &benchFixture{Path: dbPath, End: end, Spans: spans, Logs: logs}
	meta, _ := json.Marshal(f)
	if err := os.WriteFile(metaPath, meta, 0o644); err != nil {
		return nil, err
	}
	return f, nil
}

// benchConfig keeps the fixture forever: retention counts from ingestion,
// and a cached fixture is reused for days.
func benchConfig(path string) *Config {
	cfg := NewDefaultConfig()
	cfg.Path = path
	cfg.Retention = 10 * 365 * 24 * time.Hour
	return cfg
}

func openFixture(b *testing.B) (*Store, *benchFixture) {
	f := millionSpanFixture(b)
	store, err := Open(context.Background(), benchConfig(f.Path), zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	return store, f
}
