package correlateapiextension

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/ollystack/ollystack/internal/httpapi"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

func startScenario(t *testing.T, base time.Time, configure func(*Config)) (*server, *scenario, signalstore.Store) {
	t.Helper()
	store := openStore(t)
	sc := newScenario(base)
	sc.write(t, store)
	return startServer(t, hostWith(store), configure), sc, store
}

func TestCorrelateClosesOverTraces(t *testing.T) {
	srv, sc, _ := startScenario(t, time.Now().Add(-time.Minute), nil)
	r := srv.get(t, "/api/v1/correlate/"+sc.id)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	c := decode[correlatedContext](t, r)

	assert.Equal(t, sc.id, c.CorrelationID)
	require.Len(t, c.Traces, 2, "both traces carrying the id, not the unrelated one")
	assert.Equal(t, sc.traceA, c.Traces[0].TraceID, "traces in order of their first span")
	assert.Equal(t, sc.gatewayRoot, c.Traces[0].RootSpanID)
	assert.Equal(t, 3, c.Traces[0].SpanCount)
	assert.Equal(t, sc.traceB, c.Traces[1].TraceID)
	assert.Equal(t, sc.paymentsConsume, c.Traces[1].RootSpanID, "root found although exported after its child")
	for _, sp := range c.Traces[0].Spans {
		if sp.SpanID == sc.ordersSrv {
			assert.Equal(t, sc.gatewayRoot, sp.ParentSpanID, "parent links intact")
		}
	}

	assert.Equal(t, []string{"gateway", "orders", "payments"}, c.Services)
	require.Len(t, c.Logs, 3, "two logs by trace id and one by correlation id only")
	assert.Equal(t, "order 1234 created", c.Logs[0].Body, "logs in time order")
	require.Len(t, c.Metrics, 1)
	assert.Equal(t, "http.server.request.duration", c.Metrics[0].MetricName)

	assert.Equal(t, summary{
		TraceCount: 2, SpanCount: 5, LogCount: 3, MetricCount: 1, ErrorCount: 3,
		DurationNanos: (400 * time.Millisecond).Nanoseconds(), Services: c.Services,
		EntryService: "gateway", EntryOperation: "POST /checkout", Status: "error",
	}, c.Summary)
	assert.Equal(t, sc.at(0), c.TimeRange.Start)
	assert.Equal(t, sc.at(400), c.TimeRange.End)
	assert.Equal(t, truncation{}, c.Truncated)
	assert.Empty(t, c.AIInsights.Hypotheses)

	require.Len(t, c.Errors, 2, "the two failed spans share a fingerprint; the error log has its own")
	for _, g := range c.Errors {
		assert.Equal(t, "payments", g.Service)
		assert.True(t, g.OriginCandidate)
		assert.Equal(t, []signalstore.TraceID{sc.traceB}, g.TraceIDs)
	}
	spanGroup := c.Errors[slices.IndexFunc(c.Errors, func(g errorGroup) bool { return g.SpanCount > 0 })]
	assert.Equal(t, "PoolTimeoutError", spanGroup.ExceptionType)
	assert.Equal(t, "connection pool exhausted after <n> ms", spanGroup.Message)
	assert.Equal(t, 2, spanGroup.Count)

	assertTimeline(t, c.Timeline)
	assert.Equal(t, sc.gatewayRoot, c.Timeline[0].SpanID, "the timeline opens with the entry span")
}

func assertTimeline(t *testing.T, events []timelineEvent) {
	t.Helper()
	require.NotEmpty(t, events)
	assert.True(t, slices.IsSortedFunc(events, func(a, b timelineEvent) int { return a.Timestamp.Compare(b.Timestamp) }), "chronological")
	counts := map[string]int{}
	for _, e := range events {
		counts[e.Type]++
	}
	assert.Equal(t, map[string]int{eventSpan: 5, eventLog: 3, eventError: 2, eventMetric: 1}, counts)
}

