package signalstoretest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

var ctx = context.Background()

func sortedSpans(specs ...spanSpec) []signalstore.Span {
	out := make([]signalstore.Span, len(specs))
	for i, s := range specs {
		out[i] = s.want()
	}
	slices.SortStableFunc(out, func(a, b signalstore.Span) int {
		if d := bytes.Compare(a.TraceID[:], b.TraceID[:]); d != 0 {
			return d
		}
		if d := a.Timestamp.Compare(b.Timestamp); d != 0 {
			return d
		}
		return bytes.Compare(a.SpanID[:], b.SpanID[:])
	})
	return out
}

func sortedLogs(specs ...logSpec) []signalstore.LogRecord {
	out := make([]signalstore.LogRecord, len(specs))
	for i, l := range specs {
		out[i] = l.want()
	}
	slices.SortStableFunc(out, func(a, b signalstore.LogRecord) int {
		if d := a.Timestamp.Compare(b.Timestamp); d != 0 {
			return d
		}
		return bytes.Compare(a.TraceID[:], b.TraceID[:])
	})
	return out
}

var correlationTests = []suiteTest{
	{"TraceIDsAcrossTraces", always, func(t *testing.T, s *StoreUnderTest) {
		c := newCheckoutFlow(newFixture(t))
		c.write(t, s)
		want := []signalstore.TraceID{c.traceA, c.traceB} // by first appearance
		s.eventually(t, func() string {
			got, err := s.Reader.TraceIDsForCorrelation(ctx, c.id, signalstore.TimeRange{})
			if err != nil {
				return err.Error()
			}
			return diff("trace ids", got, want)
		})
		got, err := s.Reader.TraceIDsForCorrelation(ctx, c.otherID, c.f.window())
		if err != nil || !slices.Equal(got, []signalstore.TraceID{c.traceC}) {
			t.Fatalf("other id: got %v, %v; want [%s]", got, err, c.traceC)
		}
	}},
	{"TraceIDsFromLogsOnly", always, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		id, trace := f.corr("logs-only"), newTraceID()
		writeLogs(t, s, logSpec{service: f.svc("batch"), traceID: trace, ts: f.at(0), body: "job started", corr: id})
		s.eventually(t, func() string {
			got, err := s.Reader.TraceIDsForCorrelation(ctx, id, signalstore.TimeRange{})
			if err != nil {
				return err.Error()
			}
			return diff("trace ids", got, []signalstore.TraceID{trace})
		})
	}},
	{"TimeRange", always, func(t *testing.T, s *StoreUnderTest) {
		c := newCheckoutFlow(newFixture(t))
		c.write(t, s)
		s.eventually(t, func() string {
			got, err := s.Reader.TraceIDsForCorrelation(ctx, c.id, c.f.window())
			if err != nil {
				return err.Error()
			}
			return diff("trace ids in window", got, []signalstore.TraceID{c.traceA, c.traceB})
		})
		future := signalstore.TimeRange{Start: c.f.at(time.Hour), End: c.f.at(2 * time.Hour)}
		got, err := s.Reader.TraceIDsForCorrelation(ctx, c.id, future)
		if err != nil || len(got) != 0 {
			t.Fatalf("outside the window: got %v, %v; want none", got, err)
		}
	}},
	{"UnknownID", always, func(t *testing.T, s *StoreUnderTest) {
		got, err := s.Reader.TraceIDsForCorrelation(ctx, newFixture(t).corr("never-written"), signalstore.TimeRange{})
		if err != nil || len(got) != 0 {
			t.Fatalf("got %v, %v; want empty and no error", got, err)
		}
	}},
}

