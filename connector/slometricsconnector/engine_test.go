package slometricsconnector

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/ollystack/ollystack/connector/slometricsconnector/internal/metadata"
)

func TestBurnRateAndBudgetMaths(t *testing.T) {
	tests := []struct {
		name       string
		good, bad  uint64
		objective  float64
		wantBurn   float64
		wantBudget float64
	}{
		{name: "no traffic", objective: 0.999, wantBurn: 0, wantBudget: 1},
		{name: "no errors", good: 1000, objective: 0.999, wantBurn: 0, wantBudget: 1},
		{name: "budget spent exactly", good: 999, bad: 1, objective: 0.999, wantBurn: 1, wantBudget: 0},
		{name: "half the budget", good: 1999, bad: 1, objective: 0.999, wantBurn: 0.5, wantBudget: 0.5},
		{name: "overspent", good: 99, bad: 1, objective: 0.999, wantBurn: 10, wantBudget: -9},
		{name: "workbook 14.4", good: 10000 - 144, bad: 144, objective: 0.999, wantBurn: 14.4, wantBudget: -13.4},
		{name: "all bad at 99%", bad: 10, objective: 0.99, wantBurn: 100, wantBudget: -99},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDelta(t, tt.wantBurn, burnRate(tt.good, tt.bad, tt.objective), 1e-9)
			assert.InDelta(t, tt.wantBudget, budgetRemaining(tt.good, tt.bad, tt.objective), 1e-9)
		})
	}
}

// TestWorkbookTwoPercentInOneHourPages is the SRE workbook's example: at
// 99.9% over 30 days, burning 2% of the budget in one hour is a burn rate of
// 14.4, which pages; the slower tiers stay quiet.
func TestWorkbookTwoPercentInOneHourPages(t *testing.T) {
	te := newTestEngine(t, testConfig())
	const perMinute = 10_000
	for range 719 { // 29 days 23 hours of clean traffic
		te.addCounts(60*perMinute, 0)
		te.clock.Advance(time.Hour)
	}
	for m := range 60 { // then 1.44% errors for an hour
		if m > 0 {
			te.clock.Advance(time.Minute)
		}
		te.addCounts(perMinute-144, 144)
	}

	reports, ld := te.evaluateNow()
	r := reports[0]
	assert.InDelta(t, 0.98, r.budgetRemaining, 1e-9, "2% of the budget is spent")
	page := alertOf(t, r, "page-1h")
	assert.InDelta(t, 14.4, page.long.burnRate, 1e-9)
	assert.InDelta(t, 14.4, page.short.burnRate, 1e-9)
	assert.True(t, page.firing)
	for _, quiet := range []string{"page-6h", "ticket-1d", "ticket-3d"} {
		assert.False(t, alertOf(t, r, quiet).firing, quiet)
	}
	assert.InDelta(t, 2.4, alertOf(t, r, "page-6h").long.burnRate, 1e-9)
	require.Equal(t, 1, ld.LogRecordCount(), "one firing record")
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	state, _ := lr.Attributes().Get(attrAlertState)
	assert.Equal(t, "firing", state.Str())
	budget, _ := lr.Attributes().Get(metricBudgetRemaining)
	assert.InDelta(t, 0.98, budget.Double(), 1e-9)
}

// TestSpikeFiresOnceAndResolvesOnce checks that a spike fires the fast page
// exactly once and resolves it exactly once as soon as the short window is
// clean again, although the long window still burns.
func TestSpikeFiresOnceAndResolvesOnce(t *testing.T) {
	te := newTestEngine(t, testConfig())
	var records []plog.LogRecord
	step := func(good, bad uint64) {
		te.addCounts(good, bad)
		_, ld := te.evaluateNow()
		for _, lr := range logRecords(ld) {
			if name, _ := lr.Attributes().Get(attrAlertName); name.Str() == "page-1h" {
				records = append(records, lr)
			}
		}
		te.clock.Advance(time.Minute)
	}
	for range 120 {
		step(1000, 0)
	}
	require.Empty(t, records)
	for range 3 {
		step(500, 500)
	}
	for range 30 {
		step(1000, 0)
	}
	require.Len(t, records, 2)
	first, _ := records[0].Attributes().Get(attrAlertState)
	second, _ := records[1].Attributes().Get(attrAlertState)
	assert.Equal(t, "firing", first.Str())
	assert.Equal(t, plog.SeverityNumberWarn, records[0].SeverityNumber())
	assert.Equal(t, "resolved", second.Str())
	assert.Equal(t, plog.SeverityNumberInfo, records[1].SeverityNumber())
	long, _ := records[1].Attributes().Get(attrLongBurnRate)
	assert.Greater(t, long.Double(), 14.4, "resolved by the short window while the long one still burns")
}

