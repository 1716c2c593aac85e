package slometricsconnector // import "github.com/ollystack/ollystack/connector/slometricsconnector"

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/ollystack/ollystack/connector/slometricsconnector/internal/metadata"
)

// Names of the emitted metrics.
const (
	metricEvents          = "slo.sli.events"
	metricRatio           = "slo.sli.ratio"
	metricObjective       = "slo.objective"
	metricBudgetRemaining = "slo.error_budget.remaining"
	metricBurnRate        = "slo.burn_rate"
	metricAlertState      = "slo.alert.state"
)

// Attribute keys of the emitted metrics and logs.
const (
	serviceNameKey     = "service.name"
	attrSLOName        = "slo.name"
	attrSLOWindow      = "slo.window"
	attrOutcome        = "slo.sli.outcome"
	attrBurnWindow     = "slo.burn_rate.window"
	attrAlertName      = "slo.alert.name"
	attrAlertSeverity  = "slo.alert.severity"
	attrAlertState     = "slo.alert.state"
	attrAlertThreshold = "slo.alert.burn_rate_threshold"
	attrLongWindow     = "slo.alert.long_window"
	attrShortWindow    = "slo.alert.short_window"
	attrLongBurnRate   = "slo.alert.long_burn_rate"
	attrShortBurnRate  = "slo.alert.short_burn_rate"
	attrShortEvents    = "slo.alert.short_window_events"
	attrCorrelationIDs = "slo.correlation_ids"
	attrTraceIDs       = "slo.trace_ids"
)

// buildMetrics turns the reports into one batch of metrics: every series
// carries slo.name and service.name.
func (e *engine) buildMetrics(now time.Time, reports []sloReport) pmetric.Metrics {
	md := pmetric.NewMetrics()
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	ts := pcommon.NewTimestampFromTime(now)

	events := newMetric(sm, metricEvents, "Spans counted by the SLO since the start time, split good and bad", "{event}")
	eventsSum := events.SetEmptySum()
	eventsSum.SetIsMonotonic(true)
	eventsSum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	ratio := newMetric(sm, metricRatio, "Good events over all events in the SLO window", "1").SetEmptyGauge()
	objective := newMetric(sm, metricObjective, "The SLO target as a ratio", "1").SetEmptyGauge()
	budget := newMetric(sm, metricBudgetRemaining, "Error budget left in the SLO window: 1 untouched, 0 spent, negative overspent", "1").SetEmptyGauge()
	burn := newMetric(sm, metricBurnRate, "Bad ratio over the budget ratio per alert window; 1 spends the budget exactly over the SLO window", "1").SetEmptyGauge()
	alerts := newMetric(sm, metricAlertState, "Multi-window burn-rate alert state: 0 ok, 1 firing", "1").SetEmptyGauge()

	for i := range reports {
		r := &reports[i]
		start := pcommon.NewTimestampFromTime(r.startedAt)
		for _, outcome := range []struct {
			name  string
			value uint64
		}{{"good", r.good}, {"bad", r.bad}} {
			dp := eventsSum.DataPoints().AppendEmpty()
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(ts)
			dp.SetIntValue(int64(outcome.value))
			r.setAttributes(dp.Attributes())
			dp.Attributes().PutStr(attrOutcome, outcome.name)
			if outcome.name == "bad" {
				appendExemplars(dp.Exemplars(), r.exemplars[0])
			}
		}
		if total := r.windowGood + r.windowBad; total > 0 {
			dp := newGaugePoint(ratio, r, ts)
			dp.SetDoubleValue(float64(r.windowGood) / float64(total))
			dp.Attributes().PutStr(attrSLOWindow, r.def.window.String())
		}
		newGaugePoint(objective, r, ts).SetDoubleValue(r.def.objective)
		dp := newGaugePoint(budget, r, ts)
		dp.SetDoubleValue(r.budgetRemaining)
		dp.Attributes().PutStr(attrSLOWindow, r.def.window.String())
		appendExemplars(dp.Exemplars(), r.exemplars[0])
		for _, wr := range r.burnRates {
			dp := newGaugePoint(burn, r, ts)
			dp.SetDoubleValue(wr.burnRate)
			dp.Attributes().PutStr(attrBurnWindow, formatWindow(wr.window))
			appendExemplars(dp.Exemplars(), r.exemplars[wr.window])
		}
		for _, a := range r.alerts {
			dp := newGaugePoint(alerts, r, ts)
			dp.Attributes().PutStr(attrAlertName, a.def.name)
			dp.Attributes().PutStr(attrAlertSeverity, a.def.severity)
			if a.firing {
				dp.SetIntValue(1)
				appendExemplars(dp.Exemplars(), r.exemplars[a.def.short])
			} else {
				dp.SetIntValue(0)
			}
		}
	}
	return md
}

func newMetric(sm pmetric.ScopeMetrics, name, description, unit string) pmetric.Metric {
	m := sm.Metrics().AppendEmpty()
	m.SetName(name)
	m.SetDescription(description)
	m.SetUnit(unit)
	return m
}

func newGaugePoint(g pmetric.Gauge, r *sloReport, ts pcommon.Timestamp) pmetric.NumberDataPoint {
	dp := g.DataPoints().AppendEmpty()
	dp.SetTimestamp(ts)
	r.setAttributes(dp.Attributes())
	return dp
}

func (r *sloReport) setAttributes(attrs pcommon.Map) {
	attrs.PutStr(attrSLOName, r.def.name)
	attrs.PutStr(serviceNameKey, r.def.service)
}

// appendExemplars names recent bad spans: trace and span id, correlation id as
// a filtered attribute, and the span's duration in seconds as value.
func appendExemplars(dst pmetric.ExemplarSlice, events []badEvent) {
	for _, ev := range events {
		ex := dst.AppendEmpty()
		ex.SetTimestamp(ev.at)
		ex.SetTraceID(ev.traceID)
		ex.SetSpanID(ev.spanID)
		ex.SetDoubleValue(time.Duration(ev.duration).Seconds())
		if ev.correlationID != "" {
			ex.FilteredAttributes().PutStr(attrCorrelationID, ev.correlationID)
		}
	}
}
