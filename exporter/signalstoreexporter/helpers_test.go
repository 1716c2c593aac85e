package signalstoreexporter

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/ollystack/ollystack/exporter/signalstoreexporter/internal/metadata"
	"github.com/ollystack/ollystack/extension/signalstoreextension"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

// hostWith is a component.Host serving the given extensions.
type hostWith map[component.ID]component.Component

func (h hostWith) GetExtensions() map[component.ID]component.Component { return h }

// startStoreExtension starts a real signalstore extension on a SQLite file in
// a test directory and returns a host serving it under defaultStoreID.
func startStoreExtension(tb testing.TB) (hostWith, signalstore.Store) {
	tb.Helper()
	factory := signalstoreextension.NewFactory()
	cfg := factory.CreateDefaultConfig().(*signalstoreextension.Config)
	cfg.Embedded.Path = filepath.Join(tb.TempDir(), "signals.db")
	ext, err := factory.Create(context.Background(), extensiontest.NewNopSettings(factory.Type()), cfg)
	require.NoError(tb, err)
	require.NoError(tb, ext.Start(context.Background(), hostWith{}))
	tb.Cleanup(func() { require.NoError(tb, ext.Shutdown(context.Background())) })
	store, err := ext.(signalstoreextension.StoreProvider).Store()
	require.NoError(tb, err)
	return hostWith{defaultStoreID: ext}, store
}

// fakeProvider is a StoreProvider serving any store, so tests can put
// wrappers around a real one.
type fakeProvider struct {
	component.StartFunc
	component.ShutdownFunc
	store signalstore.Store
}

var _ signalstoreextension.StoreProvider = fakeProvider{}

func (p fakeProvider) Store() (signalstore.Store, error) { return p.store, nil }

// flakyStore fails the first `failures` write calls with err, then writes
// through. It counts attempts and the items it let through.
type flakyStore struct {
	signalstore.Store
	failures int64
	err      error

	attempts atomic.Int64
	written  atomic.Int64
}

func (s *flakyStore) write(items int, write func() error) error {
	if s.attempts.Add(1) <= s.failures {
		return s.err
	}
	if err := write(); err != nil {
		return err
	}
	s.written.Add(int64(items))
	return nil
}

func (s *flakyStore) WriteTraces(ctx context.Context, td ptrace.Traces) error {
	return s.write(td.SpanCount(), func() error { return s.Store.WriteTraces(ctx, td) })
}

func (s *flakyStore) WriteLogs(ctx context.Context, ld plog.Logs) error {
	return s.write(ld.LogRecordCount(), func() error { return s.Store.WriteLogs(ctx, ld) })
}

func (s *flakyStore) WriteMetrics(ctx context.Context, md pmetric.Metrics) error {
	return s.write(md.DataPointCount(), func() error { return s.Store.WriteMetrics(ctx, md) })
}

func nopSettings() exporter.Settings { return exportertest.NewNopSettings(metadata.Type) }

// fastRetryConfig keeps the defaults but retries within milliseconds.
func fastRetryConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.RetryConfig.InitialInterval = time.Millisecond
	cfg.RetryConfig.MaxInterval = 10 * time.Millisecond
	return cfg
}

// spanGen makes batches of 10-span traces over three services, with a few
// attributes per span and a correlation id per trace, each trace id new.
type spanGen struct{ seq uint64 }

func (g *spanGen) traceID() pcommon.TraceID {
	g.seq++
	var id pcommon.TraceID
	binary.BigEndian.PutUint64(id[:8], 0x0aa7_0000_0000_0000|g.seq)
	binary.BigEndian.PutUint64(id[8:], g.seq*0x9e37_79b9_7f4a_7c15)
	return id
}

// traces returns a batch of n traces and their ids.
func (g *spanGen) traces(n int) (ptrace.Traces, []pcommon.TraceID) {
	td := ptrace.NewTraces()
	now := time.Now()
	services := []string{"frontend", "checkout", "payments"}
	spansOf := map[string]ptrace.SpanSlice{}
	for _, svc := range services {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", svc)
		rs.Resource().Attributes().PutStr("host.name", "node-1")
		rs.Resource().Attributes().PutStr("deployment.environment", "bench")
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("bench")
		spansOf[svc] = ss.Spans()
	}
	ids := make([]pcommon.TraceID, 0, n)
	for range n {
		traceID := g.traceID()
		ids = append(ids, traceID)
		corr := fmt.Sprintf("olly-bench-%d", g.seq)
		var parent pcommon.SpanID
		for i := range 10 {
			span := spansOf[services[i*len(services)/10]].AppendEmpty()
			span.SetTraceID(traceID)
			var id pcommon.SpanID
			binary.BigEndian.PutUint64(id[:], g.seq<<8|uint64(i+1))
			span.SetSpanID(id)
			span.SetParentSpanID(parent)
			parent = id
			span.SetName(fmt.Sprintf("operation %d", i))
			span.SetKind(ptrace.SpanKindServer)
			start := now.Add(time.Duration(i) * time.Millisecond)
			span.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
			span.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(10-i) * time.Millisecond)))
			span.Attributes().PutStr(signalstore.DefaultCorrelationAttribute, corr)
			span.Attributes().PutStr("http.request.method", "POST")
			span.Attributes().PutInt("http.response.status_code", 200)
			span.Attributes().PutStr("url.path", "/api/checkout")
		}
	}
	return td, ids
}

// logsFor returns n log records of each trace.
func logsFor(traceIDs []pcommon.TraceID, n int) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "checkout")
	records := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, traceID := range traceIDs {
		for i := range n {
			lr := records.AppendEmpty()
			lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
			lr.SetTraceID(traceID)
			lr.SetSeverityNumber(plog.SeverityNumberInfo)
			lr.Body().SetStr(fmt.Sprintf("step %d done", i))
		}
	}
	return ld
}

// histogramWithExemplars returns one histogram point per trace, each with an
// exemplar naming it.
func histogramWithExemplars(traceIDs []pcommon.TraceID) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "checkout")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("http.server.request.duration")
	m.SetUnit("s")
	hist := m.SetEmptyHistogram()
	hist.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	now := time.Now()
	for _, traceID := range traceIDs {
		dp := hist.DataPoints().AppendEmpty()
		dp.SetTimestamp(pcommon.NewTimestampFromTime(now))
		dp.SetCount(1)
		dp.SetSum(0.25)
		dp.ExplicitBounds().FromRaw([]float64{0.1, 0.5})
		dp.BucketCounts().FromRaw([]uint64{0, 1, 0})
		ex := dp.Exemplars().AppendEmpty()
		ex.SetTimestamp(pcommon.NewTimestampFromTime(now))
		ex.SetDoubleValue(0.25)
		ex.SetTraceID(traceID)
	}
	return md
}

// mustStart starts an exporter against host. The returned function shuts
// it down, which drains its queue; it runs at the end of the test unless the
// test ran it (exporterhelper's Shutdown must be called only once, as the
// collector does).
func mustStart(tb testing.TB, e component.Component, err error, host component.Host) (shutdown func()) {
	tb.Helper()
	require.NoError(tb, err)
	require.NoError(tb, e.Start(context.Background(), host))
	var once sync.Once
	shutdown = func() {
		once.Do(func() { require.NoError(tb, e.Shutdown(context.Background())) })
	}
	tb.Cleanup(shutdown)
	return shutdown
}