func TestCorrelateDerivedIDResolvesWithoutIndex(t *testing.T) {
	srv, sc, _ := startScenario(t, time.Now().Add(-time.Minute), nil)
	r := srv.get(t, "/api/v1/correlate/"+sc.derivedID)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	c := decode[correlatedContext](t, r)
	require.Len(t, c.Traces, 1)
	assert.Equal(t, sc.traceC, c.Traces[0].TraceID)
	require.Len(t, c.Logs, 1)
	assert.Equal(t, "listed orders", c.Logs[0].Body)
	assert.Equal(t, "ok", c.Summary.Status)
	assert.Empty(t, c.Errors)
}

func TestCorrelateUnknownID(t *testing.T) {
	srv, _, _ := startScenario(t, time.Now().Add(-time.Minute), nil)
	for _, id := range []string{"olly-nobody", "olly-t-" + "ff0102030405060708090a0b0c0d0e0f"} {
		r := srv.get(t, "/api/v1/correlate/"+id)
		assert.Equal(t, http.StatusNotFound, r.status, id)
		assert.Equal(t, httpapi.CodeNotFound, decode[errorBody](t, r).Error.Code)
	}
}

func TestTimelineAndImpact(t *testing.T) {
	srv, sc, _ := startScenario(t, time.Now().Add(-time.Minute), nil)

	r := srv.get(t, "/api/v1/correlate/"+sc.id+"/timeline")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	tl := decode[timelineResponse](t, r)
	assert.Equal(t, sc.id, tl.CorrelationID)
	assertTimeline(t, tl.Events)

	r = srv.get(t, "/api/v1/correlate/"+sc.id+"/impact")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	im := decode[impactResponse](t, r)
	assert.Equal(t, 2, im.TraceCount)
	assert.Equal(t, 3, im.RequestCount, "two server spans and one consumer span")
	assert.Equal(t, 2, im.ErrorCount)
	assert.InDelta(t, 0.4, im.ErrorRate, 1e-9)
	assert.Equal(t, []string{"user-42"}, im.Users)
	assert.Equal(t, []string{"acme"}, im.Tenants)
	require.Len(t, im.Services, 3)
	payments := im.Services[2]
	assert.Equal(t, serviceImpact{Service: "payments", SpanCount: 2, RequestCount: 1, ErrorCount: 2, LogCount: 1, ErrorLogCount: 1,
		MaxDurationNanos: (200 * time.Millisecond).Nanoseconds()}, payments)
	require.NotEmpty(t, im.Operations)
	assert.Equal(t, "payments", im.Operations[0].Service, "failing operations first")
}

func TestTrace(t *testing.T) {
	srv, sc, _ := startScenario(t, time.Now().Add(-time.Minute), nil)
	r := srv.get(t, "/api/v1/traces/"+sc.traceA.String())
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	tr := decode[traceResponse](t, r)
	assert.Equal(t, sc.traceA, tr.Trace.TraceID)
	assert.Equal(t, 3, tr.Trace.SpanCount)
	assert.Equal(t, []string{"gateway", "orders"}, tr.Trace.Services)
	assert.Len(t, tr.Logs, 1)
	assert.Equal(t, []string{sc.id}, tr.CorrelationIDs)

	r = srv.get(t, "/api/v1/traces/0f0e0d0c0b0a09080706050403020100")
	assert.Equal(t, http.StatusNotFound, r.status)
}

