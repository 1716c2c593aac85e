package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"slices"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// buildTimeline merges spans, error moments, logs and the exemplars naming
// one of traceIDs (the correlation's traces: a metric point also holds
// exemplars of other requests) into one chronological list. Events at the
// same instant keep the order span, log, error, metric, so a span opens
// before what happens inside it.
func buildTimeline(spans []signalstore.Span, logs []signalstore.LogRecord, metrics []signalstore.MetricPoint, traceIDs []signalstore.TraceID) []timelineEvent {
	events := make([]timelineEvent, 0, len(spans)+len(logs)+len(metrics))
	ours := make(map[signalstore.TraceID]struct{}, len(traceIDs))
	for _, id := range traceIDs {
		ours[id] = struct{}{}
	}
	for i := range spans {
		sp := &spans[i]
		events = append(events, timelineEvent{
			Timestamp: sp.Timestamp, Type: eventSpan, Service: sp.ServiceName, Name: sp.SpanName,
			TraceID: sp.TraceID, SpanID: sp.SpanID, DurationNanos: sp.Duration.Nanoseconds(), Status: sp.StatusCode,
		})
	}
	for i := range logs {
		l := &logs[i]
		events = append(events, timelineEvent{
			Timestamp: l.Timestamp, Type: eventLog, Service: l.ServiceName, Name: logName(l),
			TraceID: l.TraceID, SpanID: l.SpanID, Severity: l.SeverityText, Message: l.Body,
		})
	}
	for i := range spans {
		if sp := &spans[i]; sp.IsError() {
			f := spanFailure(sp)
			events = append(events, timelineEvent{
				Timestamp: f.at, Type: eventError, Service: sp.ServiceName, Name: errorName(f),
				TraceID: sp.TraceID, SpanID: sp.SpanID, Status: sp.StatusCode, Message: f.message,
			})
		}
	}
	for i := range metrics {
		m := &metrics[i]
		for j := range m.Exemplars {
			ex := &m.Exemplars[j]
			if _, ok := ours[ex.TraceID]; !ok {
				continue
			}
			value := ex.Value
			events = append(events, timelineEvent{
				Timestamp: ex.TimeUnix, Type: eventMetric, Service: m.ServiceName, Name: m.MetricName,
				TraceID: ex.TraceID, SpanID: ex.SpanID, Value: &value,
			})
		}
	}
	slices.SortStableFunc(events, func(a, b timelineEvent) int { return a.Timestamp.Compare(b.Timestamp) })
	return events
}

func logName(l *signalstore.LogRecord) string {
	if l.EventName != "" {
		return l.EventName
	}
	if l.SeverityText != "" {
		return l.SeverityText
	}
	return "log"
}

func errorName(f failure) string {
	if f.exceptionType != "" {
		return f.exceptionType
	}
	return "error"
}
