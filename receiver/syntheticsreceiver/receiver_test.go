package syntheticsreceiver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ollystack/ollystack/receiver/syntheticsreceiver/internal/metadata"
)

// concurrencyProbe is a target that records how many requests it serves at
// once.
type concurrencyProbe struct {
	inFlight, peak, total atomic.Int64
}

func (p *concurrencyProbe) ServeHTTP(_ http.ResponseWriter, _ *http.Request) {
	n := p.inFlight.Add(1)
	defer p.inFlight.Add(-1)
	for {
		old := p.peak.Load()
		if n <= old || p.peak.CompareAndSwap(old, n) {
			break
		}
	}
	p.total.Add(1)
	time.Sleep(20 * time.Millisecond)
}

func TestConcurrencyLimit(t *testing.T) {
	probe := &concurrencyProbe{}
	srv := httptest.NewServer(probe)
	defer srv.Close()

	cfg := &Config{Concurrency: 1}
	for i := range 4 {
		cfg.Checks = append(cfg.Checks, CheckConfig{Name: fmt.Sprintf("c%d", i), Type: typeHTTP,
			Interval: 10 * time.Millisecond, Timeout: 5 * time.Second,
			HTTP: &HTTPCheckConfig{HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL}}})
	}
	startReceiver(t, cfg)
	require.Eventually(t, func() bool { return probe.total.Load() >= 12 }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, int64(1), probe.peak.Load(), "never more checks at once than concurrency")
}

func TestIntervalRunsRepeatedlyWithFreshIDs(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "often", Type: typeHTTP, Interval: 10 * time.Millisecond, Jitter: 5 * time.Millisecond,
		HTTP: &HTTPCheckConfig{HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL}}}))
	require.Eventually(t, func() bool { return len(s.traces.AllTraces()) >= 3 }, 10*time.Second, 10*time.Millisecond)
	ids := map[string]bool{}
	traces := map[string]bool{}
	for _, td := range s.traces.AllTraces()[:3] {
		root := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
		ids[attrStr(root.Attributes(), attrCorrelationID)] = true
		traces[root.TraceID().String()] = true
	}
	assert.Len(t, ids, 3, "each run has its own correlation id")
	assert.Len(t, traces, 3, "each run is its own trace")
}

func TestShutdownCancelsInFlightRuns(t *testing.T) {
	entered := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-r.Context().Done() // hang until the client gives up
	}))
	defer srv.Close()

	cfg := oneCheck(CheckConfig{Name: "hang", Type: typeHTTP, Timeout: time.Hour,
		HTTP: &HTTPCheckConfig{HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL}}})
	sink := new(consumertest.TracesSink)
	f := NewFactory()
	r, err := f.CreateTraces(context.Background(), settingsForTest(), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	<-entered

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	require.NoError(t, r.Shutdown(ctx))
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Empty(t, sink.AllTraces(), "a run cut short by shutdown is not reported as the target's failure")
}

func TestSelfMetricsCountRuns(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	set := settingsForTest()
	set.TelemetrySettings = tel.NewTelemetrySettings()
	s, _ := startReceiverWith(t, oneCheck(CheckConfig{Name: "api", Type: typeHTTP,
		HTTP: &HTTPCheckConfig{HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL}, Assertions: []AssertionConfig{{Status: "2xx"}}}}), set)
	s.waitFailureLog(t)
	require.Eventually(t, func() bool {
		m, err := tel.GetMetric(metadata.MetricRuns)
		if err != nil {
			return false
		}
		sum, ok := m.Data.(metricdata.Sum[int64])
		if !ok || len(sum.DataPoints) != 1 {
			return false
		}
		dp := sum.DataPoints[0]
		outcome, _ := dp.Attributes.Value("outcome")
		return dp.Value == 1 && outcome.AsString() == "failure"
	}, 5*time.Second, 10*time.Millisecond)
}

func TestSchedules(t *testing.T) {
	now := time.Date(2026, 1, 1, 10, 2, 30, 0, time.UTC)
	every := intervalSchedule{interval: time.Minute, jitter: 10 * time.Second}
	for range 100 {
		first := every.first(now)
		assert.False(t, first.Before(now))
		assert.False(t, first.After(now.Add(10*time.Second)))
		next := every.next(now, now)
		assert.False(t, next.Before(now.Add(time.Minute)))
		assert.False(t, next.After(now.Add(70*time.Second)))
	}
	assert.Equal(t, now, intervalSchedule{interval: time.Minute}.first(now), "without jitter the first run starts at once")

	sched, err := cronParser.Parse("*/5 * * * *")
	require.NoError(t, err)
	cronSched := cronSchedule{sched}
	assert.Equal(t, time.Date(2026, 1, 1, 10, 5, 0, 0, time.UTC), cronSched.first(now))
	assert.Equal(t, time.Date(2026, 1, 1, 10, 5, 0, 0, time.UTC), cronSched.next(now, now))

	// The next run counts from the planned start, not from the end of a
	// run; a run that overran its slot skips the missed ones.
	steady := intervalSchedule{interval: 10 * time.Second}
	assert.Equal(t, now.Add(10*time.Second), steady.next(now, now.Add(3*time.Second)), "a 3s run does not delay the next")
	assert.Equal(t, now.Add(30*time.Second), steady.next(now, now.Add(25*time.Second)), "a 25s run skips two slots")
	assert.Equal(t, now.Add(10*time.Second), steady.next(now, now.Add(10*time.Second)), "a run ending on the next slot starts it")
	// A cron timer that fires a hair early by the wall clock runs the
	// slot once.
	slot := time.Date(2026, 1, 1, 10, 5, 0, 0, time.UTC)
	assert.Equal(t, time.Date(2026, 1, 1, 10, 10, 0, 0, time.UTC), cronSched.next(slot, slot.Add(-time.Millisecond)))
}

func TestHistogramBucket(t *testing.T) {
	h := pmetric.NewHistogram()
	dp := addHistogramPoint(h, 0, 0, 0.03)
	counts := dp.BucketCounts().AsRaw()
	require.Len(t, counts, len(durationBounds)+1)
	assert.Equal(t, uint64(1), counts[3], "0.03s falls in (0.025, 0.05]")
	dp = addHistogramPoint(h, 0, 0, 1000)
	assert.Equal(t, uint64(1), dp.BucketCounts().At(len(durationBounds)))
}

func settingsForTest() receiver.Settings {
	return receivertest.NewNopSettings(metadata.Type)
}

// TestIntervalRunsDoNotDriftWithRunTime: runs start every interval however
// long each takes; a slow target must not stretch the period (500ms here)
// by its response time (250ms), which would thin out the runs exactly when
// the target is in trouble. The margins leave room for a loaded machine: a
// run would have to take twice as long to skip a slot.
func TestIntervalRunsDoNotDriftWithRunTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { time.Sleep(250 * time.Millisecond) }))
	defer srv.Close()
	s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "steady", Type: typeHTTP, Interval: 500 * time.Millisecond,
		HTTP: &HTTPCheckConfig{HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL}}}))
	require.Eventually(t, func() bool { return len(s.traces.AllTraces()) >= 5 }, 20*time.Second, 10*time.Millisecond)
	starts := make([]time.Time, 5)
	for i, td := range s.traces.AllTraces()[:5] {
		starts[i] = td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).StartTimestamp().AsTime()
	}
	// Without drift the fifth run starts 4 × 500ms = 2s after the first;
	// drifting by the run time, 4 × 750ms = 3s.
	assert.Less(t, starts[4].Sub(starts[0]), 2500*time.Millisecond, "run starts: %v", starts)
}
