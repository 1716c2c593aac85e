package correlationprocessor // import "github.com/ollystack/ollystack/processor/correlationprocessor"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// processMetrics enriches exemplars only: a correlation id on data points
// would make every request its own time series. An exemplar gets the explicit
// id in its filtered attributes or the request metadata, else the id of its
// trace (cached explicit id, else derived); exemplars with neither are left
// alone.
func (c *correlator) processMetrics(ctx context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	if !c.cfg.EnrichMetrics {
		return md, nil
	}
	e := exemplarEnricher{c: c, req: c.requestID(ctx), b: c.getBatch(), now: c.now()}
	defer c.putBatch(e.b)

	resourceMetrics := md.ResourceMetrics()
	for i := 0; i < resourceMetrics.Len(); i++ {
		scopeMetrics := resourceMetrics.At(i).ScopeMetrics()
		for j := 0; j < scopeMetrics.Len(); j++ {
			metrics := scopeMetrics.At(j).Metrics()
			for k := 0; k < metrics.Len(); k++ {
				e.metric(metrics.At(k))
			}
		}
	}
	c.record(ctx, signalMetrics, &e.counts)
	return md, nil
}

type exemplarEnricher struct {
	c      *correlator
	req    requestID
	b      *batch
	now    time.Time
	counts outcomeCounts
}

func (e *exemplarEnricher) metric(m pmetric.Metric) {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		e.numberPoints(m.Gauge().DataPoints())
	case pmetric.MetricTypeSum:
		e.numberPoints(m.Sum().DataPoints())
	case pmetric.MetricTypeHistogram:
		points := m.Histogram().DataPoints()
		for i := 0; i < points.Len(); i++ {
			e.exemplars(points.At(i).Exemplars())
		}
	case pmetric.MetricTypeExponentialHistogram:
		points := m.ExponentialHistogram().DataPoints()
		for i := 0; i < points.Len(); i++ {
			e.exemplars(points.At(i).Exemplars())
		}
	}
	// Summaries have no exemplars.
}

func (e *exemplarEnricher) numberPoints(points pmetric.NumberDataPointSlice) {
	for i := 0; i < points.Len(); i++ {
		e.exemplars(points.At(i).Exemplars())
	}
}

func (e *exemplarEnricher) exemplars(exemplars pmetric.ExemplarSlice) {
	for i := 0; i < exemplars.Len(); i++ {
		exemplar := exemplars.At(i)
		traceID := exemplar.TraceID()
		attrs := exemplar.FilteredAttributes()
		m := e.c.matcher.find(attrs, traceID)
		applyRequestID(&m, e.req)
		id, oc := e.c.itemCorrelation(e.b, &m, traceID, e.now)
		e.c.write(attrs, &m, id)
		e.counts[oc]++
	}
}
