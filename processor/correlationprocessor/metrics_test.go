package correlationprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

func TestExemplarRules(t *testing.T) {
	p := newPipelines(t, defaultConfig())
	ctx := context.Background()
	p.consumeTraces(t, ctx, makeTraces(t, spanSpec{name: "root", trace: 1, attrs: map[string]any{"correlation_id": "req-1"}}))

	md := pmetric.NewMetrics()
	metrics := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	sum := metrics.AppendEmpty()
	sum.SetName("requests")
	point := sum.SetEmptySum().DataPoints().AppendEmpty()
	point.Attributes().PutStr("route", "/checkout")
	addExemplar(point.Exemplars(), 1, nil)                                          // cached explicit id
	addExemplar(point.Exemplars(), 2, nil)                                          // derived
	addExemplar(point.Exemplars(), 0, nil)                                          // no trace id: untouched
	addExemplar(point.Exemplars(), 0, map[string]any{"request_id": "exemplar-own"}) // explicit in filtered attributes
	histogram := metrics.AppendEmpty()
	histogram.SetName("latency")
	addExemplar(histogram.SetEmptyHistogram().DataPoints().AppendEmpty().Exemplars(), 1, nil)
	expHistogram := metrics.AppendEmpty()
	expHistogram.SetName("latency_exp")
	addExemplar(expHistogram.SetEmptyExponentialHistogram().DataPoints().AppendEmpty().Exemplars(), 2, nil)
	gauge := metrics.AppendEmpty()
	gauge.SetName("queue")
	gauge.SetEmptyGauge().DataPoints().AppendEmpty()
	metrics.AppendEmpty().SetEmptySummary().DataPoints().AppendEmpty()

	require.NoError(t, p.metrics.ConsumeMetrics(ctx, md))
	out := p.metricsOut.AllMetrics()[0].ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	exemplars := out.At(0).Sum().DataPoints().At(0).Exemplars()
	assert.Equal(t, "req-1", attributeOrAbsent(exemplars.At(0).FilteredAttributes()))
	assert.Equal(t, derivedID(2), attributeOrAbsent(exemplars.At(1).FilteredAttributes()))
	assert.Equal(t, absent, attributeOrAbsent(exemplars.At(2).FilteredAttributes()))
	assert.Equal(t, "exemplar-own", attributeOrAbsent(exemplars.At(3).FilteredAttributes()))
	assert.Equal(t, "req-1", attributeOrAbsent(out.At(1).Histogram().DataPoints().At(0).Exemplars().At(0).FilteredAttributes()))
	assert.Equal(t, derivedID(2), attributeOrAbsent(out.At(2).ExponentialHistogram().DataPoints().At(0).Exemplars().At(0).FilteredAttributes()))
	// Data points never get the id: it would make every request a time series.
	assert.Equal(t, absent, attributeOrAbsent(out.At(0).Sum().DataPoints().At(0).Attributes()))
}

func TestEnrichMetricsFalse(t *testing.T) {
	cfg := defaultConfig()
	cfg.EnrichMetrics = false
	p := newPipelines(t, cfg)
	md := pmetric.NewMetrics()
	point := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty()
	addExemplar(point.Exemplars(), 1, nil)
	require.NoError(t, p.metrics.ConsumeMetrics(context.Background(), md))
	assert.Equal(t, absent, attributeOrAbsent(point.Exemplars().At(0).FilteredAttributes()))
}

func addExemplar(exemplars pmetric.ExemplarSlice, trace byte, attrs map[string]any) {
	exemplar := exemplars.AppendEmpty()
	exemplar.SetDoubleValue(1)
	if trace != 0 {
		exemplar.SetTraceID(testTraceID(trace))
		exemplar.SetSpanID(pcommon.SpanID{trace})
	}
	_ = exemplar.FilteredAttributes().FromRaw(attrs)
}