func TestCorrelations(t *testing.T) {
	srv, sc, _ := startScenario(t, time.Now().Add(-time.Minute), nil)
	r := srv.get(t, "/api/v1/correlations?since=1h&limit=10")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	list := decode[correlationsResponse](t, r)
	require.Equal(t, list.Count, len(list.Correlations))
	ids := []string{}
	for _, c := range list.Correlations {
		ids = append(ids, c.CorrelationID)
	}
	assert.Contains(t, ids, sc.id)

	q := url.Values{"service": {"payments"}, "errors": {"true"}, "min_duration": {"100ms"}}
	r = srv.get(t, "/api/v1/correlations?"+q.Encode())
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	list = decode[correlationsResponse](t, r)
	require.Equal(t, 1, list.Count)
	assert.Equal(t, sc.id, list.Correlations[0].CorrelationID)
	assert.Equal(t, int64(2), list.Correlations[0].TraceCount)

	// The scenario started a minute ago: a window that ends before it is
	// empty, one that ends now holds it.
	q.Set("until", time.Now().Add(-2*time.Minute).UTC().Format(time.RFC3339Nano))
	r = srv.get(t, "/api/v1/correlations?"+q.Encode())
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	assert.Equal(t, 0, decode[correlationsResponse](t, r).Count)
	q.Set("until", time.Now().UTC().Format(time.RFC3339Nano))
	r = srv.get(t, "/api/v1/correlations?"+q.Encode())
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	assert.Equal(t, 1, decode[correlationsResponse](t, r).Count)
}

func TestServices(t *testing.T) {
	srv, _, _ := startScenario(t, time.Now().Add(-time.Minute), nil)
	r := srv.get(t, "/api/v1/services?since=10m")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	topo := decode[servicesResponse](t, r)
	// Ten minutes widened to whole minutes, up to now.
	assert.True(t, topo.TimeRange.Start.Equal(topo.TimeRange.Start.Truncate(time.Minute)), "%v", topo.TimeRange)
	assert.GreaterOrEqual(t, topo.WindowSeconds, 600.0)
	assert.Less(t, topo.WindowSeconds, 661.0)
	require.NotEmpty(t, topo.Edges)
	i := slices.IndexFunc(topo.Edges, func(e serviceEdge) bool { return e.Caller == "gateway" && e.Callee == "orders" })
	require.GreaterOrEqual(t, i, 0, "%+v", topo.Edges)
	edge := topo.Edges[i]
	assert.Equal(t, int64(1), edge.RequestCount)
	assert.InDelta(t, 1/topo.WindowSeconds, edge.RequestRate, 1e-9)
	assert.Positive(t, edge.P95DurationNanos)
	assert.Contains(t, topo.Services, "gateway")
}

// TestServicesWithoutEdges: a service that calls no other instrumented
// service and is called by none is listed, as long as it has spans in the
// window.
func TestServicesWithoutEdges(t *testing.T) {
	srv, sc, store := startScenario(t, time.Now().Add(-time.Minute), nil)
	alone := signalstore.TraceID{0xd4, 1}
	old := signalstore.TraceID{0xe5, 1}
	td := sc.traces(
		spanDef{service: "inventory", trace: alone, id: signalstore.SpanID{0xd4, 1}, name: "GET /stock", durMs: 5},
		spanDef{service: "inventory", trace: alone, id: signalstore.SpanID{0xd4, 2}, parent: signalstore.SpanID{0xd4, 1}, name: "SELECT", startMs: 1, durMs: 2},
		// An hour before the window.
		spanDef{service: "archive", trace: old, id: signalstore.SpanID{0xe5, 1}, name: "GET /old", startMs: -3_600_000, durMs: 5},
	)
	require.NoError(t, store.WriteTraces(context.Background(), td))

	r := srv.get(t, "/api/v1/services?since=10m")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	topo := decode[servicesResponse](t, r)
	assert.Equal(t, []string{"gateway", "inventory", "orders", "payments"}, topo.Services)
	assert.False(t, topo.ServicesTruncated)
	for _, e := range topo.Edges {
		assert.NotEqual(t, "inventory", e.Caller)
		assert.NotEqual(t, "inventory", e.Callee)
	}
}

