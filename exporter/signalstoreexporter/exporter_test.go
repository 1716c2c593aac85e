package signalstoreexporter

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ollystack/ollystack/exporter/signalstoreexporter/internal/metadata"
	"github.com/ollystack/ollystack/extension/signalstoreextension"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

// TestWritesAreReadableThroughTheStore sends every signal through exporters
// with the default config (queue and retry on) into a real extension and
// reads it back through the Reader.
func TestWritesAreReadableThroughTheStore(t *testing.T) {
	host, store := startStoreExtension(t)
	ctx := context.Background()
	factory := NewFactory()
	cfg := factory.CreateDefaultConfig()
	traces, err := factory.CreateTraces(ctx, nopSettings(), cfg)
	stopTraces := mustStart(t, traces, err, host)
	logs, err := factory.CreateLogs(ctx, nopSettings(), cfg)
	stopLogs := mustStart(t, logs, err, host)
	metrics, err := factory.CreateMetrics(ctx, nopSettings(), cfg)
	stopMetrics := mustStart(t, metrics, err, host)

	var gen spanGen
	var traceIDs []pcommon.TraceID
	for range 5 {
		td, ids := gen.traces(20)
		traceIDs = append(traceIDs, ids...)
		require.NoError(t, traces.ConsumeTraces(ctx, td))
		require.NoError(t, logs.ConsumeLogs(ctx, logsFor(ids, 2)))
		require.NoError(t, metrics.ConsumeMetrics(ctx, histogramWithExemplars(ids)))
	}
	// Shutdown drains the queues into the store, which the extension keeps
	// open until it is shut down itself.
	stopTraces()
	stopLogs()
	stopMetrics()

	ids := make([]signalstore.TraceID, len(traceIDs))
	for i, id := range traceIDs {
		ids[i] = signalstore.TraceID(id)
	}
	all := signalstore.TimeRange{}
	spans, err := store.SpansByTraceIDs(ctx, ids, all, 0)
	require.NoError(t, err)
	assert.Len(t, spans, 100*10)
	records, err := store.LogsByTraceIDs(ctx, ids, all, 0)
	require.NoError(t, err)
	assert.Len(t, records, 100*2)
	points, err := store.MetricPointsByExemplarTraceIDs(ctx, ids, all, 0)
	require.NoError(t, err)
	assert.Len(t, points, 100)

	found, err := store.TraceIDsForCorrelation(ctx, "olly-bench-1", all)
	require.NoError(t, err)
	assert.Equal(t, []signalstore.TraceID{ids[0]}, found)
}

// TestRetryableFailuresAreRetriedNotDropped uses the default queue: the
// store fails the first writes (as a busy disk or a closed store would),
// and every span still arrives exactly once.
func TestRetryableFailuresAreRetriedNotDropped(t *testing.T) {
	for name, failure := range map[string]error{
		"closed store": signalstore.ErrClosed,
		"io error":     errors.New("disk I/O error"),
		"timeout":      context.DeadlineExceeded,
	} {
		t.Run(name, func(t *testing.T) {
			_, real := startStoreExtension(t)
			flaky := &flakyStore{Store: real, failures: 7, err: failure}
			host := hostWith{defaultStoreID: fakeProvider{store: flaky}}
			tel := componenttest.NewTelemetry()
			t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
			settings := nopSettings()
			settings.TelemetrySettings = tel.NewTelemetrySettings()

			ctx := context.Background()
			exp, err := NewFactory().CreateTraces(ctx, settings, fastRetryConfig())
			stop := mustStart(t, exp, err, host)
			var gen spanGen
			const batches, tracesPerBatch = 20, 5
			for range batches {
				td, _ := gen.traces(tracesPerBatch)
				require.NoError(t, exp.ConsumeTraces(ctx, td))
			}
			const want = batches * tracesPerBatch * 10
			require.Eventually(t, func() bool { return flaky.written.Load() == want },
				10*time.Second, time.Millisecond, "written %d of %d spans", flaky.written.Load(), want)
			stop()

			assert.Equal(t, int64(batches+7), flaky.attempts.Load())
			assert.Equal(t, map[string]int64{metadata.KindRetryable: 7 * tracesPerBatch * 10}, failuresByKind(t, tel))
		})
	}
}

// TestPermanentFailuresAreNotRetried runs without a queue, so ConsumeTraces
// returns the final outcome of the write.
func TestPermanentFailuresAreNotRetried(t *testing.T) {
	_, real := startStoreExtension(t)
	rejected := fmt.Errorf("insert span: %w", signalstoreextension.ErrInvalidData)
	flaky := &flakyStore{Store: real, failures: 1, err: rejected}
	host := hostWith{defaultStoreID: fakeProvider{store: flaky}}
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	settings := nopSettings()
	settings.TelemetrySettings = tel.NewTelemetrySettings()
	cfg := fastRetryConfig()
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()

	ctx := context.Background()
	exp, err := NewFactory().CreateLogs(ctx, settings, cfg)
	mustStart(t, exp, err, host)
	var gen spanGen
	_, ids := gen.traces(1)
	err = exp.ConsumeLogs(ctx, logsFor(ids, 3))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err), "%v", err)
	assert.ErrorIs(t, err, signalstoreextension.ErrInvalidData)
	assert.Equal(t, int64(1), flaky.attempts.Load(), "a permanent error is not retried")
	assert.Equal(t, map[string]int64{metadata.KindPermanent: 3}, failuresByKind(t, tel))

	// Without a queue a retryable error is retried inside ConsumeLogs.
	flaky.failures, flaky.err = 3, signalstore.ErrClosed
	flaky.attempts.Store(0)
	require.NoError(t, exp.ConsumeLogs(ctx, logsFor(ids, 3)))
	assert.Equal(t, int64(4), flaky.attempts.Load())
	assert.Equal(t, int64(3), flaky.written.Load())
}

func failuresByKind(t *testing.T, tel *componenttest.Telemetry) map[string]int64 {
	t.Helper()
	m, err := tel.GetMetric(metadata.MetricWriteFailures)
	require.NoError(t, err)
	out := map[string]int64{}
	for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
		kind, _ := p.Attributes.Value(metadata.AttributeKind)
		out[kind.AsString()] += p.Value
	}
	return out
}
