package testbed

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/testbed/harness"
)

// clickhouseAnswer is what TestClickHouseShippedConfigCorrelates reads of GET /api/v1/correlate/{id}.
type clickhouseAnswer struct {
	correlated
	CorrelationID string                  `json:"correlation_id"`
	Logs          []signalstore.LogRecord `json:"logs"`
	Traces        []struct {
		Spans []signalstore.Span `json:"spans"`
	} `json:"traces"`
}

func (a clickhouseAnswer) spans() []signalstore.Span {
	var spans []signalstore.Span
	for _, tr := range a.Traces {
		spans = append(spans, tr.Spans...)
	}
	return spans
}

// TestClickHouseShippedConfigCorrelates runs the built binary with the shipped
// config-clickhouse.yaml against the ClickHouse of $OLLYSTACK_CLICKHOUSE_DSN (HTTP) and
// $OLLYSTACK_CLICKHOUSE_NATIVE_DSN (native protocol) — `make test-e2e` serves both from chDB: the
// contrib exporter writes, the signalstore extension reads, and the correlate API must answer with
// everything sent under one explicit correlation id.
func TestClickHouseShippedConfigCorrelates(t *testing.T) {
	dsns := map[string]string{"http": os.Getenv("OLLYSTACK_CLICKHOUSE_DSN"), "native": os.Getenv("OLLYSTACK_CLICKHOUSE_NATIVE_DSN")}
	if dsns["http"] == "" && dsns["native"] == "" {
		t.Skip("OLLYSTACK_CLICKHOUSE_DSN is not set: run `make test-e2e`, which serves ClickHouse from chDB, or set it to a ClickHouse server")
	}
	for _, protocol := range []string{"http", "native"} {
		t.Run(protocol, func(t *testing.T) {
			if dsns[protocol] == "" {
				t.Skipf("no %s endpoint given", protocol)
			}
			testClickHouseShippedConfig(t, dsns[protocol])
		})
	}
}

