package testbed

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ollystack/ollystack/testbed/harness"
)

// Load tests run the built binary under a steady OTLP/gRPC load from harness.LoadGenerator, sample its CPU and
// memory, check that everything the collector acknowledged was exported, and append a row per scenario
// to a results table. They take minutes, so they run only with OLLYSTACK_LOAD=1 (`make loadtest`);
// OLLYSTACK_LOAD_DURATION (default 30s) sets each scenario's length and OLLYSTACK_RESULTS_DIR
// (default testbed/results) where the table goes.

// loadScenario is one pipeline under one load.
type loadScenario struct {
	name string
	// pipeline is the YAML of extensions (starting with loadHealthCheck), processors and
	// exporters added to the base config; its service: keys must define a traces pipeline named
	// "traces" fed by the otlp receiver.
	pipeline string
	// spansPerSecond is the offered load, in traces of ten spans over three services.
	spansPerSecond int
}

const loadBase = `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{{.GRPC}}
service:
  telemetry:
    logs:
      level: warn
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {{.Telemetry}}
`

// loadHealthCheck opens every scenario's extensions: the harness waits for health_check.
const loadHealthCheck = `
extensions:
` + healthCheckExtension

var loadScenarios = []loadScenario{
	{
		// The default config's traces pipeline: correlation ids, then the embedded store with the
		// indexes the correlate API reads (fsync at every commit).
		name:           "otlp-correlation-batch-signalstore",
		spansPerSecond: 60_000,
		pipeline: loadHealthCheck + `
  signalstore:
    embedded:
      path: {{.Dir}}/ollystack.db
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
  correlation:
  batch:
    send_batch_size: 8192
    timeout: 1s
exporters:
  signalstore:
service:
  extensions: [health_check, signalstore]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, correlation, batch]
      exporters: [signalstore]
`,
	},
	{
		name:           "otlp-batch-debug",
		spansPerSecond: 50_000,
		pipeline: loadHealthCheck + `
processors:
  batch:
exporters:
  debug:
    verbosity: basic
    sampling_initial: 1
    sampling_thereafter: 1000000
service:
  extensions: [health_check]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [debug]
`,
	},
}

func TestLoad(t *testing.T) {
	if os.Getenv("OLLYSTACK_LOAD") == "" {
		t.Skip("load tests run with OLLYSTACK_LOAD=1 (make loadtest)")
	}
	duration := 30 * time.Second
	if d := os.Getenv("OLLYSTACK_LOAD_DURATION"); d != "" {
		var err error
		duration, err = time.ParseDuration(d)
		require.NoError(t, err, "OLLYSTACK_LOAD_DURATION")
	}
	var rows []string
	for _, sc := range loadScenarios {
		t.Run(sc.name, func(t *testing.T) {
			rows = append(rows, runLoad(t, sc, duration))
		})
	}
	writeResults(t, rows)
}

func runLoad(t *testing.T, sc loadScenario, duration time.Duration) string {
	env := harness.NewEnv(t)
	c := env.Start(t, mergeYAMLDocs(loadBase, sc.pipeline))
	stats, err := c.WatchProcess(500 * time.Millisecond)
	require.NoError(t, err)

	gen := harness.LoadGenerator{Endpoint: fmt.Sprintf("127.0.0.1:%d", env.GRPC), SpansPerSecond: sc.spansPerSecond}
	res, err := gen.Run(context.Background(), duration)
	require.NoError(t, err)

	// Everything accepted must be exported: wait for the exporters to drain.
	var accepted, sent float64
	require.Eventually(t, func() bool {
		accepted, _ = harness.SelfMetric(env.Telemetry, "otelcol_receiver_accepted_spans")
		sent, _ = harness.SelfMetric(env.Telemetry, "otelcol_exporter_sent_spans")
		return accepted == float64(res.SentSpans) && sent == accepted
	}, 2*time.Minute, 200*time.Millisecond, "acknowledged %d, accepted %v, exported %v", res.SentSpans, accepted, sent)
	refused, err := harness.SelfMetric(env.Telemetry, "otelcol_receiver_refused_spans")
	require.NoError(t, err)

	summary, err := stats.Stop()
	require.NoError(t, err)
	c.Stop(t)

	row := fmt.Sprintf("| %s | %d | %.0f | %d | %d | %.0f | %.0f | %.1f | %s |",
		sc.name, sc.spansPerSecond, float64(res.SentSpans)/res.Elapsed.Seconds(), res.SentSpans, res.FailedSpans, refused,
		summary.CPUPercent, summary.MaxRSSMiB, summary.Wall.Round(time.Second))
	t.Log(row)
	return row
}

// mergeYAMLDocs joins a base config and a scenario's additions; the scenario's `service:` keys are
// appended under the base's `service:` block.
func mergeYAMLDocs(base, scenario string) string {
	top, service, _ := strings.Cut(scenario, "\nservice:\n")
	return top + "\n" + strings.Replace(base, "\nservice:\n", "\nservice:\n"+service, 1)
}

func writeResults(t *testing.T, rows []string) {
	dir := os.Getenv("OLLYSTACK_RESULTS_DIR")
	if dir == "" {
		dir = "results"
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, "load.md")
	host, _ := os.Hostname()
	table := fmt.Sprintf("# Load test results\n\n%s on %s, %d CPUs\n\n"+
		"| scenario | offered spans/s | acknowledged spans/s | spans acknowledged | spans failed | spans refused | collector CPU %% (one core = 100) | max RSS MiB | wall |\n"+
		"| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n%s\n",
		time.Now().UTC().Format(time.RFC3339), host, runtime.NumCPU(), strings.Join(rows, "\n"))
	require.NoError(t, os.WriteFile(path, []byte(table), 0o644))
	t.Logf("results written to %s", path)
}