// TestSpikeOverBeforeEvaluationFiresNothing: a spike whose short window has
// recovered by the next evaluation is not worth a page.
func TestSpikeOverBeforeEvaluationFiresNothing(t *testing.T) {
	te := newTestEngine(t, testConfig())
	for range 60 {
		te.addCounts(1000, 0)
		te.clock.Advance(time.Minute)
	}
	te.addCounts(0, 1000)
	te.clock.Advance(10 * time.Minute)
	te.addCounts(1000, 0)
	reports, ld := te.evaluateNow()
	assert.Greater(t, alertOf(t, reports[0], "page-1h").long.burnRate, 14.4)
	assert.False(t, alertOf(t, reports[0], "page-1h").firing)
	for _, lr := range logRecords(ld) {
		name, _ := lr.Attributes().Get(attrAlertName)
		assert.NotEqual(t, "page-1h", name.Str(), "slower tiers may fire, the fast page not")
	}
}

func TestMinEventsGuardsLowTraffic(t *testing.T) {
	// 100 events over 10 minutes, half of them bad: 50 in the 5m window of
	// page-1h, all 100 in the longer short windows of the other tiers.
	for _, tt := range []struct {
		minEvents   int64
		wantFiring  bool
		wantRecords int
	}{
		{minEvents: 0, wantFiring: true, wantRecords: 4},
		{minEvents: 50, wantFiring: true, wantRecords: 4},
		{minEvents: 51, wantFiring: false, wantRecords: 3},
		{minEvents: 101, wantFiring: false, wantRecords: 0},
	} {
		slo := testSLO()
		slo.MinEvents = tt.minEvents
		te := newTestEngine(t, testConfig(slo))
		for range 10 { // 10 events a minute, half of them bad
			te.feed("checkout", 5, 5)
			te.clock.Advance(time.Minute)
		}
		te.clock.Advance(-time.Minute)
		reports, ld := te.evaluateNow()
		page := alertOf(t, reports[0], "page-1h")
		assert.Equal(t, uint64(50), page.short.good+page.short.bad)
		assert.Equal(t, tt.wantFiring, page.firing, "min_events %d", tt.minEvents)
		assert.Equal(t, tt.wantRecords, ld.LogRecordCount(), "min_events %d", tt.minEvents)
	}
}

func TestCalendarMonthWindow(t *testing.T) {
	slo := testSLO()
	slo.Window = windowCalendarMonth
	te := newTestEngine(t, testConfig(slo))
	te.clock.now = time.Date(2026, 2, 28, 23, 30, 0, 0, time.UTC)
	te.addCounts(999, 1) // February: spends the budget
	te.clock.Advance(time.Hour)
	te.addCounts(1000, 0) // March 1st: a new budget
	reports, _ := te.evaluateNow()
	assert.Equal(t, uint64(1000), reports[0].windowGood)
	assert.Zero(t, reports[0].windowBad)
	assert.InDelta(t, 1, reports[0].budgetRemaining, 1e-9)
}

