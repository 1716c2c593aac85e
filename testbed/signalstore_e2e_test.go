package testbed

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/pkg/signalstore/embedded"
	"github.com/ollystack/ollystack/testbed/harness"
)

// signalStoreConfig is the distribution's default pipeline shape (otlp →
// memory_limiter → batch → signalstore, the store owned by the signalstore
// extension), on the test's ports and directory.
const signalStoreConfig = `
extensions:
` + healthCheckExtension + `  signalstore:
    embedded:
      path: {{.Dir}}/data/ollystack.db
` + otlpReceivers + `processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
  batch:
    send_batch_size: 8192
    timeout: 200ms
exporters:
  signalstore:
    store: signalstore
service:
  extensions: [health_check, signalstore]
  telemetry:
    metrics:
      level: normal
` + selfMetricsReaders + `  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [signalstore]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [signalstore]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [signalstore]
`

// Exemplar and log trace context that telemetrygen puts on what it sends, so
// the reads can find exactly those items.
const (
	e2eTraceID = "5b8efff798038103d269b633813fc60c"
	e2eSpanID  = "eee19b7ec3c1b174"
)

func TestSignalStoreStoresWhatTelemetrygenSends(t *testing.T) {
	env := harness.NewEnv(t)
	c := env.Start(t, signalStoreConfig)
	otlp := []string{"--otlp-insecure", "--otlp-endpoint", fmt.Sprintf("127.0.0.1:%d", env.GRPC), "--rate", "0"}
	const traces, logs, metrics = 50, 40, 30
	// Each trace is a parent and one child span.
	harness.Telemetrygen(t, append([]string{"traces", "--traces", strconv.Itoa(traces), "--child-spans", "1",
		"--service", "e2e-traces"}, otlp...)...)
	harness.Telemetrygen(t, append([]string{"logs", "--logs", strconv.Itoa(logs), "--service", "e2e-logs",
		"--trace-id", e2eTraceID, "--span-id", e2eSpanID}, otlp...)...)
	harness.Telemetrygen(t, append([]string{"metrics", "--metrics", strconv.Itoa(metrics), "--metric-type", "Sum",
		"--trace-id", e2eTraceID, "--span-id", e2eSpanID}, otlp...)...)

	// A clean stop drains the batch processor and the exporter's queue
	// into the store before the extension closes it.
	c.Stop(t)

	store := openStore(t, env)
	assert.Equal(t, int64(2*traces), countSpans(t, store, "e2e-traces"))
	assertE2ETraceLogsAndMetrics(t, store, logs, metrics)
}

// TestShippedConfigStoresWhatTelemetrygenSends runs the distribution's own
// config.yaml (only its listen addresses moved to the test's ports) in the
// test's directory, where its relative store path ./data/ollystack.db lands.
func TestShippedConfigStoresWhatTelemetrygenSends(t *testing.T) {
	env := harness.NewEnv(t)
	c := env.StartArgs(t,
		"--config", filepath.Join(harness.RepoRoot(), "distributions", "otelcol-ollystack", "config.yaml"),
		setFlag("extensions::health_check::endpoint", fmt.Sprintf("127.0.0.1:%d", env.Health)),
		setFlag("extensions::pprof::endpoint", "127.0.0.1:0"),
		setFlag("extensions::zpages::endpoint", "127.0.0.1:0"),
		setFlag("extensions::correlateapi::endpoint", fmt.Sprintf("127.0.0.1:%d", env.API)),
		setFlag("receivers::otlp::protocols::grpc::endpoint", fmt.Sprintf("127.0.0.1:%d", env.GRPC)),
		setFlag("receivers::otlp::protocols::http::endpoint", fmt.Sprintf("127.0.0.1:%d", env.HTTP)),
		setFlag("service::telemetry::metrics::level", "none"),
	)
	otlp := []string{"--otlp-insecure", "--otlp-endpoint", fmt.Sprintf("127.0.0.1:%d", env.GRPC), "--rate", "0"}
	const traces, logs, metrics = 20, 15, 10
	harness.Telemetrygen(t, append([]string{"traces", "--traces", strconv.Itoa(traces), "--child-spans", "2",
		"--service", "shipped-traces"}, otlp...)...)
	harness.Telemetrygen(t, append([]string{"logs", "--logs", strconv.Itoa(logs),
		"--trace-id", e2eTraceID, "--span-id", e2eSpanID}, otlp...)...)
	harness.Telemetrygen(t, append([]string{"metrics", "--metrics", strconv.Itoa(metrics), "--metric-type", "Histogram",
		"--trace-id", e2eTraceID, "--span-id", e2eSpanID}, otlp...)...)
	// The README's first steps: the service map lists telemetrygen's service, though its spans
	// make no edge.
	var graph struct {
		Services []string `json:"services"`
	}
	require.Eventually(t, func() bool {
		return getJSON(t, fmt.Sprintf("http://127.0.0.1:%d/api/v1/services", env.API), &graph) == http.StatusOK &&
			slices.Contains(graph.Services, "shipped-traces")
	}, 30*time.Second, 200*time.Millisecond, "services %v", graph.Services)
	c.Stop(t)

	store := openStore(t, env)
	spans := countSpans(t, store, "shipped-traces")
	t.Logf("stored %d spans", spans)
	assert.Equal(t, int64(3*traces), spans)
	assertE2ETraceLogsAndMetrics(t, store, logs, metrics)
}