var spanTests = []suiteTest{
	{"RoundTripAllFields", always, func(t *testing.T, s *StoreUnderTest) {
		c := newCheckoutFlow(newFixture(t))
		c.write(t, s)
		want := sortedSpans(c.spans...)
		s.eventually(t, func() string {
			got, err := s.Reader.SpansByTraceIDs(ctx, []signalstore.TraceID{c.traceA, c.traceB}, signalstore.TimeRange{}, 0)
			if err != nil {
				return err.Error()
			}
			return diff("spans", got, want)
		})
	}},
	{"LimitKeepsTheEarliestSpans", always, func(t *testing.T, s *StoreUnderTest) {
		c := newCheckoutFlow(newFixture(t))
		c.write(t, s)
		want := sortedSpans(c.spans...)
		signalstore.SortSpansByTime(want)
		want = want[:3]
		signalstore.SortSpans(want)
		s.eventually(t, func() string {
			got, err := s.Reader.SpansByTraceIDs(ctx, []signalstore.TraceID{c.traceA, c.traceB}, signalstore.TimeRange{}, 3)
			if err != nil {
				return err.Error()
			}
			return diff("spans", got, want)
		})
	}},
	{"ChildrenBeforeRootKeepParentLinks", always, func(t *testing.T, s *StoreUnderTest) {
		c := newCheckoutFlow(newFixture(t))
		c.write(t, s)
		s.eventually(t, func() string {
			got, err := s.Reader.SpansByTraceIDs(ctx, []signalstore.TraceID{c.traceA}, c.f.window(), 0)
			if err != nil {
				return err.Error()
			}
			parents := map[signalstore.SpanID]signalstore.SpanID{}
			for _, sp := range got {
				parents[sp.SpanID] = sp.ParentSpanID
			}
			want := map[signalstore.SpanID]signalstore.SpanID{
				c.root.spanID: {}, c.client.spanID: c.root.spanID,
				c.server.spanID: c.client.spanID, c.payment.spanID: c.server.spanID,
			}
			return diff("parent links", parents, want)
		})
	}},
	{"TimeRangeFilters", always, func(t *testing.T, s *StoreUnderTest) {
		c := newCheckoutFlow(newFixture(t))
		c.write(t, s)
		// Only the spans starting in [base+5ms, base+15ms): client, server.
		tr := signalstore.TimeRange{Start: c.f.at(5 * time.Millisecond), End: c.f.at(15 * time.Millisecond)}
		want := sortedSpans(c.client, c.server)
		s.eventually(t, func() string {
			got, err := s.Reader.SpansByTraceIDs(ctx, []signalstore.TraceID{c.traceA}, tr, 0)
			if err != nil {
				return err.Error()
			}
			return diff("spans in range", got, want)
		})
	}},
	{"UnknownAndEmptyIDs", always, func(t *testing.T, s *StoreUnderTest) {
		for _, ids := range [][]signalstore.TraceID{nil, {}, {newTraceID()}, {{}}} {
			got, err := s.Reader.SpansByTraceIDs(ctx, ids, signalstore.TimeRange{}, 0)
			if err != nil || len(got) != 0 {
				t.Fatalf("SpansByTraceIDs(%v) = %v, %v; want empty and no error", ids, got, err)
			}
		}
	}},
	{"DuplicateIDsInRequest", always, func(t *testing.T, s *StoreUnderTest) {
		c := newCheckoutFlow(newFixture(t))
		c.write(t, s)
		want := sortedSpans(c.consumer)
		s.eventually(t, func() string {
			got, err := s.Reader.SpansByTraceIDs(ctx, []signalstore.TraceID{c.traceB, c.traceB}, signalstore.TimeRange{}, 0)
			if err != nil {
				return err.Error()
			}
			return diff("spans", got, want)
		})
	}},
}

