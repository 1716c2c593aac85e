package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"context"
	"errors"
	"slices"

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

// correlate reads everything about one correlation (signalstore.ReadCorrelation);
// a derived id also names its trace, found with no index.
func (r *reader) correlate(ctx context.Context, id string) (*correlatedContext, error) {
	var also []signalstore.TraceID
	if derived, ok := correlationid.TraceID(id); ok {
		also = append(also, signalstore.TraceID(derived))
	}
	c, err := signalstore.ReadCorrelation(ctx, r.store, id, r.correlationLimits(), also...)
	if err != nil {
		return nil, err
	}
	if len(c.Spans) == 0 && len(c.Logs) == 0 && len(c.Metrics) == 0 {
		return nil, errNoSignals
	}
	return buildContext(id, c), nil
}

func (r *reader) correlationLimits() signalstore.CorrelationLimits {
	return signalstore.CorrelationLimits{
		MaxTraces: r.limits.MaxTraces, MaxSpans: r.limits.MaxSpans,
		MaxLogs: r.limits.MaxLogs, MaxMetrics: r.limits.MaxMetrics,
	}
}

// trace reads one trace with its logs.
func (r *reader) trace(ctx context.Context, traceID signalstore.TraceID) (*traceResponse, error) {
	s, err := signalstore.ReadTraces(ctx, r.store, []signalstore.TraceID{traceID}, r.correlationLimits())
	if err != nil {
		return nil, err
	}
	if len(s.Spans) == 0 && len(s.Logs) == 0 {
		return nil, errNoSignals
	}
	groups := groupTraces(s.Spans)
	resp := &traceResponse{
		Trace:          traceGroup{TraceID: traceID, Spans: []signalstore.Span{}, Services: []string{}},
		Logs:           nonNil(s.Logs),
		CorrelationIDs: correlationIDsOf(s.Spans, s.Logs),
		Truncated:      truncation{Spans: s.Truncated.Spans, Logs: s.Truncated.Logs},
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
