package signalstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
)

// CorrelationLimits bound what ReadCorrelation and ReadTraces return, so a
// runaway correlation cannot exhaust memory.
type CorrelationLimits struct {
	MaxTraces  int
	MaxSpans   int
	MaxLogs    int
	MaxMetrics int
}

// Truncation says which parts of a read were cut by the limits.
type Truncation struct {
	Traces  bool `json:"traces"`
	Spans   bool `json:"spans"`
	Logs    bool `json:"logs"`
	Metrics bool `json:"metrics"`
}

// Any reports whether anything was cut.
func (t Truncation) Any() bool { return t.Traces || t.Spans || t.Logs || t.Metrics }

// Correlated is everything stored about some traces: their spans (in time
// order), logs (in time order) and the metric points whose exemplars name
// them.
type Correlated struct {
	TraceIDs  []TraceID
	Spans     []Span
	Logs      []LogRecord
	Metrics   []MetricPoint
	Truncated Truncation
}

// allTime leaves a read range open: a correlation id says nothing about when
// it happened, and backends prune by trace id anyway.
var allTime = TimeRange{}

// ReadCorrelation closes over trace ids as DESIGN.md says: every trace
// carrying the correlation id, plus alsoTraces (e.g. the trace a derived id
// names, found with no index), then every span, log and exemplar metric point
// of those traces, plus the logs carrying the id without trace context.
func ReadCorrelation(ctx context.Context, r Reader, id string, limits CorrelationLimits, alsoTraces ...TraceID) (*Correlated, error) {
	var traceIDs []TraceID
	var idLogs []LogRecord
	err := runConcurrently(ctx,
		func(ctx context.Context) (err error) {
			traceIDs, err = r.TraceIDsForCorrelation(ctx, id, allTime)
			return wrap(err, "trace ids for correlation")
		},
		func(ctx context.Context) (err error) {
			idLogs, err = r.LogsByCorrelationID(ctx, id, allTime, limits.MaxLogs+1)
			return wrap(err, "logs by correlation id")
		},
	)
	if err != nil {
		return nil, err
	}
	for _, t := range alsoTraces {
		if !slices.Contains(traceIDs, t) {
			traceIDs = append(traceIDs, t)
		}
	}
	var cutTraces bool
	traceIDs, cutTraces = cutTo(traceIDs, limits.MaxTraces)
	c, err := ReadTraces(ctx, r, traceIDs, limits)
	if err != nil {
		return nil, err
	}
	c.Truncated.Traces = cutTraces
	var cutLogs bool
	c.Logs, cutLogs = cutTo(mergeLogs(c.Logs, idLogs), limits.MaxLogs)
	c.Truncated.Logs = c.Truncated.Logs || cutLogs
	return c, nil
}

// ReadTraces reads everything of the given traces, each signal concurrently
// (the embedded store serves reads from a pool of connections).
func ReadTraces(ctx context.Context, r Reader, traceIDs []TraceID, limits CorrelationLimits) (*Correlated, error) {
	c := &Correlated{TraceIDs: traceIDs}
	if len(traceIDs) == 0 {
		return c, nil
	}
	err := runConcurrently(ctx,
		func(ctx context.Context) (err error) {
			c.Spans, err = r.SpansByTraceIDs(ctx, traceIDs, allTime, limits.MaxSpans+1)
			return wrap(err, "spans by trace ids")
		},
		func(ctx context.Context) (err error) {
			c.Logs, err = r.LogsByTraceIDs(ctx, traceIDs, allTime, limits.MaxLogs+1)
			return wrap(err, "logs by trace ids")
		},
		func(ctx context.Context) (err error) {
			c.Metrics, err = r.MetricPointsByExemplarTraceIDs(ctx, traceIDs, allTime, limits.MaxMetrics+1)
			return wrap(err, "metric points by exemplar trace ids")
		},
	)
	if err != nil {
		return nil, err
	}
	// Backends order spans by trace; keep the earliest ones overall so a cut
	// answer still shows how the request began in every trace.
	SortSpansByTime(c.Spans)
	c.Spans, c.Truncated.Spans = cutTo(c.Spans, limits.MaxSpans)
	c.Logs, c.Truncated.Logs = cutTo(c.Logs, limits.MaxLogs)
	c.Metrics, c.Truncated.Metrics = cutTo(c.Metrics, limits.MaxMetrics)
	return c, nil
}

// SortSpansByTime orders spans by start time, then span id.
func SortSpansByTime(spans []Span) {
	slices.SortStableFunc(spans, func(a, b Span) int {
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		return slices.Compare(a.SpanID[:], b.SpanID[:])
	})
}

// mergeLogs joins logs read by trace id and by correlation id, in time
// order, dropping the records both reads returned.
func mergeLogs(byTrace, byID []LogRecord) []LogRecord {
	if len(byID) == 0 {
		return byTrace
	}
	seen := make(map[string]struct{}, len(byTrace))
	for i := range byTrace {
		seen[logKey(&byTrace[i])] = struct{}{}
	}
	merged := slices.Clone(byTrace)
	for i := range byID {
		if _, dup := seen[logKey(&byID[i])]; !dup {
			merged = append(merged, byID[i])
		}
	}
	slices.SortStableFunc(merged, func(a, b LogRecord) int { return a.Timestamp.Compare(b.Timestamp) })
	return merged
}

// logKey identifies a log record well enough to drop the copy a second read
// returns; records have no id of their own.
func logKey(l *LogRecord) string {
	return strconv.FormatInt(l.Timestamp.UnixNano(), 10) + "|" + l.TraceID.String() + "|" + l.SpanID.String() + "|" + l.ServiceName + "|" + l.Body
}

// cutTo keeps at most limit items and reports whether any were dropped.
func cutTo[T any](items []T, limit int) ([]T, bool) {
	if len(items) > limit {
		return items[:limit], true
	}
	return items, false
}

func wrap(err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// runConcurrently runs the reads in parallel and returns the first error; a
// failure cancels the others.
func runConcurrently(ctx context.Context, reads ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(reads))
	var wg sync.WaitGroup
	for i, read := range reads {
		wg.Go(func() {
			if errs[i] = read(ctx); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		// Prefer the root cause over the cancellations it caused.
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(errs...)
}
