package logpatternprocessor // import "github.com/ollystack/ollystack/processor/logpatternprocessor"

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// The log events the processor emits, in a scope of their own.
const (
	EventScopeName   = "ollystack.logpattern"
	EventNewTemplate = "log.template.new"
	EventRateJump    = "log.template.rate_jump"
	attrServiceName  = "service.name"
	attrTemplate     = "log.record.template"
	attrTemplateID   = "log.record.template.id"
	attrCount        = "log.template.count"
	attrBaselineRate = "log.template.rate.baseline"
	attrCurrentRate  = "log.template.rate.current"
)

// templateEvent is an event waiting to be appended to its resource's logs.
type templateEvent struct {
	name     string
	service  string
	id       string
	template string
	// count is the template's records in the current window (1 at birth).
	count        int64
	baselineRate float64
	currentRate  float64
}

// appendEvents adds the events, as log records of the EventScopeName scope,
// to the resource whose records triggered them, so they carry its attributes.
func appendEvents(rl plog.ResourceLogs, events []templateEvent, now time.Time) {
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(EventScopeName)
	records := sl.LogRecords()
	records.EnsureCapacity(len(events))
	ts := pcommon.NewTimestampFromTime(now)
	for _, e := range events {
		lr := records.AppendEmpty()
		lr.SetTimestamp(ts)
		lr.SetObservedTimestamp(ts)
		lr.SetEventName(e.name)
		attrs := lr.Attributes()
		attrs.EnsureCapacity(6)
		if e.service != "" {
			attrs.PutStr(attrServiceName, e.service)
		}
		attrs.PutStr(attrTemplateID, e.id)
		attrs.PutStr(attrTemplate, e.template)
		attrs.PutInt(attrCount, e.count)
		attrs.PutDouble(attrBaselineRate, e.baselineRate)
		attrs.PutDouble(attrCurrentRate, e.currentRate)
		if e.name == EventRateJump {
			lr.SetSeverityNumber(plog.SeverityNumberWarn)
			lr.SetSeverityText("WARN")
			lr.Body().SetStr("log template rate jump: " + e.template)
		} else {
			lr.SetSeverityNumber(plog.SeverityNumberInfo)
			lr.SetSeverityText("INFO")
			lr.Body().SetStr("new log template: " + e.template)
		}
	}
}