var logTests = []suiteTest{
	{"ByTraceIDs", always, func(t *testing.T, s *StoreUnderTest) {
		c := newCheckoutFlow(newFixture(t))
		logs := c.logs()
		writeLogs(t, s, logs...)
		want := sortedLogs(logs[0], logs[1], logs[3])
		s.eventually(t, func() string {
			got, err := s.Reader.LogsByTraceIDs(ctx, []signalstore.TraceID{c.traceA, c.traceB}, signalstore.TimeRange{}, 0)
			if err != nil {
				return err.Error()
			}
			return diff("logs", got, want)
		})
		got, err := s.Reader.LogsByTraceIDs(ctx, []signalstore.TraceID{c.traceA, c.traceB}, c.f.window(), 2)
		if err != nil {
			t.Fatal(err)
		}
		if msg := diff("limited logs", got, want[:2]); msg != "" {
			t.Fatal(msg)
		}
	}},
	{"ByCorrelationIDIncludesLogsWithoutTraceContext", always, func(t *testing.T, s *StoreUnderTest) {
		c := newCheckoutFlow(newFixture(t))
		logs := c.logs()
		writeLogs(t, s, logs...)
		want := sortedLogs(logs[0], logs[1], logs[2], logs[3])
		s.eventually(t, func() string {
			got, err := s.Reader.LogsByCorrelationID(ctx, c.id, c.f.window(), 0)
			if err != nil {
				return err.Error()
			}
			return diff("logs", got, want)
		})
	}},
	{"UnknownIDs", always, func(t *testing.T, s *StoreUnderTest) {
		got, err := s.Reader.LogsByTraceIDs(ctx, []signalstore.TraceID{newTraceID()}, signalstore.TimeRange{}, 10)
		if err != nil || len(got) != 0 {
			t.Fatalf("LogsByTraceIDs(unknown) = %v, %v", got, err)
		}
		got, err = s.Reader.LogsByCorrelationID(ctx, newFixture(t).corr("none"), signalstore.TimeRange{}, 10)
		if err != nil || len(got) != 0 {
			t.Fatalf("LogsByCorrelationID(unknown) = %v, %v", got, err)
		}
	}},
}

func skipMetrics(c Capabilities) bool { return c.SkipMetrics }