func TestFlushEmitsMetricsWithExemplars(t *testing.T) {
	te := newTestEngine(t, testConfig())
	te.feed("checkout", 90, 10)
	te.feed("payments", 0, 10) // another service: not counted
	require.NoError(t, te.flush(context.Background()))

	require.Len(t, te.metrics.AllMetrics(), 1)
	md := te.metrics.AllMetrics()[0]
	events := findMetric(t, md, metricEvents).Sum()
	assert.Equal(t, pmetric.AggregationTemporalityCumulative, events.AggregationTemporality())
	require.Equal(t, 2, events.DataPoints().Len())
	good, bad := events.DataPoints().At(0), events.DataPoints().At(1)
	assert.Equal(t, int64(90), good.IntValue())
	assert.Equal(t, int64(10), bad.IntValue())
	name, _ := bad.Attributes().Get(attrSLOName)
	service, _ := bad.Attributes().Get(serviceNameKey)
	assert.Equal(t, "checkout-availability", name.Str())
	assert.Equal(t, "checkout", service.Str())

	require.Equal(t, defaultMaxExemplars, bad.Exemplars().Len())
	ex := bad.Exemplars().At(0)
	assert.False(t, ex.TraceID().IsEmpty())
	assert.False(t, ex.SpanID().IsEmpty())
	corr, ok := ex.FilteredAttributes().Get(attrCorrelationID)
	require.True(t, ok)
	assert.Contains(t, corr.Str(), "corr-")
	assert.InDelta(t, 0.05, ex.DoubleValue(), 1e-9, "the span's duration in seconds")

	ratio := findMetric(t, md, metricRatio).Gauge().DataPoints().At(0)
	assert.InDelta(t, 0.9, ratio.DoubleValue(), 1e-9)
	budget := findMetric(t, md, metricBudgetRemaining).Gauge().DataPoints().At(0)
	assert.InDelta(t, -99, budget.DoubleValue(), 1e-9)
	assert.Equal(t, 7, findMetric(t, md, metricBurnRate).Gauge().DataPoints().Len(), "7 distinct windows in the default table")
	alerts := findMetric(t, md, metricAlertState).Gauge().DataPoints()
	require.Equal(t, 4, alerts.Len())
	for i := 0; i < alerts.Len(); i++ {
		assert.Equal(t, int64(1), alerts.At(i).IntValue(), "100 events, 10% bad: every tier fires")
		assert.Positive(t, alerts.At(i).Exemplars().Len())
	}

	require.Equal(t, 1, len(te.logs.AllLogs()))
	ld := te.logs.AllLogs()[0]
	assert.Equal(t, 4, ld.LogRecordCount(), "one record per tier")
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	assert.Equal(t, alertEventName, lr.EventName())
	assert.False(t, lr.TraceID().IsEmpty())
	ids, _ := lr.Attributes().Get(attrCorrelationIDs)
	assert.Equal(t, 3, ids.Slice().Len(), "corr-a, corr-b, corr-c")
	traces, _ := lr.Attributes().Get(attrTraceIDs)
	assert.Equal(t, defaultMaxExemplars, traces.Slice().Len())

	// No transition, no records; metrics keep coming.
	require.NoError(t, te.flush(context.Background()))
	assert.Len(t, te.metrics.AllMetrics(), 2)
	assert.Len(t, te.logs.AllLogs(), 1)
}

func TestTopCorrelationIDsRankByCountThenRecency(t *testing.T) {
	var r badEventRing
	for i, id := range []string{"a", "b", "b", "c", "", "c", "d"} {
		r.add(badEvent{at: 10, correlationID: id, duration: int64(i)})
	}
	assert.Equal(t, []string{"c", "b", "d"}, r.topCorrelationIDs(0, 3))
	assert.Empty(t, r.topCorrelationIDs(11, 3), "older than the window")
	for i := range badEventRingSize + 10 {
		r.add(badEvent{at: 20, correlationID: "x", duration: int64(i)})
	}
	assert.Equal(t, []string{"x"}, r.topCorrelationIDs(0, 3), "the ring keeps the newest only")
	assert.Len(t, r.recent(0, 1000), badEventRingSize)
}

func TestSelfTelemetry(t *testing.T) {
	te := newTestEngine(t, testConfig())
	te.feed("checkout", 7, 3)
	te.feed("checkout", 0, 1)
	_, _ = te.evaluateNow()
	got, err := te.tel.GetMetric(metadata.MetricEvents)
	require.NoError(t, err)
	assert.Equal(t, metadata.MetricEvents, got.Name)
	_, err = te.tel.GetMetric(metadata.MetricAlertTransitions)
	require.NoError(t, err)
}

// TestConcurrentConsumeAndFlush runs under -race: spans arrive from several
// goroutines while the flush loop and direct flushes read the state.
func TestConcurrentConsumeAndFlush(t *testing.T) {
	cfg := testConfig()
	cfg.FlushInterval = time.Millisecond
	te := newTestEngine(t, cfg)
	require.NoError(t, te.start(context.Background(), componenttest.NewNopHost()))
	batch := spans("checkout", 50, 50)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				te.consume(context.Background(), batch)
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			assert.NoError(t, te.flush(context.Background()))
		}
	})
	wg.Wait()
	require.Eventually(t, func() bool { return len(te.metrics.AllMetrics()) > 50 }, 10*time.Second, time.Millisecond,
		"the flush loop emits besides the 50 direct flushes")
	require.NoError(t, te.shutdown(context.Background()))
	require.NoError(t, te.shutdown(context.Background()), "a second shutdown is harmless")
	te.mu.Lock()
	defer te.mu.Unlock()
	assert.Equal(t, uint64(4*200*50), te.slos[0].good)
	assert.Equal(t, uint64(4*200*50), te.slos[0].bad)
}

