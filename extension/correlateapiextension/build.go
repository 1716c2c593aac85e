package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"slices"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// buildContext derives the CorrelatedContext from what was read for one id.
// Its spans must be in time order, logs and metrics too. Its trace ids are
// the traces the correlation closes over, with or without returned spans.
func buildContext(id string, c *signalstore.Correlated) *correlatedContext {
	spans, logs, metrics := c.Spans, c.Logs, c.Metrics
	traces := groupTraces(spans)
	services := servicesOf(spans, logs)
	errGroups := groupErrors(spans, logs)
	tr, last := timeBounds(spans, logs, metrics)

	answer := &correlatedContext{
		CorrelationID: id,
		TimeRange:     tr,
		Traces:        traces,
		Logs:          nonNil(logs),
		Metrics:       nonNil(metrics),
		Timeline:      buildTimeline(spans, logs, metrics, c.TraceIDs),
		Services:      services,
		Errors:        errGroups,
		AIInsights:    aiInsights{Hypotheses: []any{}},
		Truncated:     c.Truncated,
		lastSignal:    last,
		spans:         spans,
	}
	answer.Summary = summarize(answer, len(c.TraceIDs), spans, logs)
	return answer
}

// summarize counts traceCount traces: all the correlation closes over, also
// those whose spans were sampled away or cut, which c.Traces lacks.
func summarize(c *correlatedContext, traceCount int, spans []signalstore.Span, logs []signalstore.LogRecord) summary {
	s := summary{
		TraceCount:    traceCount,
		SpanCount:     len(spans),
		LogCount:      len(logs),
		MetricCount:   len(c.Metrics),
		DurationNanos: c.TimeRange.End.Sub(c.TimeRange.Start).Nanoseconds(),
		Services:      c.Services,
		Status:        "ok",
	}
	for i := range spans {
		if spans[i].IsError() {
			s.ErrorCount++
		}
	}
	for i := range logs {
		if isErrorLog(&logs[i]) {
			s.ErrorCount++
		}
	}
	if s.ErrorCount > 0 {
		s.Status = "error"
	}
	// The entry operation is the earliest root span of the correlation:
	// where the request entered the system.
	for _, t := range c.Traces {
		if t.RootService != "" {
			s.EntryService, s.EntryOperation = t.RootService, t.RootOperation
			break
		}
	}
	return s
}

// groupTraces groups time-ordered spans by trace, traces in order of their
// first span. A trace's root is its earliest span without a parent, or,
// when the root is missing (not yet exported, or cut), no root is named.
func groupTraces(spans []signalstore.Span) []traceGroup {
	groups := []traceGroup{}
	index := map[signalstore.TraceID]int{}
	for i := range spans {
		sp := &spans[i]
		gi, ok := index[sp.TraceID]
		if !ok {
			gi = len(groups)
			index[sp.TraceID] = gi
			groups = append(groups, traceGroup{TraceID: sp.TraceID, Start: sp.Timestamp, Services: []string{}})
		}
		g := &groups[gi]
		g.Spans = append(g.Spans, *sp)
		g.SpanCount++
		if sp.IsError() {
			g.ErrorCount++
		}
		if !slices.Contains(g.Services, sp.ServiceName) {
			g.Services = append(g.Services, sp.ServiceName)
		}
		if end := sp.Timestamp.Add(sp.Duration).Sub(g.Start).Nanoseconds(); end > g.DurationNanos {
			g.DurationNanos = end
		}
		if sp.ParentSpanID.IsEmpty() && g.RootSpanID.IsEmpty() {
			g.RootSpanID, g.RootService, g.RootOperation = sp.SpanID, sp.ServiceName, sp.SpanName
		}
	}
	for i := range groups {
		slices.Sort(groups[i].Services)
	}
	return groups
}

func servicesOf(spans []signalstore.Span, logs []signalstore.LogRecord) []string {
	services := []string{}
	for i := range spans {
		if s := spans[i].ServiceName; s != "" && !slices.Contains(services, s) {
			services = append(services, s)
		}
	}
	for i := range logs {
		if s := logs[i].ServiceName; s != "" && !slices.Contains(services, s) {
			services = append(services, s)
		}
	}
	slices.Sort(services)
	return services
}

// timeBounds returns the span of time the signals cover and the newest
// event time among them.
func timeBounds(spans []signalstore.Span, logs []signalstore.LogRecord, metrics []signalstore.MetricPoint) (timeRange, time.Time) {
	var tr timeRange
	widen := func(start, end time.Time) {
		if tr.Start.IsZero() || start.Before(tr.Start) {
			tr.Start = start
		}
		if end.After(tr.End) {
			tr.End = end
		}
	}
	for i := range spans {
		widen(spans[i].Timestamp, spans[i].Timestamp.Add(spans[i].Duration))
	}
	for i := range logs {
		widen(logs[i].Timestamp, logs[i].Timestamp)
	}
	last := tr.End
	// Metric points aggregate over an interval that can start long before
	// the request; only their time extends how recent the answer is.
	for i := range metrics {
		if metrics[i].TimeUnix.After(last) {
			last = metrics[i].TimeUnix
		}
	}
	return tr, last
}
