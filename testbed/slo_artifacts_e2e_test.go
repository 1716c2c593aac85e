package testbed

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ollystack/ollystack/testbed/harness"
)

// sloPrometheusConfig exports the slometrics connector's metrics the way Prometheus users get them.
const sloPrometheusConfig = `
extensions:
` + healthCheckExtension + `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{{.GRPC}}
connectors:
  slometrics:
    flush_interval: 1s
    slos:
      - name: frontend-availability
        service: frontend
        sli:
          kind: availability
        target: 99.9
exporters:
  prometheus:
    endpoint: 127.0.0.1:{{.API}}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [slometrics]
    metrics:
      receivers: [slometrics]
      exporters: [prometheus]
`

// TestSLOArtifactsNameExportedMetrics: every metric the shipped Prometheus rules and Grafana
// dashboard query is one the distribution really exposes through its prometheus exporter.
func TestSLOArtifactsNameExportedMetrics(t *testing.T) {
	c := harness.StartCollector(t, sloPrometheusConfig)
	harness.Telemetrygen(t, "traces", "--rate", "0", "--traces", "5", "--service", "frontend",
		"--status-code", "Error", "--otlp-insecure", "--otlp-endpoint", fmt.Sprintf("127.0.0.1:%d", c.Env.GRPC))

	metricName := regexp.MustCompile(`(?m)^(slo_[a-z_]+)[{ ]`)
	var exposed []string
	var body []byte
	require.Eventually(t, func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", c.Env.API))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ = io.ReadAll(resp.Body)
		exposed = exposed[:0]
		for _, m := range metricName.FindAllStringSubmatch(string(body), -1) {
			if !slices.Contains(exposed, m[1]) {
				exposed = append(exposed, m[1])
			}
		}
		return slices.Contains(exposed, "slo_alert_state_ratio")
	}, 30*time.Second, 200*time.Millisecond, "slo metrics on the prometheus exporter")
	c.Stop(t)
	// The rules select an SLO by these labels.
	assert.Regexp(t, `(?m)^slo_sli_events_total\{.*service_name="frontend".*slo_sli_outcome="bad"`, string(body))
	assert.Regexp(t, `(?m)^slo_sli_events_total\{.*slo_name="frontend-availability"`, string(body))

	queried := regexp.MustCompile(`\bslo_[a-z_]+\b`)
	dir := filepath.Join(harness.RepoRoot(), "distributions", "otelcol-ollystack", "slo")
	for _, file := range []string{"rules.yaml", "dashboard.json"} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		require.NoError(t, err)
		names := queried.FindAllString(string(data), -1)
		require.NotEmpty(t, names, file)
		for _, name := range names {
			if isLabel(name) {
				continue
			}
			assert.Contains(t, exposed, name, "%s queries a metric the collector does not expose", file)
		}
	}
}

// isLabel tells the connector's label names apart from metric names in queries.
func isLabel(name string) bool {
	switch name {
	case "slo_name", "slo_sli_outcome", "slo_window", "slo_burn_rate_window", "slo_alert_name", "slo_alert_severity":
		return true
	}
	return false
}
