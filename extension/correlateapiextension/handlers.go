package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/internal/httpapi"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

// correlatedContext returns the answer for the id in the path, from the cache when
// the correlation has gone quiet.
func (a *api) correlatedContext(ctx context.Context, r *http.Request) (*correlatedContext, *httpapi.Error) {
	id, aerr := parseCorrelationID(mux.Vars(r)[paramCorrelationID])
	if aerr != nil {
		return nil, aerr
	}
	if cached, ok := a.cache.get(id, a.now()); ok {
		return cached, nil
	}
	answer, err := a.reader.correlate(ctx, id)
	if errors.Is(err, errNoSignals) {
		return nil, httpapi.NotFound("no signals carry correlation id " + id)
	}
	if err != nil {
		return nil, a.readError(ctx, err)
	}
	a.cache.put(answer, a.now())
	return answer, nil
}

func (a *api) getCorrelate(w http.ResponseWriter, r *http.Request, _ url.Values) *httpapi.Error {
	// One request_timeout bounds every store read of the answer, the
	// insights included.
	ctx, cancel := a.withTimeout(w, r)
	defer cancel()
	answer, aerr := a.correlatedContext(ctx, r)
	if aerr != nil {
		return aerr
	}
	withInsights := *answer // the cached answer is shared: never write to it
	withInsights.AIInsights = a.latestInsights(ctx, answer.CorrelationID)
	httpapi.WriteJSON(w, a.logger, http.StatusOK, &withInsights)
	return nil
}

// latestInsights reads the newest analysis of the correlation within what
// is left of the request's timeout. Insights are an extra: a store without
// documents, a failed or timed-out read or a malformed document give the
// empty insights, never a failed answer.
func (a *api) latestInsights(ctx context.Context, id string) aiInsights {
	empty := aiInsights{Hypotheses: []any{}}
	if a.docs == nil {
		return empty
	}
	docs, err := a.docs.ListDocuments(ctx, signalstore.DocumentFilter{Kind: signalstore.DocumentKindAnalysis, Ref: id, Limit: 1})
	if err != nil {
		a.logger.Debug("Reading AI insights failed", zap.String("correlation_id", id), zap.Error(err))
		return empty
	}
	if len(docs) == 0 {
		return empty
	}
	var in aiInsights
	if err := json.Unmarshal(docs[0].Body, &in); err != nil {
		a.logger.Warn("Ignoring a malformed analysis document", zap.String("correlation_id", id), zap.Error(err))
		return empty
	}
	if in.Hypotheses == nil {
		in.Hypotheses = []any{}
	}
	return in
}

func (a *api) getTimeline(w http.ResponseWriter, r *http.Request, _ url.Values) *httpapi.Error {
	ctx, cancel := a.withTimeout(w, r)
	defer cancel()
	answer, aerr := a.correlatedContext(ctx, r)
	if aerr != nil {
		return aerr
	}
	httpapi.WriteJSON(w, a.logger, http.StatusOK, timelineResponse{
		CorrelationID: answer.CorrelationID,
		TimeRange:     answer.TimeRange,
		Events:        answer.Timeline,
		Truncated:     answer.Truncated,
	})
	return nil
}

func (a *api) getImpact(w http.ResponseWriter, r *http.Request, _ url.Values) *httpapi.Error {
	ctx, cancel := a.withTimeout(w, r)
	defer cancel()
	answer, aerr := a.correlatedContext(ctx, r)
	if aerr != nil {
		return aerr
	}
	httpapi.WriteJSON(w, a.logger, http.StatusOK, buildImpact(answer))
	return nil
}

func (a *api) getTrace(w http.ResponseWriter, r *http.Request, _ url.Values) *httpapi.Error {
	traceID, aerr := parseTraceID(mux.Vars(r)[paramTraceID])
	if aerr != nil {
		return aerr
	}
	ctx, cancel := a.withTimeout(w, r)
	defer cancel()
	resp, err := a.reader.trace(ctx, traceID)
	if errors.Is(err, errNoSignals) {
		return httpapi.NotFound("no signals of trace " + traceID.String())
	}
	if err != nil {
		return a.readError(ctx, err)
	}
	httpapi.WriteJSON(w, a.logger, http.StatusOK, resp)
	return nil
}

