package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
)

// errNoSignals means the store holds nothing for the requested id.
var errNoSignals = errors.New("no signals")

// reader reads the signals of one correlation or trace through the store's
// primitives and cuts them to the configured limits.
type reader struct {
	store  signalstore.Reader
	limits LimitsConfig
}

// allTime leaves the read range open: a correlation id says nothing about
// when it happened, and the store prunes by trace id anyway.
var allTime = signalstore.TimeRange{}

// correlate closes over trace ids as DESIGN.md says: every trace carrying
// the id (plus the trace a derived id names, with no index), then every
// span, log and exemplar metric point of those traces, plus logs carrying
// the id without trace context.
func (r *reader) correlate(ctx context.Context, id string) (*correlatedContext, error) {
	var (
		traceIDs []signalstore.TraceID
		idLogs   []signalstore.LogRecord
	)
	err := runConcurrently(ctx,
		func(ctx context.Context) (err error) {
			traceIDs, err = r.store.TraceIDsForCorrelation(ctx, id, allTime)
			return wrap(err, "trace ids for correlation")
		},
		func(ctx context.Context) (err error) {
			idLogs, err = r.store.LogsByCorrelationID(ctx, id, allTime, r.limits.MaxLogs+1)
			return wrap(err, "logs by correlation id")
		},
	)
	if err != nil {
		return nil, err
	}
	if derived, ok := correlationid.TraceID(id); ok && !slices.Contains(traceIDs, signalstore.TraceID(derived)) {
		traceIDs = append(traceIDs, signalstore.TraceID(derived))
	}
	var cut truncation
	if len(traceIDs) > r.limits.MaxTraces {
		traceIDs, cut.Traces = traceIDs[:r.limits.MaxTraces], true
	}

	sig, err := r.signalsOf(ctx, traceIDs)
	if err != nil {
		return nil, err
	}
	logs := mergeLogs(sig.logs, idLogs)
	if len(sig.spans) == 0 && len(logs) == 0 && len(sig.metrics) == 0 {
		return nil, errNoSignals
	}
	cut.Spans = sig.cut.Spans
	spans := sig.spans
	logs, cut.Logs = cutTo(logs, r.limits.MaxLogs)
	cut.Logs = cut.Logs || sig.cut.Logs
	metrics := sig.metrics
	cut.Metrics = sig.cut.Metrics
	return buildContext(id, spans, logs, metrics, cut), nil
}

// signals are the spans, logs and exemplar metric points of some traces.
type signals struct {
	spans   []signalstore.Span
	logs    []signalstore.LogRecord
	metrics []signalstore.MetricPoint
	cut     truncation
}

// signalsOf reads everything of the given traces, each signal concurrently
// (the embedded store serves reads from a pool of connections).
func (r *reader) signalsOf(ctx context.Context, traceIDs []signalstore.TraceID) (signals, error) {
	var s signals
	if len(traceIDs) == 0 {
		return s, nil
	}
	err := runConcurrently(ctx,
		func(ctx context.Context) (err error) {
			s.spans, err = r.store.SpansByTraceIDs(ctx, traceIDs, allTime)
			return wrap(err, "spans by trace ids")
		},
		func(ctx context.Context) (err error) {
			s.logs, err = r.store.LogsByTraceIDs(ctx, traceIDs, allTime, r.limits.MaxLogs+1)
			return wrap(err, "logs by trace ids")
		},
		func(ctx context.Context) (err error) {
			s.metrics, err = r.store.MetricPointsByExemplarTraceIDs(ctx, traceIDs, allTime, r.limits.MaxMetrics+1)
			return wrap(err, "metric points by exemplar trace ids")
		},
	)
	if err != nil {
		return s, err
	}
	// The store orders spans by trace; keep the earliest ones overall so a
	// cut answer still shows how the request began in every trace.
	sortSpansByTime(s.spans)
	s.spans, s.cut.Spans = cutTo(s.spans, r.limits.MaxSpans)
	s.logs, s.cut.Logs = cutTo(s.logs, r.limits.MaxLogs)
	s.metrics, s.cut.Metrics = cutTo(s.metrics, r.limits.MaxMetrics)
	return s, nil
}

// trace reads one trace with its logs.
func (r *reader) trace(ctx context.Context, traceID signalstore.TraceID) (*traceResponse, error) {
	s, err := r.signalsOf(ctx, []signalstore.TraceID{traceID})
	if err != nil {
		return nil, err
	}
	if len(s.spans) == 0 && len(s.logs) == 0 {
		return nil, errNoSignals
	}
	groups := groupTraces(s.spans)
	resp := &traceResponse{
		Trace:          traceGroup{TraceID: traceID, Spans: []signalstore.Span{}, Services: []string{}},
		Logs:           nonNil(s.logs),
		CorrelationIDs: correlationIDsOf(s.spans, s.logs),
		Truncated:      truncation{Spans: s.cut.Spans, Logs: s.cut.Logs},
	}
	if len(groups) == 1 {
		resp.Trace = groups[0]
	}
	return resp, nil
}

func correlationIDsOf(spans []signalstore.Span, logs []signalstore.LogRecord) []string {
	ids := []string{}
	for i := range spans {
		if id := spans[i].CorrelationID; id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for i := range logs {
		if id := logs[i].CorrelationID; id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// mergeLogs joins logs read by trace id and by correlation id, in time
// order, dropping the records both reads returned.
func mergeLogs(byTrace, byID []signalstore.LogRecord) []signalstore.LogRecord {
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
	slices.SortStableFunc(merged, func(a, b signalstore.LogRecord) int { return a.Timestamp.Compare(b.Timestamp) })
	return merged
}

// logKey identifies a log record well enough to drop the copy a second
// read returns; records have no id of their own.
func logKey(l *signalstore.LogRecord) string {
	return strconv.FormatInt(l.Timestamp.UnixNano(), 10) + "|" + l.TraceID.String() + "|" + l.SpanID.String() + "|" + l.ServiceName + "|" + l.Body
}

// cutTo keeps at most limit items and reports whether any were dropped.
func cutTo[T any](items []T, limit int) ([]T, bool) {
	if len(items) > limit {
		return items[:limit], true
	}
	return items, false
}

func nonNil[T any](items []T) []T {
	if items == nil {
		return []T{}
	}
	return items
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
