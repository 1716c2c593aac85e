package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
)

// Bounds of one request's correlated context, the correlate API's defaults:
// an analysis needs no more, and a runaway id must not exhaust memory.
const (
	maxTraces  = 100
	maxSpans   = 10_000
	maxLogs    = 5_000
	maxMetrics = 1_000
	// maxTracesPerBaselineRequest bounds the traces one healthy request
	// contributes to the baseline.
	maxTracesPerBaselineRequest = 4
)

// errNoSignals means the store holds nothing for the requested id.
var errNoSignals = errors.New("no signals")

// allTime leaves the read range open: a correlation id says nothing about
// when it happened, and the store prunes by trace id anyway.
var allTime = signalstore.TimeRange{}

// requestSignals is the correlated context of one request.
type requestSignals struct {
	id        string
	traceIDs  []signalstore.TraceID
	spans     []signalstore.Span
	logs      []signalstore.LogRecord
	metrics   []signalstore.MetricPoint
	truncated bool
}

// readRequest closes over trace ids like the correlate API: every trace
// carrying the id (plus the trace a derived id names), then the spans, logs
// and exemplar metric points of those traces, plus logs carrying the id
// without trace context.
func readRequest(ctx context.Context, store signalstore.Reader, id string) (*requestSignals, error) {
	rs := &requestSignals{id: id}
	var idLogs []signalstore.LogRecord
	err := runConcurrently(ctx,
		func(ctx context.Context) (err error) {
			rs.traceIDs, err = store.TraceIDsForCorrelation(ctx, id, allTime)
			return wrap(err, "trace ids for correlation")
		},
		func(ctx context.Context) (err error) {
			idLogs, err = store.LogsByCorrelationID(ctx, id, allTime, maxLogs+1)
			return wrap(err, "logs by correlation id")
		},
	)
	if err != nil {
		return nil, err
	}
	if derived, ok := correlationid.TraceID(id); ok && !slices.Contains(rs.traceIDs, signalstore.TraceID(derived)) {
		rs.traceIDs = append(rs.traceIDs, signalstore.TraceID(derived))
	}
	if len(rs.traceIDs) > maxTraces {
		rs.traceIDs, rs.truncated = rs.traceIDs[:maxTraces], true
	}
	if len(rs.traceIDs) > 0 {
		err = runConcurrently(ctx,
			func(ctx context.Context) (err error) {
				rs.spans, err = store.SpansByTraceIDs(ctx, rs.traceIDs, allTime)
				return wrap(err, "spans by trace ids")
			},
			func(ctx context.Context) (err error) {
				rs.logs, err = store.LogsByTraceIDs(ctx, rs.traceIDs, allTime, maxLogs+1)
				return wrap(err, "logs by trace ids")
			},
			func(ctx context.Context) (err error) {
				rs.metrics, err = store.MetricPointsByExemplarTraceIDs(ctx, rs.traceIDs, allTime, maxMetrics+1)
				return wrap(err, "metric points by exemplar trace ids")
			},
		)
		if err != nil {
			return nil, err
		}
	}
	rs.logs = mergeLogs(rs.logs, idLogs)
	if len(rs.spans) == 0 && len(rs.logs) == 0 {
		return nil, errNoSignals
	}
	sortSpansByTime(rs.spans)
	var cut [3]bool
	rs.spans, cut[0] = cutTo(rs.spans, maxSpans)
	rs.logs, cut[1] = cutTo(rs.logs, maxLogs)
	rs.metrics, cut[2] = cutTo(rs.metrics, maxMetrics)
	rs.truncated = rs.truncated || cut[0] || cut[1] || cut[2]
	return rs, nil
}

// entry is where a request entered the system: its earliest root span.
type entry struct {
	service, operation string
	start, end         time.Time
}

func entryOf(spans []signalstore.Span) entry {
	var e entry
	for i := range spans {
		sp := &spans[i]
		if e.start.IsZero() || sp.Timestamp.Before(e.start) {
			e.start = sp.Timestamp
		}
		if end := sp.Timestamp.Add(sp.Duration); end.After(e.end) {
			e.end = end
		}
	}
	// spans are in time order, so the first root is the earliest.
	for i := range spans {
		if spans[i].ParentSpanID.IsEmpty() {
			e.service, e.operation = spans[i].ServiceName, spans[i].SpanName
			break
		}
	}
	return e
}

