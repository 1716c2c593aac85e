package testbed

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/ollystack/ollystack/testbed/harness"
)

// sloConfig wires the slometrics connector as the shipped config does, with a
// one-second flush, its state in file_storage, and its outputs in files.
const sloConfig = `
extensions:
  health_check:
    endpoint: 127.0.0.1:{{.Health}}
  file_storage/slo:
    directory: {{.Dir}}/slo-state
    create_directory: true
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{{.GRPC}}
connectors:
  slometrics:
    flush_interval: 1s
    storage: file_storage/slo
    slos:
      - name: e2e-availability
        service: e2e-slo
        sli:
          kind: availability
        target: 99.9
exporters:
  file/metrics:
    path: {{.Dir}}/RUN-metrics.json
  file/logs:
    path: {{.Dir}}/RUN-logs.json
service:
  extensions: [health_check, file_storage/slo]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [slometrics]
    metrics/slo:
      receivers: [slometrics]
      exporters: [file/metrics]
    logs/slo:
      receivers: [slometrics]
      exporters: [file/logs]
`

// TestSLOMetricsEndToEnd sends failing requests through the built binary:
// the SLO metrics count them with exemplars, every alert tier fires once, and
// a restarted collector keeps the counts and the firing state, so it neither
// forgets the budget nor pages again.
func TestSLOMetricsEndToEnd(t *testing.T) {
	env := harness.NewEnv(t)
	first := env.Start(t, strings.ReplaceAll(sloConfig, "RUN-", "first-"))
	// Each trace is a client parent and one server child; the SLO counts the
	// server spans, all failed.
	harness.Telemetrygen(t, "traces", "--otlp-insecure", "--otlp-endpoint", fmt.Sprintf("127.0.0.1:%d", env.GRPC),
		"--rate", "0", "--traces", "20", "--child-spans", "1", "--status-code", "Error", "--service", "e2e-slo")

	var good, bad int64
	var firing []plog.LogRecord
	require.Eventually(t, func() bool {
		good, bad, _ = latestSLIEvents(t, env.Path("first-metrics.json"))
		firing = alertRecords(t, env.Path("first-logs.json"), "firing")
		return bad == 20 && len(firing) == 4
	}, 30*time.Second, 200*time.Millisecond, "bad events %d, firing records %d", bad, len(firing))
	assert.Zero(t, good)
	_, _, exemplars := latestSLIEvents(t, env.Path("first-metrics.json"))
	assert.Positive(t, exemplars, "bad events carry exemplars")
	first.Stop(t)

	env.Start(t, strings.ReplaceAll(sloConfig, "RUN-", "second-"))
	var batches int
	require.Eventually(t, func() bool {
		metrics, _ := harness.ReadMetricsFile(env.Path("second-metrics.json"))
		batches = len(metrics)
		good, bad, _ = latestSLIEvents(t, env.Path("second-metrics.json"))
		return batches >= 3 && bad == 20
	}, 30*time.Second, 200*time.Millisecond, "after the restart: %d flushes, bad events %d", batches, bad)
	assert.Empty(t, alertRecords(t, env.Path("second-logs.json"), "firing"), "a restart does not page again")
}

// latestSLIEvents returns the last slo.sli.events values of the file and the
// exemplars of the bad point.
func latestSLIEvents(t *testing.T, path string) (good, bad int64, badExemplars int) {
	t.Helper()
	batches, _ := harness.ReadMetricsFile(path)
	for _, md := range batches {
		rms := md.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			sms := rms.At(i).ScopeMetrics()
			for j := 0; j < sms.Len(); j++ {
				ms := sms.At(j).Metrics()
				for k := 0; k < ms.Len(); k++ {
					if m := ms.At(k); m.Name() == "slo.sli.events" && m.Type() == pmetric.MetricTypeSum {
						dps := m.Sum().DataPoints()
						for d := 0; d < dps.Len(); d++ {
							outcome, _ := dps.At(d).Attributes().Get("slo.sli.outcome")
							if outcome.Str() == "bad" {
								bad, badExemplars = dps.At(d).IntValue(), dps.At(d).Exemplars().Len()
							} else {
								good = dps.At(d).IntValue()
							}
						}
					}
				}
			}
		}
	}
	return good, bad, badExemplars
}

// alertRecords returns the alert log records of the file in the given state.
func alertRecords(t *testing.T, path, state string) []plog.LogRecord {
	t.Helper()
	batches, _ := harness.ReadLogsFile(path)
	var out []plog.LogRecord
	for _, ld := range batches {
		rls := ld.ResourceLogs()
		for i := 0; i < rls.Len(); i++ {
			sls := rls.At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				lrs := sls.At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					if s, _ := lrs.At(k).Attributes().Get("slo.alert.state"); s.Str() == state {
						out = append(out, lrs.At(k))
					}
				}
			}
		}
	}
	return out
}