// metricFixture writes a gauge and a histogram whose exemplars name trace A,
// a sum whose exemplar names trace B, and a gauge without exemplars.
func metricFixture(t *testing.T, s *StoreUnderTest, f *fixture, traceA, traceB signalstore.TraceID, spanA signalstore.SpanID) []signalstore.MetricPoint {
	t.Helper()
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", f.svc("checkout"))
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("checkout/metrics")
	ts := f.at(time.Minute) // whole seconds: ClickHouse keeps metric times at second precision

	g := sm.Metrics().AppendEmpty()
	g.SetName("queue.depth")
	g.SetUnit("{item}")
	gp := g.SetEmptyGauge().DataPoints().AppendEmpty()
	gp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	gp.SetDoubleValue(7.5)
	gp.Attributes().PutStr("queue", "orders")
	ex := gp.Exemplars().AppendEmpty()
	ex.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	ex.SetDoubleValue(7.5)
	ex.SetTraceID(pcommon.TraceID(traceA))
	ex.SetSpanID(pcommon.SpanID(spanA))
	ex.FilteredAttributes().PutStr(corrAttr, f.corr("order-42"))

	plain := sm.Metrics().AppendEmpty()
	plain.SetName("cpu.load")
	pp := plain.SetEmptyGauge().DataPoints().AppendEmpty()
	pp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	pp.SetDoubleValue(0.5)

	sum := sm.Metrics().AppendEmpty()
	sum.SetName("orders.total")
	sum.SetEmptySum().SetIsMonotonic(true)
	sum.Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	sp := sum.Sum().DataPoints().AppendEmpty()
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(f.at(0)))
	sp.SetTimestamp(pcommon.NewTimestampFromTime(ts.Add(time.Second)))
	sp.SetIntValue(42)
	sex := sp.Exemplars().AppendEmpty()
	sex.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	sex.SetIntValue(1)
	sex.SetTraceID(pcommon.TraceID(traceB))

	h := sm.Metrics().AppendEmpty()
	h.SetName("http.server.request.duration")
	h.SetUnit("s")
	h.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	hp := h.Histogram().DataPoints().AppendEmpty()
	hp.SetStartTimestamp(pcommon.NewTimestampFromTime(f.at(0)))
	hp.SetTimestamp(pcommon.NewTimestampFromTime(ts.Add(2 * time.Second)))
	hp.SetCount(3)
	hp.SetSum(0.6)
	hp.SetMin(0.1)
	hp.SetMax(0.3)
	hp.BucketCounts().FromRaw([]uint64{1, 2, 0})
	hp.ExplicitBounds().FromRaw([]float64{0.1, 0.5})
	hex := hp.Exemplars().AppendEmpty()
	hex.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	hex.SetDoubleValue(0.3)
	hex.SetTraceID(pcommon.TraceID(traceA))

	// Types the read model has no place for, in the same batch: the write
	// must keep the points above, and these must not be read as them.
	eh := sm.Metrics().AppendEmpty()
	eh.SetName("rpc.server.duration.exp")
	eh.SetEmptyExponentialHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	ep := eh.ExponentialHistogram().DataPoints().AppendEmpty()
	ep.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	ep.SetCount(1)
	ep.SetSum(0.2)
	ep.Positive().BucketCounts().FromRaw([]uint64{1})
	eex := ep.Exemplars().AppendEmpty()
	eex.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	eex.SetDoubleValue(0.2)
	eex.SetTraceID(pcommon.TraceID(traceA))
	summary := sm.Metrics().AppendEmpty()
	summary.SetName("go_gc_duration_seconds")
	qp := summary.SetEmptySummary().DataPoints().AppendEmpty()
	qp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	qp.SetCount(4)
	qp.SetSum(0.01)
	q := qp.QuantileValues().AppendEmpty()
	q.SetQuantile(0.5)
	q.SetValue(0.002)
	writeMetrics(t, s, md)

	res := map[string]string{"service.name": f.svc("checkout")}
	minV, maxV := 0.1, 0.3
	return []signalstore.MetricPoint{
		{MetricType: signalstore.MetricTypeGauge, MetricName: "queue.depth", MetricUnit: "{item}",
			ServiceName: f.svc("checkout"), ResourceAttributes: res, ScopeName: "checkout/metrics",
			Attributes: map[string]string{"queue": "orders"}, TimeUnix: ts.UTC(), Value: 7.5,
			Exemplars: []signalstore.Exemplar{{TimeUnix: ts.UTC(), Value: 7.5, TraceID: traceA, SpanID: spanA,
				FilteredAttributes: map[string]string{corrAttr: f.corr("order-42")}}}},
		{MetricType: signalstore.MetricTypeSum, MetricName: "orders.total", ServiceName: f.svc("checkout"),
			ResourceAttributes: res, ScopeName: "checkout/metrics", StartTimeUnix: f.at(0).UTC(),
			TimeUnix: ts.Add(time.Second).UTC(), Value: 42, IsMonotonic: true, AggregationTemporality: "Cumulative",
			Exemplars: []signalstore.Exemplar{{TimeUnix: ts.UTC(), Value: 1, TraceID: traceB}}},
		{MetricType: signalstore.MetricTypeHistogram, MetricName: "http.server.request.duration", MetricUnit: "s",
			ServiceName: f.svc("checkout"), ResourceAttributes: res, ScopeName: "checkout/metrics",
			StartTimeUnix: f.at(0).UTC(), TimeUnix: ts.Add(2 * time.Second).UTC(), Count: 3, Sum: 0.6,
			Min: &minV, Max: &maxV, BucketCounts: []uint64{1, 2, 0}, ExplicitBounds: []float64{0.1, 0.5},
			AggregationTemporality: "Delta",
			Exemplars:              []signalstore.Exemplar{{TimeUnix: ts.UTC(), Value: 0.3, TraceID: traceA}}},
	}
}

