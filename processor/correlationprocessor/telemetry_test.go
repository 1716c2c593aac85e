package correlationprocessor

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ollystack/ollystack/processor/correlationprocessor/internal/metadata"
)

func TestSelfTelemetry(t *testing.T) {
	cfg := defaultConfig()
	cfg.Cache.MaxTraces = 2
	p := newPipelines(t, cfg)
	ctx := context.Background()

	p.consumeTraces(t, ctx, makeTraces(t,
		spanSpec{name: "explicit", trace: 1, attrs: map[string]any{"correlation_id": "req-1"}},
		spanSpec{name: "propagated", trace: 1, parent: 1},
		spanSpec{name: "derived", trace: 2},
		spanSpec{name: "rejected", trace: 3, attrs: map[string]any{"request_id": strings.Repeat("x", 300)}},
		spanSpec{name: "explicit-2", trace: 4, attrs: map[string]any{"correlation_id": "req-4"}},
		spanSpec{name: "explicit-3", trace: 5, attrs: map[string]any{"correlation_id": "req-5"}},
	))
	p.consumeLogs(t, ctx, makeLogs(t,
		logSpec{name: "by trace", trace: 5},
		logSpec{name: "none"},
	))

	items := sumByAttributes(t, p, metadata.MetricItems, metadata.AttributeSignal, metadata.AttributeOutcome)
	assert.Equal(t, map[string]int64{
		"traces/explicit":   3,
		"traces/propagated": 1,
		"traces/derived":    1,
		"traces/rejected":   1,
		"logs/propagated":   1,
		"logs/none":         1,
	}, items)

	// Three explicit traces went through a cache of two.
	assert.Equal(t, map[string]int64{"capacity": 1, "expired": 0}, sumByAttributes(t, p, metadata.MetricCacheEvictions, metadata.AttributeReason))
	entries, err := p.telemetry.GetMetric(metadata.MetricCacheEntries)
	require.NoError(t, err)
	gauge := entries.Data.(metricdata.Gauge[int64])
	require.Len(t, gauge.DataPoints, 1)
	assert.Equal(t, int64(2), gauge.DataPoints[0].Value)
}

// sumByAttributes returns a counter's values keyed by the given attributes
// joined with "/".
func sumByAttributes(t *testing.T, p *pipelines, name string, keys ...string) map[string]int64 {
	t.Helper()
	m, err := p.telemetry.GetMetric(name)
	require.NoError(t, err)
	got := map[string]int64{}
	for _, point := range m.Data.(metricdata.Sum[int64]).DataPoints {
		var parts []string
		for _, key := range keys {
			v, _ := point.Attributes.Value(attribute.Key(key))
			parts = append(parts, v.AsString())
		}
		got[strings.Join(parts, "/")] += point.Value
	}
	return got
}
