package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
)

// requestLimits bound one request's correlated context, the correlate API's
// defaults: an analysis needs no more, and a runaway id must not exhaust memory.
var requestLimits = signalstore.CorrelationLimits{MaxTraces: 100, MaxSpans: 10_000, MaxLogs: 5_000, MaxMetrics: 1_000}

// maxTracesPerBaselineRequest bounds the traces one healthy request
// contributes to the baseline.
const maxTracesPerBaselineRequest = 4

// errNoSignals means the store holds nothing for the requested id.
var errNoSignals = errors.New("no signals")

// requestSignals is the correlated context of one request.
type requestSignals struct {
	id        string
	traceIDs  []signalstore.TraceID
	spans     []signalstore.Span
	logs      []signalstore.LogRecord
	metrics   []signalstore.MetricPoint
	truncated bool
}

// readRequest reads the request like the correlate API does
// (signalstore.ReadCorrelation); a derived id also names its trace.
func readRequest(ctx context.Context, store signalstore.Reader, id string) (*requestSignals, error) {
	var also []signalstore.TraceID
	if derived, ok := correlationid.TraceID(id); ok {
		also = append(also, signalstore.TraceID(derived))
	}
	c, err := signalstore.ReadCorrelation(ctx, store, id, requestLimits, also...)
	if err != nil {
		return nil, err
	}
	if len(c.Spans) == 0 && len(c.Logs) == 0 {
		return nil, errNoSignals
	}
	return &requestSignals{
		id: id, traceIDs: c.TraceIDs, spans: c.Spans, logs: c.Logs, metrics: c.Metrics,
		truncated: c.Truncated.Any(),
	}, nil
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
		return nil, fmt.Errorf("recent correlations: %w", err)
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
			return nil, fmt.Errorf("trace ids of a baseline correlation: %w", err)
		}
		if len(ids) > maxTracesPerBaselineRequest {
			ids = ids[:maxTracesPerBaselineRequest]
		}
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
	within := signalstore.TimeRange{Start: since}
	if h.spans, err = store.SpansByTraceIDs(ctx, traceIDs, within, requestLimits.MaxSpans); err != nil {
		return nil, fmt.Errorf("baseline spans: %w", err)
	}
	if h.logs, err = store.LogsByTraceIDs(ctx, traceIDs, within, requestLimits.MaxLogs); err != nil {
		return nil, fmt.Errorf("baseline logs: %w", err)
	}
	for i := range h.spans {
		if sameOp[h.spans[i].TraceID] {
			h.sameOpSpans = append(h.sameOpSpans, h.spans[i])
		}
	}
	return h, nil
}
