package slometricsconnector

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/ollystack/ollystack/connector/slometricsconnector/internal/metadata"
)

// fakeClock is a settable clock shared by a test and its engine.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testSLO is an availability SLO of 99.9% over 30 days on service "checkout"
// with the default alert table.
func testSLO() SLOConfig {
	return SLOConfig{Name: "checkout-availability", Service: "checkout", SLI: SLIConfig{Kind: SLIAvailability}, Target: 99.9}
}

func testConfig(slos ...SLOConfig) *Config {
	cfg := createDefaultConfig().(*Config)
	if len(slos) == 0 {
		slos = []SLOConfig{testSLO()}
	}
	cfg.SLOs = slos
	return cfg
}

// testEngine is an engine on a fake clock with sinks for both outputs.
type testEngine struct {
	*engine
	clock   *fakeClock
	metrics *consumertest.MetricsSink
	logs    *consumertest.LogsSink
	tel     *componenttest.Telemetry
}

func newTestEngine(t testing.TB, cfg *Config) *testEngine {
	t.Helper()
	require.NoError(t, cfg.Validate())
	clock := newFakeClock()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	e, err := newEngine(tel.NewTelemetrySettings(), component.NewID(metadata.Type), cfg, clock.Now)
	require.NoError(t, err)
	te := &testEngine{engine: e, clock: clock, metrics: &consumertest.MetricsSink{}, logs: &consumertest.LogsSink{}, tel: tel}
	e.attach(te.metrics, te.logs)
	return te
}

// feed sends good and bad server spans of a service at the current time.
func (te *testEngine) feed(service string, good, bad int) {
	te.consume(context.Background(), spans(service, good, bad))
}

// feedPerMinute spreads good and bad spans evenly over minutes, advancing
// the clock one minute after each.
func (te *testEngine) feedPerMinute(service string, minutes, goodPerMinute, badPerMinute int) {
	for range minutes {
		te.feed(service, goodPerMinute, badPerMinute)
		te.clock.Advance(time.Minute)
	}
}

// evaluateNow evaluates every SLO at the fake clock's time and returns the
// reports with the alert logs they produce.
func (te *testEngine) evaluateNow() ([]sloReport, plog.Logs) {
	now := te.clock.Now()
	te.mu.Lock()
	reports := te.evaluate(now)
	te.mu.Unlock()
	return reports, buildAlertLogs(now, reports)
}

// addCounts counts events in every SLO at the current time without building
// spans, for traffic at volumes the SRE workbook's examples assume.
func (te *testEngine) addCounts(good, bad uint64) {
	now := te.clock.Now()
	te.mu.Lock()
	defer te.mu.Unlock()
	for _, s := range te.slos {
		s.minutes.add(s.minutes.slotOf(now), good, bad)
		s.hours.add(s.hours.slotOf(now), good, bad)
		s.good += good
		s.bad += bad
	}
}

var spanCounter uint64

// spans builds one resource of server spans: good ones with status unset,
// bad ones with status error and a correlation id "corr-<n>".
func spans(service string, good, bad int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr(serviceNameKey, service)
	ss := rs.ScopeSpans().AppendEmpty()
	for i := range good + bad {
		spanCounter++
		s := ss.Spans().AppendEmpty()
		s.SetName("GET /checkout")
		s.SetKind(ptrace.SpanKindServer)
		s.SetTraceID(traceID(spanCounter))
		s.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, byte(spanCounter)})
		s.SetStartTimestamp(pcommon.Timestamp(1_000_000_000))
		s.SetEndTimestamp(pcommon.Timestamp(1_050_000_000))
		if i >= good {
			s.Status().SetCode(ptrace.StatusCodeError)
			s.Attributes().PutStr(attrCorrelationID, "corr-"+string(rune('a'+spanCounter%3)))
		}
	}
	return td
}

func traceID(n uint64) pcommon.TraceID {
	var id pcommon.TraceID
	for i := range 8 {
		id[15-i] = byte(n >> (8 * i))
	}
	id[0] = 0xab
	return id
}

// alertOf returns the report of the named alert.
func alertOf(t *testing.T, r sloReport, name string) alertReport {
	t.Helper()
	for _, a := range r.alerts {
		if a.def.name == name {
			return a
		}
	}
	t.Fatalf("no alert %q", name)
	return alertReport{}
}

// logRecords flattens a batch of logs.
func logRecords(ld plog.Logs) []plog.LogRecord {
	var out []plog.LogRecord
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		sls := ld.ResourceLogs().At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				out = append(out, lrs.At(k))
			}
		}
	}
	return out
}

// findMetric returns the named metric of a batch.
func findMetric(t *testing.T, md pmetric.Metrics, name string) pmetric.Metric {
	t.Helper()
	sms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := 0; i < sms.Len(); i++ {
		if sms.At(i).Name() == name {
			return sms.At(i)
		}
	}
	t.Fatalf("no metric %q", name)
	return pmetric.Metric{}
}

// snapshot returns the engine's saved state.
func (te *testEngine) snapshot(t testing.TB) []byte {
	t.Helper()
	te.mu.Lock()
	defer te.mu.Unlock()
	data, err := te.marshalState()
	require.NoError(t, err)
	return data
}

// restore loads a saved state into the engine.
func (te *testEngine) restore(t testing.TB, data []byte) {
	t.Helper()
	te.mu.Lock()
	defer te.mu.Unlock()
	require.NoError(t, te.unmarshalState(data))
}