// TestServicesAtTheEdgeOfTime: widened to whole minutes, a window the API
// accepts must stay within the times stores hold.
func TestServicesAtTheEdgeOfTime(t *testing.T) {
	srv := startServer(t, hostWith(openStore(t)), nil)
	for _, window := range []string{"since=2262-04-11T00:00:00Z&until=2262-04-11T23:47:16Z", "since=1677-09-21T00:12:44Z&until=1677-09-21T01:00:00Z"} {
		r := srv.get(t, "/api/v1/services?"+window)
		require.Equal(t, http.StatusOK, r.status, "%s: %s", window, r.body)
	}
}

func TestTopologyListsEachServiceOnce(t *testing.T) {
	window := signalstore.TimeRange{Start: time.Unix(0, 0), End: time.Unix(60, 0)}
	edges := []signalstore.ServiceEdge{{Caller: "web", Callee: "api", RequestCount: 6}, {Caller: "api", Callee: "db", RequestCount: 3}}
	spans := &signalstore.QueryResult{Rows: [][]any{{"", int64(1)}, {"api", int64(9)}, {"batch", int64(2)}, {"web", int64(6)}}, Truncated: true}
	resp := topology(window, edges, spans)
	assert.Equal(t, []string{"api", "batch", "db", "web"}, resp.Services)
	assert.True(t, resp.ServicesTruncated)
	assert.InDelta(t, 0.1, resp.Edges[0].RequestRate, 1e-9)
}

// TestServiceWindowsAreWholeMinutes: stores may count edges per minute, so
// the window is widened to whole minutes, and rates are per second of the
// part of it that can hold data: a 30-second window must not divide a
// minute's count by 30.
func TestServiceWindowsAreWholeMinutes(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 40, 0, time.UTC)
	at := func(m, s int) time.Time { return time.Date(2026, 11, 23, 11, m, s, 0, time.UTC) }
	tr := func(a, b time.Time) signalstore.TimeRange { return signalstore.TimeRange{Start: a, End: b} }
	tests := []struct {
		name          string
		window        signalstore.TimeRange
		read, covered signalstore.TimeRange
	}{
		{"aligned", tr(at(50, 0), at(55, 0)), tr(at(50, 0), at(55, 0)), tr(at(50, 0), at(55, 0))},
		{"inside one minute", tr(at(50, 20), at(50, 50)), tr(at(50, 0), at(51, 0)), tr(at(50, 0), at(51, 0))},
		{"up to now", tr(now.Add(-30*time.Second), now), tr(now.Truncate(time.Minute), now.Truncate(time.Minute).Add(time.Minute)), tr(now.Truncate(time.Minute), now)},
		{"into the future", tr(at(59, 0), now.Add(30*time.Second)), tr(at(59, 0), now.Truncate(time.Minute).Add(2*time.Minute)), tr(at(59, 0), now.Add(30*time.Second))},
	}
	for _, tt := range tests {
		read, covered := wholePeriods(tt.window, now)
		assert.Equal(t, tt.read, read, tt.name)
		assert.Equal(t, tt.covered, covered, tt.name)
	}
}

func TestOpenAPIDocumentIsServed(t *testing.T) {
	srv := startServer(t, hostWith(openStore(t)), nil)
	r := srv.get(t, "/api/v1/openapi.json")
	require.Equal(t, http.StatusOK, r.status)
	assert.JSONEq(t, string(openAPIDocument), string(r.body))
}

func TestTruncation(t *testing.T) {
	srv, sc, _ := startScenario(t, time.Now().Add(-time.Minute), func(cfg *Config) {
		cfg.Limits.MaxTraces = 1
		cfg.Limits.MaxSpans = 2
		cfg.Limits.MaxLogs = 1
	})
	r := srv.get(t, "/api/v1/correlate/"+sc.id)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	c := decode[correlatedContext](t, r)
	assert.Equal(t, truncation{Traces: true, Spans: true, Logs: true}, c.Truncated)
	assert.Equal(t, 2, c.Summary.SpanCount)
	assert.Len(t, c.Logs, 1)
}

