package signalstore

import (
	"bytes"
	"cmp"
	"slices"
)

// The orders the readers promise (see store.go), for backends to apply to
// what they read so the contract does not depend on their own collation.

// SortSpans orders spans as SpanReader returns them: by trace id bytes,
// then start time, then span id bytes.
func SortSpans(spans []Span) {
	slices.SortStableFunc(spans, func(a, b Span) int {
		if d := bytes.Compare(a.TraceID[:], b.TraceID[:]); d != 0 {
			return d
		}
		if d := a.Timestamp.Compare(b.Timestamp); d != 0 {
			return d
		}
		return bytes.Compare(a.SpanID[:], b.SpanID[:])
	})
}

// SortLogs orders log records as LogReader returns them: by timestamp, then
// trace id bytes.
func SortLogs(logs []LogRecord) {
	slices.SortStableFunc(logs, func(a, b LogRecord) int {
		if d := a.Timestamp.Compare(b.Timestamp); d != 0 {
			return d
		}
		return bytes.Compare(a.TraceID[:], b.TraceID[:])
	})
}

// SortMetricPoints orders metric points as MetricReader returns them: by
// time, then metric name.
func SortMetricPoints(points []MetricPoint) {
	slices.SortStableFunc(points, func(a, b MetricPoint) int {
		return cmp.Or(a.TimeUnix.Compare(b.TimeUnix), cmp.Compare(a.MetricName, b.MetricName))
	})
}