// assertE2ETraceLogsAndMetrics checks that the store holds exactly logs log
// records of the trace e2eTraceID and metrics points whose exemplars name it.
func assertE2ETraceLogsAndMetrics(t *testing.T, store signalstore.Reader, logs, metrics int) {
	t.Helper()
	ctx := context.Background()
	traceID := parseTraceID(t, e2eTraceID)
	records, err := store.LogsByTraceIDs(ctx, []signalstore.TraceID{traceID}, signalstore.TimeRange{}, 0)
	require.NoError(t, err)
	assert.Len(t, records, logs)
	points, err := store.MetricPointsByExemplarTraceIDs(ctx, []signalstore.TraceID{traceID}, signalstore.TimeRange{}, 0)
	require.NoError(t, err)
	assert.Len(t, points, metrics)
}

// TestSignalStoreKeepsAcknowledgedSpansAfterKill kills the collector with
// SIGKILL while spans are flowing, restarts it on the same database, and
// checks that every span the exporter had acknowledged
// (otelcol_exporter_sent_spans) is there.
func TestSignalStoreKeepsAcknowledgedSpansAfterKill(t *testing.T) {
	env := harness.NewEnv(t)
	c := env.Start(t, signalStoreConfig)

	load := startTelemetrygen(t, "traces", "--otlp-insecure", "--otlp-endpoint", fmt.Sprintf("127.0.0.1:%d", env.GRPC),
		"--duration", "60s", "--rate", "500", "--workers", "2", "--child-spans", "4", "--service", "e2e-durability")
	var acknowledged int64
	require.Eventually(t, func() bool {
		acknowledged = sentSpans(t, env)
		return acknowledged >= 5000
	}, 45*time.Second, 50*time.Millisecond, "the exporter acknowledged only %d spans", acknowledged)
	c.Kill(t)
	stopProcess(load)

	// The restarted collector recovers the WAL of the killed one.
	c = env.Start(t, signalStoreConfig)
	c.Stop(t)

	stored := countSpans(t, openStore(t, env), "e2e-durability")
	t.Logf("acknowledged before SIGKILL: %d spans, stored: %d", acknowledged, stored)
	assert.GreaterOrEqual(t, stored, acknowledged, "spans the exporter acknowledged were lost")
}

// openStore opens the database the collector of env wrote, after it exited.
func openStore(t *testing.T, env *harness.Env) *embedded.Store {
	t.Helper()
	cfg := embedded.NewDefaultConfig()
	cfg.Path = filepath.Join(env.Dir, "data", "ollystack.db")
	store, err := embedded.Open(context.Background(), cfg, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	return store
}

// countSpans counts the spans of a service with the typed query.
func countSpans(t *testing.T, store signalstore.QueryRunner, service string) int64 {
	t.Helper()
	res, err := store.Query(context.Background(), signalstore.Query{
		Signal:       signalstore.SignalSpans,
		Last:         signalstore.Duration(24 * time.Hour),
		Filters:      []signalstore.Filter{{Field: signalstore.FieldServiceName, Op: signalstore.OpEq, Value: signalstore.FilterValue(service)}},
		Aggregations: []signalstore.Aggregation{{Func: signalstore.AggCount}},
	})
	require.NoError(t, err)
	require.Len(t, res.Rows, 1)
	require.Len(t, res.Rows[0], 1)
	n, err := strconv.ParseInt(fmt.Sprint(res.Rows[0][0]), 10, 64)
	require.NoError(t, err, "count %v", res.Rows[0][0])
	return n
}

func parseTraceID(t *testing.T, s string) signalstore.TraceID {
	t.Helper()
	id, err := signalstore.ParseTraceID(s)
	require.NoError(t, err)
	return id
}

// sentSpans reads otelcol_exporter_sent_spans of the signalstore exporter
// from the collector's own Prometheus endpoint (0 until it is exported).
func sentSpans(t *testing.T, env *harness.Env) int64 {
	t.Helper()
	client := http.Client{Timeout: time.Second}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", env.Telemetry))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var total int64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "otelcol_exporter_sent_spans") || !strings.Contains(line, `exporter="signalstore"`) {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		require.NoError(t, err, line)
		total += int64(v)
	}
	return total
}

// startTelemetrygen runs telemetrygen in the background (harness.Telemetrygen
// waits for it to finish); the test stops it.
func startTelemetrygen(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	bin := os.Getenv("OLLYSTACK_TELEMETRYGEN")
	if bin == "" {
		bin = filepath.Join(harness.RepoRoot(), ".tools", "bin", "telemetrygen")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("telemetrygen not found (%v): run `make tools` or set OLLYSTACK_TELEMETRYGEN", err)
	}
	cmd := exec.Command(bin, args...)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { stopProcess(cmd) })
	return cmd
}

func stopProcess(cmd *exec.Cmd) {
	if cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}
