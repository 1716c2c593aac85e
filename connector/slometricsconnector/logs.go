package slometricsconnector // import "github.com/ollystack/ollystack/connector/slometricsconnector"

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/ollystack/ollystack/connector/slometricsconnector/internal/metadata"
)

// alertEventName is the event.name of alert transition records, so routing
// can select them without parsing bodies.
const alertEventName = "slo.alert"

// buildAlertLogs writes one record per alert transition, with what alert
// routing needs to act: the SLO, tier, burn rates, budget left and the top
// correlation ids of the bad events in the short window.
func buildAlertLogs(now time.Time, reports []sloReport) plog.Logs {
	ld := plog.NewLogs()
	var records plog.LogRecordSlice
	hasScope := false
	ts := pcommon.NewTimestampFromTime(now)
	for i := range reports {
		r := &reports[i]
		for _, a := range r.alerts {
			if !a.changed {
				continue
			}
			if !hasScope {
				hasScope = true
				sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
				sl.Scope().SetName(metadata.ScopeName)
				records = sl.LogRecords()
			}
			writeAlertRecord(records.AppendEmpty(), r, a, ts)
		}
	}
	return ld
}

func writeAlertRecord(lr plog.LogRecord, r *sloReport, a alertReport, ts pcommon.Timestamp) {
	state := alertStateName(a.firing)
	lr.SetTimestamp(ts)
	lr.SetObservedTimestamp(ts)
	lr.SetEventName(alertEventName)
	if a.firing {
		lr.SetSeverityNumber(plog.SeverityNumberWarn)
		lr.SetSeverityText("WARN")
	} else {
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.SetSeverityText("INFO")
	}
	lr.Body().SetStr(fmt.Sprintf("SLO %q alert %q %s: burn rate %.3g over %s and %.3g over %s (threshold %g), error budget remaining %.1f%%",
		r.def.name, a.def.name, state, a.long.burnRate, formatWindow(a.def.long), a.short.burnRate, formatWindow(a.def.short),
		a.def.burnRate, r.budgetRemaining*100))

	attrs := lr.Attributes()
	r.setAttributes(attrs)
	attrs.PutStr(attrAlertName, a.def.name)
	attrs.PutStr(attrAlertSeverity, a.def.severity)
	attrs.PutStr(attrAlertState, state)
	attrs.PutDouble(attrAlertThreshold, a.def.burnRate)
	attrs.PutStr(attrLongWindow, formatWindow(a.def.long))
	attrs.PutStr(attrShortWindow, formatWindow(a.def.short))
	attrs.PutDouble(attrLongBurnRate, a.long.burnRate)
	attrs.PutDouble(attrShortBurnRate, a.short.burnRate)
	attrs.PutInt(attrShortEvents, int64(a.short.good+a.short.bad))
	attrs.PutDouble(metricBudgetRemaining, r.budgetRemaining)
	attrs.PutDouble(metricObjective, r.def.objective)
	attrs.PutStr(attrSLOWindow, r.def.window.String())
	ids := attrs.PutEmptySlice(attrCorrelationIDs)
	for _, id := range a.correlationIDs {
		ids.AppendEmpty().SetStr(id)
	}
	traces := attrs.PutEmptySlice(attrTraceIDs)
	for _, ev := range a.recentBadEvents {
		traces.AppendEmpty().SetStr(ev.traceID.String())
	}
	// The newest bad span links the record to a trace a human can open.
	if a.firing && len(a.recentBadEvents) > 0 {
		lr.SetTraceID(a.recentBadEvents[0].traceID)
		lr.SetSpanID(a.recentBadEvents[0].spanID)
	}
}