func testClickHouseShippedConfig(t *testing.T, dsn string) {
	run := time.Now().UnixNano()
	// A fresh database per run, so nothing of an earlier run answers.
	t.Setenv("CLICKHOUSE_ENDPOINT", dsn)
	t.Setenv("CLICKHOUSE_DATABASE", fmt.Sprintf("ollystack_e2e_%d", run))
	env := harness.NewEnv(t)
	t.Setenv("OLLYSTACK_QUEUE_DIR", env.Path("queue"))
	c := env.StartArgs(t,
		"--config", filepath.Join(harness.RepoRoot(), "distributions", "otelcol-ollystack", "config-clickhouse.yaml"),
		setFlag("extensions::health_check::endpoint", fmt.Sprintf("127.0.0.1:%d", env.Health)),
		setFlag("extensions::correlateapi::endpoint", fmt.Sprintf("127.0.0.1:%d", env.API)),
		setFlag("receivers::otlp::protocols::grpc::endpoint", fmt.Sprintf("127.0.0.1:%d", env.GRPC)),
		setFlag("receivers::otlp::protocols::http::endpoint", fmt.Sprintf("127.0.0.1:%d", env.HTTP)),
		setFlag("service::telemetry::metrics::level", "none"),
	)

	// The index views read the exporter's tables, so on a fresh database the store creates them
	// when the pipelines are ready (the exporter created its tables while starting); rows inserted
	// before that would not be indexed (pkg/signalstore/clickhouse/README.md).
	require.Eventually(t, func() bool {
		return strings.Contains(c.Logs(), "index views created")
	}, 60*time.Second, 200*time.Millisecond, "the signalstore extension never created its index views")

	id := fmt.Sprintf("ch-e2e-%d", run)
	endpoint := fmt.Sprintf("127.0.0.1:%d", env.GRPC)

	// One request through three services instrumented with the OTel SDK: the id is the entry span's
	// X-Correlation-ID header attribute; the logs carry only trace context.
	frontend := newInstrumentedService(t, endpoint, "frontend")
	checkout := newInstrumentedService(t, endpoint, "checkout")
	payment := newInstrumentedService(t, endpoint, "payment")
	simulateCheckoutRequest(frontend, checkout, payment, id, 42.5)
	for _, s := range []*instrumentedService{frontend, checkout, payment} {
		s.flush(t)
		s.shutdown(t)
	}

	// telemetrygen sends the id as an X-Correlation-ID request header: one trace of three spans,
	// and two logs without trace context, which the index finds by id alone.
	header := fmt.Sprintf("X-Correlation-ID=%q", id)
	otlp := []string{"--otlp-insecure", "--otlp-endpoint", endpoint, "--rate", "0", "--otlp-header", header, "--service", "inventory"}
	harness.Telemetrygen(t, append([]string{"traces", "--traces", "1", "--child-spans", "2"}, otlp...)...)
	harness.Telemetrygen(t, append([]string{"logs", "--logs", "2", "--body", "stock reserved"}, otlp...)...)

	api := fmt.Sprintf("http://127.0.0.1:%d/api/v1", env.API)
	const wantSpans, wantLogs = 3 + 3, 3 + 2
	// The exporter batches for up to 5s, then queues; poll until everything is readable.
	var answer clickhouseAnswer
	var status int
	require.Eventually(t, func() bool {
		answer = clickhouseAnswer{}
		status = getJSON(t, api+"/correlate/"+id, &answer)
		return status == http.StatusOK && answer.Summary.SpanCount == wantSpans && answer.Summary.LogCount == wantLogs
	}, 60*time.Second, 500*time.Millisecond, "status %d, summary %+v", status, answer.Summary)

	assert.Equal(t, id, answer.CorrelationID)
	assert.Equal(t, 2, answer.Summary.TraceCount)
	assert.Equal(t, "ok", answer.Summary.Status)
	assert.Equal(t, "frontend", answer.Summary.EntryService)
	assert.Equal(t, "GET /checkout", answer.Summary.EntryOperation)
	// checkout's latency histogram has an exemplar of the SDK trace (exported on flush and again
	// on shutdown, so one point or more).
	assert.GreaterOrEqual(t, answer.Summary.MetricCount, 1)
	assert.Equal(t, []string{"checkout", "frontend", "inventory", "payment"}, answer.Services)
	spans := answer.spans()
	require.Len(t, spans, wantSpans)
	var names []string
	for _, span := range spans {
		names = append(names, span.ServiceName+" "+span.SpanName)
		assert.Equal(t, id, span.CorrelationID, "span %s %s", span.ServiceName, span.SpanName)
	}
	for _, want := range []string{"frontend GET /checkout", "checkout POST /orders", "payment POST /charge", "inventory lets-go"} {
		assert.Contains(t, names, want)
	}
	require.Len(t, answer.Logs, wantLogs)
	var bodies []string
	for _, record := range answer.Logs {
		bodies = append(bodies, record.ServiceName+": "+record.Body)
		assert.Equal(t, id, record.CorrelationID, "log %q", record.Body)
	}
	slices.Sort(bodies)
	assert.Equal(t, []string{"checkout: order created", "frontend: checkout page requested",
		"inventory: stock reserved", "inventory: stock reserved", "payment: card charged"}, bodies)

	var recent correlationsResponse
	require.Equal(t, http.StatusOK, getJSON(t, api+"/correlations?since=1h", &recent))
	i := slices.IndexFunc(recent.Correlations, func(s signalstore.CorrelationSummary) bool { return s.CorrelationID == id })
	require.GreaterOrEqual(t, i, 0, "recent correlations %+v", recent.Correlations)
	assert.EqualValues(t, wantSpans, recent.Correlations[i].SpanCount)
	assert.EqualValues(t, 2, recent.Correlations[i].TraceCount)

	// The SDK request crosses services; telemetrygen's spans stay within one, which the map
	// lists without an edge.
	var graph struct {
		Services []string `json:"services"`
		Edges    []struct {
			Caller       string `json:"caller"`
			Callee       string `json:"callee"`
			RequestCount int64  `json:"request_count"`
		} `json:"edges"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, api+"/services?since=1h", &graph))
	var edges []string
	for _, e := range graph.Edges {
		edges = append(edges, fmt.Sprintf("%s->%s x%d", e.Caller, e.Callee, e.RequestCount))
	}
	assert.Equal(t, []string{"checkout->payment x1", "frontend->checkout x1"}, edges)
	assert.Equal(t, []string{"checkout", "frontend", "inventory", "payment"}, graph.Services)

	c.Stop(t)
}

// correlationsResponse is the answer of GET /api/v1/correlations.
type correlationsResponse struct {
	Correlations []signalstore.CorrelationSummary `json:"correlations"`
	Count        int                              `json:"count"`
}