// TestHugeCorrelationIDsAreNotKept: correlation ids are at most 128 bytes
// (processor/correlationprocessor/correlationid). A client's bad spans with
// huge correlation_id values must not be copied into the ring of recent bad
// events, where 128 of them per SLO would be held, emitted as exemplars and
// alert attributes, and saved on every flush.
func TestHugeCorrelationIDsAreNotKept(t *testing.T) {
	te := newTestEngine(t, testConfig())
	huge := strings.Repeat("x", 1<<20)
	td := spans("checkout", 0, badEventRingSize)
	ss := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for i := 0; i < ss.Len(); i++ {
		ss.At(i).Attributes().PutStr(attrCorrelationID, huge)
	}
	ss.At(0).Attributes().PutEmptyMap(attrCorrelationID).PutStr("k", huge)
	ok := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty()
	spans("checkout", 0, 1).ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).CopyTo(ok)
	ok.Attributes().PutStr(attrCorrelationID, "olly-abc-0123456789")
	te.consume(context.Background(), td)

	te.mu.Lock()
	data, err := te.marshalState()
	events := te.slos[0].badEvents.recent(0, badEventRingSize)
	te.mu.Unlock()
	require.NoError(t, err)
	require.Len(t, events, badEventRingSize, "the spans still count and are remembered")
	assert.Equal(t, "olly-abc-0123456789", events[0].correlationID, "a real id is kept")
	for _, ev := range events[1:] {
		assert.Zero(t, len(ev.correlationID), "an oversized id is not kept")
	}
	assert.Less(t, len(data), 64<<10, "the saved state stays small")
	assert.Equal(t, uint64(badEventRingSize+1), te.slos[0].bad)
}

// refusingLogs refuses logs with err until err is nil, then keeps them.
type refusingLogs struct {
	consumertest.LogsSink
	err error
}

func (r *refusingLogs) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if r.err != nil {
		return r.err
	}
	return r.LogsSink.ConsumeLogs(ctx, ld)
}

// TestRefusedAlertRecordsAreSentLater: a transition happens once, so its
// record is kept while the logs pipeline refuses it and sent with the next
// flush, before newer records; a permanent refusal drops it.
func TestRefusedAlertRecordsAreSentLater(t *testing.T) {
	te := newTestEngine(t, testConfig())
	out := &refusingLogs{err: errors.New("queue is full")}
	te.attach(nil, out)
	te.feed("checkout", 90, 10) // every tier fires
	require.ErrorContains(t, te.flush(context.Background()), "queue is full")
	require.ErrorContains(t, te.flush(context.Background()), "queue is full", "sent again, refused again")
	assert.Empty(t, out.AllLogs())

	out.err = nil
	te.clock.Advance(4 * 24 * time.Hour) // past every window: every tier resolves
	require.NoError(t, te.flush(context.Background()))
	require.Len(t, out.AllLogs(), 1)
	ld := out.AllLogs()[0]
	require.Equal(t, 8, ld.LogRecordCount(), "4 firing records, then 4 resolved")
	first := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	state, _ := first.Attributes().Get(attrAlertState)
	assert.Equal(t, "firing", state.Str())

	te.feed("checkout", 90, 10)
	out.err = consumererror.NewPermanent(errors.New("bad data"))
	require.Error(t, te.flush(context.Background()))
	out.err = nil
	te.clock.Advance(4 * 24 * time.Hour)
	require.NoError(t, te.flush(context.Background()))
	require.Len(t, out.AllLogs(), 2)
	assert.Equal(t, 4, out.AllLogs()[1].LogRecordCount(), "the permanently refused firing records are gone")
}

func TestDropOldestRecords(t *testing.T) {
	ld := plog.NewLogs()
	for range 3 {
		records := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		for i := range 2 {
			records.AppendEmpty().Body().SetInt(int64(i))
		}
	}
	assert.Equal(t, 0, dropOldestRecords(ld, 6))
	assert.Equal(t, 3, dropOldestRecords(ld, 3))
	assert.Equal(t, 3, ld.LogRecordCount())
	assert.Equal(t, 2, ld.ResourceLogs().Len(), "an emptied resource is removed")
}