// healthy is the baseline history: spans and logs of healthy requests of
// the entry service, with which of them share the entry operation.
type healthy struct {
	requests     int
	sameEntry    int
	spans        []signalstore.Span
	logs         []signalstore.LogRecord
	sameOpSpans  []signalstore.Span
	correlations []string
}

// readBaseline reads healthy requests of the request's entry service from
// the lookback window before it: correlations without error spans, this one
// excluded, at most cfg.MaxRequests of them.
func readBaseline(ctx context.Context, store signalstore.Reader, cfg BaselineConfig, id string, e entry) (*healthy, error) {
	h := &healthy{}
	if e.service == "" {
		return h, nil // no root span: nothing to compare with
	}
	since := e.start.Add(-cfg.Lookback)
	// Over-read, as erroring requests are dropped after listing.
	found, err := store.RecentCorrelations(ctx, signalstore.CorrelationFilter{Service: e.service, Since: since, Limit: 2*cfg.MaxRequests + 1})
	if err != nil {
		return nil, wrap(err, "recent correlations")
	}
	var traceIDs []signalstore.TraceID
	sameOp := map[signalstore.TraceID]bool{}
	for _, c := range found {
		if c.CorrelationID == id || c.ErrorCount > 0 {
			continue
		}
		if h.requests >= cfg.MaxRequests {
			break
		}
		ids, err := store.TraceIDsForCorrelation(ctx, c.CorrelationID, signalstore.TimeRange{Start: since})
		if err != nil {
			return nil, wrap(err, "trace ids of a baseline correlation")
		}
		ids, _ = cutTo(ids, maxTracesPerBaselineRequest)
		same := c.RootService == e.service && c.RootSpanName == e.operation
		for _, t := range ids {
			traceIDs = append(traceIDs, t)
			sameOp[t] = same
		}
		h.requests++
		if same {
			h.sameEntry++
		}
		h.correlations = append(h.correlations, c.CorrelationID)
	}
	if len(traceIDs) == 0 {
		return h, nil
	}
	err = runConcurrently(ctx,
		func(ctx context.Context) (err error) {
			h.spans, err = store.SpansByTraceIDs(ctx, traceIDs, signalstore.TimeRange{Start: since})
			return wrap(err, "baseline spans")
		},
		func(ctx context.Context) (err error) {
			h.logs, err = store.LogsByTraceIDs(ctx, traceIDs, signalstore.TimeRange{Start: since}, maxLogs)
			return wrap(err, "baseline logs")
		},
	)
	if err != nil {
		return nil, err
	}
	h.spans, _ = cutTo(h.spans, maxSpans)
	for i := range h.spans {
		if sameOp[h.spans[i].TraceID] {
			h.sameOpSpans = append(h.sameOpSpans, h.spans[i])
		}
	}
	return h, nil
}

// mergeLogs joins logs read by trace id and by correlation id, in time
// order, dropping the records both reads returned.
func mergeLogs(byTrace, byID []signalstore.LogRecord) []signalstore.LogRecord {
	if len(byID) == 0 {
		return byTrace
	}
	type key struct {
		ts      int64
		trace   signalstore.TraceID
		span    signalstore.SpanID
		service string
		body    string
	}
	keyOf := func(l *signalstore.LogRecord) key {
		return key{l.Timestamp.UnixNano(), l.TraceID, l.SpanID, l.ServiceName, l.Body}
	}
	seen := make(map[key]struct{}, len(byTrace))
	for i := range byTrace {
		seen[keyOf(&byTrace[i])] = struct{}{}
	}
	merged := slices.Clone(byTrace)
	for i := range byID {
		if _, dup := seen[keyOf(&byID[i])]; !dup {
			merged = append(merged, byID[i])
		}
	}
	slices.SortStableFunc(merged, func(a, b signalstore.LogRecord) int { return a.Timestamp.Compare(b.Timestamp) })
	return merged
}

func sortSpansByTime(spans []signalstore.Span) {
	slices.SortStableFunc(spans, func(a, b signalstore.Span) int {
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		return slices.Compare(a.SpanID[:], b.SpanID[:])
	})
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

// runConcurrently runs the reads in parallel and returns the first error;
// a failure cancels the others.
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