// TestTimelineShowsOnlyTheCorrelationsExemplars: a metric point aggregates
// many requests; the timeline shows the exemplars of the correlation's
// traces, also of traces none of whose spans is returned, and trace_count
// counts those traces too.
func TestTimelineShowsOnlyTheCorrelationsExemplars(t *testing.T) {
	other := signalstore.TraceID{0xf6, 1}
	exemplarTraces := func(events []timelineEvent) []signalstore.TraceID {
		traces := []signalstore.TraceID{}
		for _, e := range events {
			if e.Type == eventMetric {
				traces = append(traces, e.TraceID)
			}
		}
		return traces
	}

	t.Run("found through logs only", func(t *testing.T) {
		srv, sc, store := startScenario(t, time.Now().Add(-time.Minute), nil)
		const id = "olly-logs-only"
		sampledAway := signalstore.TraceID{0xd4, 1}
		require.NoError(t, store.WriteLogs(context.Background(), sc.logs(
			logDef{service: "orders", trace: sampledAway, ms: 2000, severity: plog.SeverityNumberInfo, body: "order placed", corr: id},
		)))
		require.NoError(t, store.WriteMetrics(context.Background(), sc.exemplarPoint("orders", 2010, sampledAway, other)))

		r := srv.get(t, "/api/v1/correlate/"+id)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		c := decode[correlatedContext](t, r)
		assert.Empty(t, c.Traces)
		assert.Equal(t, 1, c.Summary.TraceCount, "the trace of the log, though none of its spans is stored")
		assert.Equal(t, []signalstore.TraceID{sampledAway}, exemplarTraces(c.Timeline), "not the other request's exemplar")
	})

	t.Run("spans cut by max_spans", func(t *testing.T) {
		srv, sc, store := startScenario(t, time.Now().Add(-time.Minute), func(cfg *Config) { cfg.Limits.MaxSpans = 2 })
		require.NoError(t, store.WriteMetrics(context.Background(), sc.exemplarPoint("payments", 390, sc.traceB, other)))

		r := srv.get(t, "/api/v1/correlate/"+sc.id)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		c := decode[correlatedContext](t, r)
		require.Len(t, c.Traces, 1, "the two earliest spans are both of trace A")
		assert.Equal(t, 2, c.Summary.TraceCount)
		assert.Equal(t, []signalstore.TraceID{sc.traceB, sc.traceB}, exemplarTraces(c.Timeline),
			"trace B's exemplars (the scenario's and the new point's), not the other request's")

		r = srv.get(t, "/api/v1/correlate/"+sc.id+"/impact")
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		assert.Equal(t, 2, decode[impactResponse](t, r).TraceCount)
	})
}

// TestErrorsGroupWhateverTheNumbersLength: an id of eight digits or more is
// a number like a shorter one, not a hex id, so the same error keeps one
// fingerprint.
func TestErrorsGroupWhateverTheNumbersLength(t *testing.T) {
	srv, sc, store := startScenario(t, time.Now().Add(-time.Minute), nil)
	const id = "olly-missing-orders"
	trace := signalstore.TraceID{0xd4, 2}
	var logs []logDef
	for i, order := range []string{"1234567", "12345678", "1234567890123"} {
		logs = append(logs, logDef{service: "orders", trace: trace, ms: 2000 + i, severity: plog.SeverityNumberError,
			body: "order " + order + " not found", corr: id})
	}
	require.NoError(t, store.WriteLogs(context.Background(), sc.logs(logs...)))

	r := srv.get(t, "/api/v1/correlate/"+id)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	c := decode[correlatedContext](t, r)
	require.Len(t, c.Errors, 1, "%+v", c.Errors)
	assert.Equal(t, "order <n> not found", c.Errors[0].Message)
	assert.Equal(t, 3, c.Errors[0].Count)
}
