package logpatternprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/ollystack/ollystack/processor/logpatternprocessor/internal/metadata"
)

func TestSelfTelemetry(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := processortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	cfg := defaultConfig()
	cfg.NewTemplate.Warmup = 0
	p, err := newLogPatternProcessor(set.TelemetrySettings, set.ID, cfg)
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))

	ld := newLogs("api", "job 1 done", "job 2 done", "disk full on /data", "")
	_, err = p.processLogs(context.Background(), ld)
	require.NoError(t, err)

	sum := func(name string, points ...metricdata.DataPoint[int64]) {
		t.Helper()
		m, err := tel.GetMetric(name)
		require.NoError(t, err)
		metricdatatest.AssertAggregationsEqual(t, metricdata.Sum[int64]{
			Temporality: metricdata.CumulativeTemporality, IsMonotonic: true, DataPoints: points,
		}, m.Data, metricdatatest.IgnoreTimestamp())
	}
	sum(metadata.MetricRecords,
		metricdata.DataPoint[int64]{Attributes: attribute.NewSet(attribute.String("outcome", "mined")), Value: 3},
		metricdata.DataPoint[int64]{Attributes: attribute.NewSet(attribute.String("outcome", "skipped")), Value: 1})
	sum(metadata.MetricTemplatesCreated, metricdata.DataPoint[int64]{Value: 2})
	sum(metadata.MetricEvents,
		metricdata.DataPoint[int64]{Attributes: attribute.NewSet(attribute.String("event", EventNewTemplate)), Value: 2})

	m, err := tel.GetMetric(metadata.MetricClusters)
	require.NoError(t, err)
	metricdatatest.AssertAggregationsEqual(t, metricdata.Gauge[int64]{
		DataPoints: []metricdata.DataPoint[int64]{{Value: 2}},
	}, m.Data, metricdatatest.IgnoreTimestamp())

	require.NoError(t, p.shutdown(context.Background()))
	_, err = tel.GetMetric(metadata.MetricClusters)
	assert.Error(t, err, "the gauge callback is unregistered on shutdown")
}
