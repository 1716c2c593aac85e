package testbed

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ollystack/ollystack/testbed/harness"
)

// smokeConfig receives OTLP on both protocols and writes every signal to OTLP/JSON files.
const smokeConfig = `
extensions:
` + healthCheckExtension + otlpReceivers + `processors:
  batch:
    timeout: 200ms
` + fileExporters + `service:
  extensions: [health_check]
  telemetry:
    metrics:
` + selfMetricsReaders + `  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [file/traces]
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [file/logs]
    metrics:
      receivers: [otlp]
      processors: [batch]
      exporters: [file/metrics]
`

func TestSmokeAllSignalsBothProtocols(t *testing.T) {
	c := harness.StartCollector(t, smokeConfig)

	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", c.Env.Health))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	grpc := []string{"--otlp-insecure", "--otlp-endpoint", fmt.Sprintf("127.0.0.1:%d", c.Env.GRPC)}
	httpArgs := []string{"--otlp-insecure", "--otlp-http", "--otlp-endpoint", fmt.Sprintf("127.0.0.1:%d", c.Env.HTTP)}
	for _, proto := range [][]string{grpc, httpArgs} {
		// Each trace is a parent and one child span.
		harness.Telemetrygen(t, append([]string{"traces", "--rate", "0", "--traces", "10", "--child-spans", "1"}, proto...)...)
		harness.Telemetrygen(t, append([]string{"logs", "--rate", "0", "--logs", "10"}, proto...)...)
		harness.Telemetrygen(t, append([]string{"metrics", "--rate", "0", "--metrics", "10"}, proto...)...)
	}

	want := map[string]int{"spans": 40, "logs": 20, "data points": 20}
	got := map[string]int{}
	require.Eventually(t, func() bool {
		traces, _ := harness.ReadTracesFile(c.Env.Path("traces.json"))
		logs, _ := harness.ReadLogsFile(c.Env.Path("logs.json"))
		metrics, _ := harness.ReadMetricsFile(c.Env.Path("metrics.json"))
		got = map[string]int{
			"spans":       harness.SpanCount(traces),
			"logs":        harness.LogCount(logs),
			"data points": harness.DataPointCount(metrics),
		}
		return fmt.Sprint(got) == fmt.Sprint(want)
	}, 30*time.Second, 100*time.Millisecond, "what arrived: %v", got)

	c.Stop(t)

	// Nothing arrives twice: the files hold exactly what was sent after a clean shutdown too.
	traces, err := harness.ReadTracesFile(c.Env.Path("traces.json"))
	require.NoError(t, err)
	assert.Equal(t, want["spans"], harness.SpanCount(traces))
}

func TestValidateNamesTheBadField(t *testing.T) {
	env := harness.NewEnv(t)
	cfg, err := env.Render(strings.Replace(smokeConfig, "timeout: 200ms", "timeout: 200ms\n    sned_batch_size: 10", 1))
	require.NoError(t, err)
	path := env.Path("bad.yaml")
	require.NoError(t, writeFile(path, cfg))

	out, err := harness.Run(t, "validate", "--config", path)
	require.Error(t, err, "validate accepted a bad config:\n%s", out)
	assert.Contains(t, out, "sned_batch_size")

	good := env.Path("good.yaml")
	cfg, err = env.Render(smokeConfig)
	require.NoError(t, err)
	require.NoError(t, writeFile(good, cfg))
	out, err = harness.Run(t, "validate", "--config", good)
	require.NoError(t, err, out)
}

func TestShippedConfigsValidate(t *testing.T) {
	for _, name := range []string{"config.yaml", "config-clickhouse.yaml"} {
		t.Run(name, func(t *testing.T) {
			out, err := harness.Run(t, "validate", "--config", harness.RepoRoot()+"/distributions/otelcol-ollystack/"+name)
			require.NoError(t, err, out)
		})
	}
}