func (a *api) getCorrelations(w http.ResponseWriter, r *http.Request, q url.Values) *httpapi.Error {
	filter, aerr := parseCorrelationFilter(q, a.now(), a.cfg.Limits.MaxCorrelations)
	if aerr != nil {
		return aerr
	}
	ctx, cancel := a.withTimeout(w, r)
	defer cancel()
	found, err := a.store.RecentCorrelations(ctx, filter)
	if err != nil {
		return a.readError(ctx, err)
	}
	found = nonNil(found)
	for i := range found {
		found[i].Services = nonNil(found[i].Services)
	}
	httpapi.WriteJSON(w, a.logger, http.StatusOK, correlationsResponse{Correlations: found, Count: len(found)})
	return nil
}

func (a *api) getServices(w http.ResponseWriter, r *http.Request, q url.Values) *httpapi.Error {
	window, aerr := parseTimeWindow(q, a.now())
	if aerr != nil {
		return aerr
	}
	ctx, cancel := a.withTimeout(w, r)
	defer cancel()
	read, covered := wholePeriods(window, a.now())
	edges, err := a.store.ServiceEdges(ctx, read)
	if err != nil {
		return a.readError(ctx, err)
	}
	// A service that calls no other instrumented service, and is called by
	// none, is in no edge: the spans list it.
	spanServices, err := a.store.Query(ctx, servicesQuery(read))
	if err != nil {
		return a.readError(ctx, err)
	}
	httpapi.WriteJSON(w, a.logger, http.StatusOK, topology(covered, edges, spanServices))
	return nil
}

// servicesQuery lists the services with spans in the window, in name order.
// The embedded store answers it from its per-minute rollup.
func servicesQuery(window signalstore.TimeRange) signalstore.Query {
	return signalstore.Query{
		Signal:       signalstore.SignalSpans,
		Start:        window.Start,
		End:          window.End,
		GroupBy:      []signalstore.GroupBy{{Field: signalstore.FieldServiceName}},
		Aggregations: []signalstore.Aggregation{{Func: signalstore.AggCount}},
		Limit:        signalstore.MaxQueryLimit,
	}
}

// wholePeriods widens window to whole signalstore.ServiceEdgeResolution
// periods, which every backend counts alike, and returns it with the part of
// it the counts can cover: up to now, or to the window's end if later. Rates
// are per second of that part, so that a window of a few seconds is not
// divided by its own length while counting a whole minute.
func wholePeriods(window signalstore.TimeRange, now time.Time) (read, covered signalstore.TimeRange) {
	const period = signalstore.ServiceEdgeResolution
	read.Start, read.End = window.Start.Truncate(period), window.End.Truncate(period)
	if read.End.Before(window.End) {
		read.End = read.End.Add(period)
	}
	// Stores refuse times they cannot hold, which widening a window at
	// their edge would make.
	read.Start = maxTime(read.Start, signalstore.MinTime)
	if read.End.After(signalstore.MaxTime) {
		read.End = signalstore.MaxTime
	}
	covered = read
	if end := maxTime(window.End, now); end.Before(covered.End) {
		covered.End = end
	}
	return read, covered
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// topology turns edge counts into rates over the window and lists the
// services of the edges and of spanServices (the result of servicesQuery).
func topology(window signalstore.TimeRange, edges []signalstore.ServiceEdge, spanServices *signalstore.QueryResult) servicesResponse {
	seconds := window.End.Sub(window.Start).Seconds()
	resp := servicesResponse{
		TimeRange:     timeRange{Start: window.Start, End: window.End},
		WindowSeconds: seconds,
		Services:      []string{},
		Edges:         make([]serviceEdge, 0, len(edges)),
	}
	for _, e := range edges {
		out := serviceEdge{
			Caller:           e.Caller,
			Callee:           e.Callee,
			RequestCount:     e.RequestCount,
			ErrorCount:       e.ErrorCount,
			RequestRate:      float64(e.RequestCount) / seconds,
			AvgDurationNanos: e.AvgDuration.Nanoseconds(),
			P50DurationNanos: e.P50Duration.Nanoseconds(),
			P95DurationNanos: e.P95Duration.Nanoseconds(),
			P99DurationNanos: e.P99Duration.Nanoseconds(),
		}
		if e.RequestCount > 0 {
			out.ErrorRate = float64(e.ErrorCount) / float64(e.RequestCount)
		}
		resp.Edges = append(resp.Edges, out)
		resp.Services = append(resp.Services, e.Caller, e.Callee)
	}
	for _, row := range spanServices.Rows {
		if name, ok := row[0].(string); ok && name != "" {
			resp.Services = append(resp.Services, name)
		}
	}
	resp.ServicesTruncated = spanServices.Truncated
	slices.Sort(resp.Services)
	resp.Services = slices.Compact(resp.Services)
	return resp
}
