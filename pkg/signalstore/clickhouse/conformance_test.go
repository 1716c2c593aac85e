package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/clickhouseexporter"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/ollystack/ollystack/pkg/signalstore/signalstoretest"
)

// The conformance suite runs against a real ClickHouse server only: none can
// run in the build environment. Point it at one with
//
//	OLLYSTACK_CLICKHOUSE_DSN=tcp://localhost:9000 make test-clickhouse
//
// Fixtures are written by the real contrib clickhouseexporter (v0.161.0)
// in-process, so the backend is tested against the rows that exporter
// actually produces, not against our idea of them.
const (
	dsnEnv      = "OLLYSTACK_CLICKHOUSE_DSN"
	databaseEnv = "OLLYSTACK_CLICKHOUSE_DATABASE"
)

func serverConfig(t *testing.T) *Config {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skipf("%s is not set: the ClickHouse conformance suite needs a real server (none runs in this build environment)", dsnEnv)
	}
	cfg := NewDefaultConfig()
	cfg.Endpoint = dsn
	cfg.Database = "ollystack_conformance"
	if db := os.Getenv(databaseEnv); db != "" {
		cfg.Database = db
	}
	return cfg
}

func TestConformance(t *testing.T) {
	writer, store := startWriterAndStore(t, serverConfig(t))
	(&signalstoretest.StoreUnderTest{
		Writer: writer,
		Reader: store,
		// async_insert: acknowledged rows become visible after the
		// server's flush (async_insert_busy_timeout_ms, 200 ms default).
		ConsistencyTimeout: 30 * time.Second,
	}).RunAll(t)
}

// TestSchemaIsIdempotent opens the store twice: the second run of every
// CREATE … IF NOT EXISTS must succeed on existing objects.
func TestSchemaIsIdempotent(t *testing.T) {
	cfg := serverConfig(t)
	startExporterWriter(t, cfg)
	for range 2 {
		store, err := Open(context.Background(), cfg, zaptest.NewLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIndexRowsOutliveTheirDay: index rows aggregated per day must not
// expire before the data of their day does. With a ttl of one second, a row
// of today is kept until one second past the end of today.
func TestIndexRowsOutliveTheirDay(t *testing.T) {
	cfg := serverConfig(t)
	cfg.Database += "_ttl"
	cfg.TTL = time.Second
	ctx := context.Background()
	writer, store := startWriterAndStore(t, cfg)

	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	id := fmt.Sprintf("ttl-%d", time.Now().UnixNano())
	span.SetTraceID(pcommon.TraceID{1, 2, 3})
	span.SetSpanID(pcommon.SpanID{1})
	span.SetName("GET /")
	now := time.Now()
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
	span.Attributes().PutStr(cfg.CorrelationAttribute, id)
	if err := writer.WriteTraces(ctx, td); err != nil {
		t.Fatal(err)
	}
	count := func() uint64 {
		var n uint64
		q := "SELECT count() FROM " + store.t.q(store.t.correlations) + " WHERE CorrelationId = ?"
		if err := store.conn.QueryRow(ctx, q, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for count() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the index row never appeared")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Apply the TTL now rather than at the next background merge.
	if err := store.conn.Exec(ctx, "OPTIMIZE TABLE "+store.t.q(store.t.correlations)+" FINAL"); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("after the TTL was applied, %d index rows of today are left, want 1", n)
	}
}

// startWriterAndStore starts the exporters, then opens the store on cfg;
// both stop when the test ends.
func startWriterAndStore(t *testing.T, cfg *Config) (*exporterWriter, *Store) {
	t.Helper()
	writer := startExporterWriter(t, cfg)
	store, err := Open(context.Background(), cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return writer, store
}

// exporterWriter is the suite's Writer: the contrib exporter, without its
// queue, so a Write returns once the insert was acknowledged.
type exporterWriter struct {
	traces  exporter.Traces
	logs    exporter.Logs
	metrics exporter.Metrics
}

func (w *exporterWriter) WriteTraces(ctx context.Context, td ptrace.Traces) error {
	return w.traces.ConsumeTraces(ctx, td)
}

func (w *exporterWriter) WriteLogs(ctx context.Context, ld plog.Logs) error {
	return w.logs.ConsumeLogs(ctx, ld)
}

func (w *exporterWriter) WriteMetrics(ctx context.Context, md pmetric.Metrics) error {
	return w.metrics.ConsumeMetrics(ctx, md)
}

// startExporterWriter starts the three exporters (which create their tables,
// create_schema being true) before the store opens, so the store's views
// find their sources at once; they stop when the test ends.
func startExporterWriter(t *testing.T, cfg *Config) *exporterWriter {
	t.Helper()
	w, err := newExporterWriter(context.Background(), cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return w
}

// newExporterWriter creates and starts the contrib exporter for traces,
// logs and metrics on cfg's endpoint, database and tables, with
// create_schema, no sending queue and no retries. On error it has shut down
// what it started.
func newExporterWriter(ctx context.Context, cfg *Config, logger *zap.Logger) (*exporterWriter, error) {
	factory := clickhouseexporter.NewFactory()
	ecfg := factory.CreateDefaultConfig().(*clickhouseexporter.Config)
	ecfg.Endpoint = cfg.Endpoint
	ecfg.Database = cfg.Database
	ecfg.CreateSchema = true
	ecfg.TracesTableName = cfg.TracesTableName
	ecfg.LogsTableName = cfg.LogsTableName
	ecfg.MetricsTables.Gauge.Name = cfg.MetricsTables.Gauge.Name
	ecfg.MetricsTables.Sum.Name = cfg.MetricsTables.Sum.Name
	ecfg.MetricsTables.Histogram.Name = cfg.MetricsTables.Histogram.Name
	ecfg.QueueSettings = configoptional.None[exporterhelper.QueueBatchConfig]()
	ecfg.BackOffConfig = configretry.BackOffConfig{Enabled: false}
	if err := ecfg.Validate(); err != nil {
		return nil, fmt.Errorf("exporter config: %w", err)
	}
	set := exportertest.NewNopSettings(factory.Type())
	set.Logger = logger
	w := &exporterWriter{}
	var err error
	if w.traces, err = factory.CreateTraces(ctx, set, ecfg); err != nil {
		return nil, err
	}
	if w.logs, err = factory.CreateLogs(ctx, set, ecfg); err != nil {
		return nil, err
	}
	if w.metrics, err = factory.CreateMetrics(ctx, set, ecfg); err != nil {
		return nil, err
	}
	host := componenttest.NewNopHost()
	for _, start := range []func() error{
		func() error { return w.traces.Start(ctx, host) },
		func() error { return w.logs.Start(ctx, host) },
		func() error { return w.metrics.Start(ctx, host) },
	} {
		if err := start(); err != nil {
			// Shutdown of an exporter that never started is a no-op.
			return nil, errors.Join(fmt.Errorf("start clickhouse exporter: %w", err), w.shutdown(ctx))
		}
	}
	return w, nil
}

// shutdown stops the three exporters.
func (w *exporterWriter) shutdown(ctx context.Context) error {
	return errors.Join(w.traces.Shutdown(ctx), w.logs.Shutdown(ctx), w.metrics.Shutdown(ctx))
}