var metricTests = []suiteTest{
	{"PointsByExemplarTraceIDs", skipMetrics, func(t *testing.T, s *StoreUnderTest) {
		f := newFixture(t)
		traceA, traceB := newTraceID(), newTraceID()
		all := metricFixture(t, s, f, traceA, traceB, newSpanID())
		gauge, sum, hist := all[0], all[1], all[2]
		s.eventually(t, func() string {
			got, err := s.Reader.MetricPointsByExemplarTraceIDs(ctx, []signalstore.TraceID{traceA}, signalstore.TimeRange{}, 0)
			if err != nil {
				return err.Error()
			}
			return diff("points of trace A", got, []signalstore.MetricPoint{gauge, hist})
		})
		got, err := s.Reader.MetricPointsByExemplarTraceIDs(ctx, []signalstore.TraceID{traceA, traceB}, f.window(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if msg := diff("points of traces A and B", got, []signalstore.MetricPoint{gauge, sum, hist}); msg != "" {
			t.Fatal(msg)
		}
		got, err = s.Reader.MetricPointsByExemplarTraceIDs(ctx, []signalstore.TraceID{traceA, traceB}, f.window(), 1)
		if err != nil || len(got) != 1 {
			t.Fatalf("limit 1: got %d points, %v", len(got), err)
		}
	}},
	{"UnknownTraceID", skipMetrics, func(t *testing.T, s *StoreUnderTest) {
		got, err := s.Reader.MetricPointsByExemplarTraceIDs(ctx, []signalstore.TraceID{newTraceID()}, signalstore.TimeRange{}, 0)
		if err != nil || len(got) != 0 {
			t.Fatalf("got %v, %v; want empty", got, err)
		}
	}},
}

func skipEdges(c Capabilities) bool { return c.SkipServiceEdges }

// edgesOf keeps the edges whose caller or callee belongs to the fixture.
func edgesOf(f *fixture, edges []signalstore.ServiceEdge) []signalstore.ServiceEdge {
	var out []signalstore.ServiceEdge
	for _, e := range edges {
		if bytes.HasPrefix([]byte(e.Caller), []byte(f.prefix)) || bytes.HasPrefix([]byte(e.Callee), []byte(f.prefix)) {
			out = append(out, e)
		}
	}
	return out
}

func withinRelative(got, want time.Duration, tolerance float64) bool {
	d := float64(got - want)
	return d <= tolerance*float64(want) && -d <= tolerance*float64(want)
}

var edgeTests = []suiteTest{
	{"CountsAndLatency", skipEdges, func(t *testing.T, s *StoreUnderTest) {
		c := newCheckoutFlow(newFixture(t))
		c.write(t, s)
		s.eventually(t, func() string {
			edges, err := s.Reader.ServiceEdges(ctx, c.f.window())
			if err != nil {
				return err.Error()
			}
			got := edgesOf(c.f, edges)
			if len(got) != 2 {
				return fmt.Sprintf("want 2 edges (frontend→checkout, checkout→payments), got %+v", got)
			}
			problems := []string{}
			check := func(e signalstore.ServiceEdge, caller, callee string, latency time.Duration) {
				if e.Caller != caller || e.Callee != callee || e.RequestCount != 1 || e.ErrorCount != 1 {
					problems = append(problems, fmt.Sprintf("edge %+v: want %s→%s with 1 request, 1 error", e, caller, callee))
				}
				for _, q := range []time.Duration{e.AvgDuration, e.P50Duration, e.P95Duration, e.P99Duration} {
					if !withinRelative(q, latency, signalstore.LatencyQuantileRelativeError) {
						problems = append(problems, fmt.Sprintf("edge %s→%s latency %v, want %v ±5%%", caller, callee, q, latency))
					}
				}
			}
			check(got[0], c.f.svc("checkout"), c.f.svc("payments"), c.payment.duration)
			check(got[1], c.f.svc("frontend"), c.f.svc("checkout"), c.server.duration)
			return joinLines(problems)
		})
	}},
	{"OutsideRangeIsEmpty", skipEdges, func(t *testing.T, s *StoreUnderTest) {
		c := newCheckoutFlow(newFixture(t))
		c.write(t, s)
		edges, err := s.Reader.ServiceEdges(ctx, signalstore.TimeRange{Start: c.f.at(2 * time.Hour), End: c.f.at(3 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if got := edgesOf(c.f, edges); len(got) != 0 {
			t.Fatalf("edges outside the range: %+v", got)
		}
	}},
}

func skipRecent(c Capabilities) bool { return c.SkipRecentCorrelations }

var recentTests = []suiteTest{
	{"FiltersAndSummary", skipRecent, func(t *testing.T, s *StoreUnderTest) {
		c := newCheckoutFlow(newFixture(t))
		c.write(t, s)
		writeLogs(t, s, c.logs()...)
		since := c.f.at(-time.Minute)
		s.eventually(t, func() string {
			got, err := s.Reader.RecentCorrelations(ctx, signalstore.CorrelationFilter{Service: c.f.svc("payments"), Since: since})
			if err != nil {
				return err.Error()
			}
			if len(got) != 1 {
				return fmt.Sprintf("service filter: want only %s, got %+v", c.id, got)
			}
			sum := got[0]
			var problems []string
			if sum.CorrelationID != c.id || sum.TraceCount != 2 || sum.SpanCount != 5 || sum.ErrorCount != 4 || sum.LogCount != 4 {
				problems = append(problems, fmt.Sprintf("summary %+v: want 2 traces, 5 spans, 4 errors, 4 logs", sum))
			}
			if sum.RootService != c.f.svc("frontend") || sum.RootSpanName != "POST /checkout" {
				problems = append(problems, fmt.Sprintf("entry %s %q, want frontend POST /checkout", sum.RootService, sum.RootSpanName))
			}
			wantServices := []string{c.f.svc("checkout"), c.f.svc("edge"), c.f.svc("frontend"), c.f.svc("fulfilment"), c.f.svc("payments")}
			if msg := diff("services", sum.Services, wantServices); msg != "" {
				problems = append(problems, msg)
			}
			if !sum.FirstSeen.Equal(c.f.at(-2*time.Millisecond)) || !sum.LastSeen.Equal(c.f.at(2*time.Second+30*time.Millisecond)) {
				problems = append(problems, fmt.Sprintf("seen %v..%v", sum.FirstSeen, sum.LastSeen))
			}
			return joinLines(problems)
		})
		got, err := s.Reader.RecentCorrelations(ctx, signalstore.CorrelationFilter{Service: c.f.svc("frontend"), Since: since})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].CorrelationID != c.otherID || got[1].CorrelationID != c.id {
			t.Fatalf("newest first: got %+v", got)
		}
		got, err = s.Reader.RecentCorrelations(ctx, signalstore.CorrelationFilter{Service: c.f.svc("frontend"), ErrorsOnly: true, Since: since})
		if err != nil || len(got) != 1 || got[0].CorrelationID != c.id {
			t.Fatalf("errors only: got %+v, %v", got, err)
		}
		got, err = s.Reader.RecentCorrelations(ctx, signalstore.CorrelationFilter{Service: c.f.svc("frontend"), MinDuration: time.Second, Since: since})
		if err != nil || len(got) != 1 || got[0].CorrelationID != c.id {
			t.Fatalf("min duration: got %+v, %v", got, err)
		}
		got, err = s.Reader.RecentCorrelations(ctx, signalstore.CorrelationFilter{Service: c.f.svc("frontend"), Since: since, Limit: 1})
		if err != nil || len(got) != 1 || got[0].CorrelationID != c.otherID {
			t.Fatalf("limit 1: got %+v, %v", got, err)
		}
		// A past window: the newer request is left out, however recent.
		got, err = s.Reader.RecentCorrelations(ctx, signalstore.CorrelationFilter{Service: c.f.svc("frontend"), Since: since, Until: c.f.at(2500 * time.Millisecond), Limit: 1})
		if err != nil || len(got) != 1 || got[0].CorrelationID != c.id {
			t.Fatalf("until: got %+v, %v", got, err)
		}
		got, err = s.Reader.RecentCorrelations(ctx, signalstore.CorrelationFilter{Service: c.f.svc("frontend"), Since: since, Until: c.f.at(2 * time.Second)})
		if err != nil || len(got) != 0 {
			t.Fatalf("until before the last span of %s: got %+v, %v; want nothing", c.id, got, err)
		}
	}},
	{"NothingMatches", skipRecent, func(t *testing.T, s *StoreUnderTest) {
		got, err := s.Reader.RecentCorrelations(ctx, signalstore.CorrelationFilter{Service: newFixture(t).svc("nobody")})
		if err != nil || len(got) != 0 {
			t.Fatalf("got %+v, %v; want empty", got, err)
		}
	}},
}
