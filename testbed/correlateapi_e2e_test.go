package testbed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/ollystack/ollystack/testbed/harness"
)

// correlateAPIConfig stores everything in the embedded store and serves the correlate API.
const correlateAPIConfig = `
extensions:
  health_check:
    endpoint: 127.0.0.1:{{.Health}}
  signalstore:
    embedded:
      path: {{.Dir}}/signals.db
  correlateapi:
    endpoint: 127.0.0.1:{{.API}}
    store: signalstore
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{{.HTTP}}
processors:
  batch:
    timeout: 100ms
exporters:
  signalstore:
    store: signalstore
service:
  extensions: [health_check, signalstore, correlateapi]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [signalstore]
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [signalstore]
    metrics:
      receivers: [otlp]
      processors: [batch]
      exporters: [signalstore]
`

// e2eRequest is one checkout crossing three services and a queue: trace A (gateway → orders →
// publish) and trace B (payments consumes, then fails to charge), both carrying one explicit id.
type e2eRequest struct {
	id             string
	base           time.Time
	traceA, traceB pcommon.TraceID
}

func (r *e2eRequest) at(ms int) pcommon.Timestamp {
	return pcommon.NewTimestampFromTime(r.base.Add(time.Duration(ms) * time.Millisecond))
}

func sid(trace byte, n byte) pcommon.SpanID { return pcommon.SpanID{trace, 0, 0, 0, 0, 0, 0, n} }

func (r *e2eRequest) span(td ptrace.Traces, service string, trace pcommon.TraceID, id, parent pcommon.SpanID,
	name string, kind ptrace.SpanKind, startMs, durMs int, failure string) ptrace.Span {
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", service)
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetTraceID(trace)
	sp.SetSpanID(id)
	sp.SetParentSpanID(parent)
	sp.SetName(name)
	sp.SetKind(kind)
	sp.SetStartTimestamp(r.at(startMs))
	sp.SetEndTimestamp(r.at(startMs + durMs))
	sp.Attributes().PutStr("correlation_id", r.id)
	if failure != "" {
		sp.Status().SetCode(ptrace.StatusCodeError)
		ev := sp.Events().AppendEmpty()
		ev.SetName("exception")
		ev.SetTimestamp(r.at(startMs + durMs - 1))
		ev.Attributes().PutStr("exception.type", "PoolTimeoutError")
		ev.Attributes().PutStr("exception.message", failure)
	}
	return sp
}

// children are exported before their roots, as SDKs do.
func (r *e2eRequest) childBatch() ptrace.Traces {
	td := ptrace.NewTraces()
	r.span(td, "payments", r.traceB, sid(0xb, 2), sid(0xb, 1), "charge card", ptrace.SpanKindClient, 220, 150, "pool exhausted after 30000 ms")
	r.span(td, "orders", r.traceA, sid(0xa, 3), sid(0xa, 2), "orders publish", ptrace.SpanKindProducer, 60, 10, "")
	return td
}

func (r *e2eRequest) rootBatch() ptrace.Traces {
	td := ptrace.NewTraces()
	root := r.span(td, "gateway", r.traceA, sid(0xa, 1), pcommon.SpanID{}, "POST /checkout", ptrace.SpanKindServer, 0, 120, "")
	root.Attributes().PutStr("enduser.id", "user-42")
	r.span(td, "orders", r.traceA, sid(0xa, 2), sid(0xa, 1), "POST /orders", ptrace.SpanKindServer, 20, 80, "")
	consume := r.span(td, "payments", r.traceB, sid(0xb, 1), pcommon.SpanID{}, "orders process", ptrace.SpanKindConsumer, 200, 200, "pool exhausted after 30001 ms")
	link := consume.Links().AppendEmpty()
	link.SetTraceID(r.traceA)
	link.SetSpanID(sid(0xa, 3))
	return td
}

// logs carry no correlation id: they join through their trace id.
func (r *e2eRequest) logs() plog.Logs {
	ld := plog.NewLogs()
	add := func(service string, trace pcommon.TraceID, span pcommon.SpanID, ms int, sev plog.SeverityNumber, body string) {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", service)
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetTimestamp(r.at(ms))
		lr.SetTraceID(trace)
		lr.SetSpanID(span)
		lr.SetSeverityNumber(sev)
		lr.Body().SetStr(body)
	}
	add("orders", r.traceA, sid(0xa, 2), 30, plog.SeverityNumberInfo, "order created")
	add("payments", r.traceB, sid(0xb, 2), 360, plog.SeverityNumberError, "charge failed")
	return ld
}

func (r *e2eRequest) metrics() pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "payments")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("payments.charge.duration")
	g := m.SetEmptyGauge()
	dp := g.DataPoints().AppendEmpty()
	dp.SetTimestamp(r.at(400))
	dp.SetDoubleValue(0.15)
	ex := dp.Exemplars().AppendEmpty()
	ex.SetTimestamp(r.at(370))
	ex.SetDoubleValue(0.15)
	ex.SetTraceID(r.traceB)
	ex.SetSpanID(sid(0xb, 2))
	return md
}

func postOTLP(t *testing.T, port int, path string, body []byte, err error) {
	t.Helper()
	require.NoError(t, err)
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d%s", port, path), "application/x-protobuf", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, path)
}

func getJSON(t *testing.T, url string, into any) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if into != nil && resp.StatusCode == http.StatusOK {
		require.NoError(t, json.Unmarshal(body, into), string(body))
	}
	return resp.StatusCode
}

// correlated is the part of the answer this test checks.
type correlated struct {
	Summary struct {
		TraceCount     int    `json:"trace_count"`
		SpanCount      int    `json:"span_count"`
		LogCount       int    `json:"log_count"`
		MetricCount    int    `json:"metric_count"`
		EntryService   string `json:"entry_service"`
		EntryOperation string `json:"entry_operation"`
		Status         string `json:"status"`
	} `json:"summary"`
	Services []string `json:"services"`
	Timeline []struct {
		Timestamp time.Time `json:"timestamp"`
		Type      string    `json:"type"`
		Name      string    `json:"name"`
	} `json:"timeline"`
	Errors []struct {
		Service         string `json:"service"`
		ExceptionType   string `json:"exception_type"`
		Count           int    `json:"count"`
		OriginCandidate bool   `json:"origin_candidate"`
	} `json:"errors"`
}

func TestCorrelateAPIEndToEnd(t *testing.T) {
	c := harness.StartCollector(t, correlateAPIConfig)
	req := &e2eRequest{
		id:     "olly-2k8f9x3-a7b2c4d1",
		base:   time.Now().Add(-time.Minute).Truncate(time.Millisecond),
		traceA: pcommon.TraceID{0xa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
		traceB: pcommon.TraceID{0xb, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	}
	body, err := ptraceotlp.NewExportRequestFromTraces(req.childBatch()).MarshalProto()
	postOTLP(t, c.Env.HTTP, "/v1/traces", body, err)
	body, err = ptraceotlp.NewExportRequestFromTraces(req.rootBatch()).MarshalProto()
	postOTLP(t, c.Env.HTTP, "/v1/traces", body, err)
	body, err = plogotlp.NewExportRequestFromLogs(req.logs()).MarshalProto()
	postOTLP(t, c.Env.HTTP, "/v1/logs", body, err)
	body, err = pmetricotlp.NewExportRequestFromMetrics(req.metrics()).MarshalProto()
	postOTLP(t, c.Env.HTTP, "/v1/metrics", body, err)

	api := fmt.Sprintf("http://127.0.0.1:%d/api/v1", c.Env.API)
	var answer correlated
	require.Eventually(t, func() bool {
		answer = correlated{}
		status := getJSON(t, api+"/correlate/"+req.id, &answer)
		return status == http.StatusOK && answer.Summary.SpanCount == 5 && answer.Summary.LogCount == 2 && answer.Summary.MetricCount == 1
	}, 30*time.Second, 100*time.Millisecond, "every signal of the request under one id: %+v", answer.Summary)

	assert.Equal(t, 2, answer.Summary.TraceCount)
	assert.Equal(t, "gateway", answer.Summary.EntryService)
	assert.Equal(t, "POST /checkout", answer.Summary.EntryOperation)
	assert.Equal(t, "error", answer.Summary.Status)
	assert.Equal(t, []string{"gateway", "orders", "payments"}, answer.Services)
	require.NotEmpty(t, answer.Timeline)
	assert.Equal(t, "POST /checkout", answer.Timeline[0].Name, "the timeline starts at the entry span")
	assert.True(t, slices.IsSortedFunc(answer.Timeline, func(a, b struct {
		Timestamp time.Time `json:"timestamp"`
		Type      string    `json:"type"`
		Name      string    `json:"name"`
	}) int {
		return a.Timestamp.Compare(b.Timestamp)
	}), "chronological timeline")
	require.Len(t, answer.Errors, 2, "the failed spans' exception and the error log")
	for _, group := range answer.Errors {
		assert.Equal(t, "payments", group.Service)
		assert.True(t, group.OriginCandidate, "payments is where the failure started")
		if group.ExceptionType == "PoolTimeoutError" {
			assert.Equal(t, 2, group.Count, "both failed spans share one fingerprint")
		}
	}

	var impact struct {
		TraceCount   int      `json:"trace_count"`
		RequestCount int      `json:"request_count"`
		ErrorCount   int      `json:"error_count"`
		Users        []string `json:"users"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, api+"/correlate/"+req.id+"/impact", &impact))
	assert.Equal(t, 2, impact.TraceCount)
	assert.Equal(t, 3, impact.RequestCount)
	assert.Equal(t, 2, impact.ErrorCount)
	assert.Equal(t, []string{"user-42"}, impact.Users)

	// A derived id names trace A directly; malformed and hostile input gets 400.
	assert.Equal(t, http.StatusOK, getJSON(t, api+"/correlate/olly-t-"+req.traceA.String(), nil))
	assert.Equal(t, http.StatusOK, getJSON(t, api+"/traces/"+req.traceB.String(), nil))
	assert.Equal(t, http.StatusNotFound, getJSON(t, api+"/correlate/olly-unknown", nil))
	for _, hostile := range []string{"/correlate/..%2F..%2Fetc%2Fpasswd", "/correlate/" + string(bytes.Repeat([]byte("x"), 2000)),
		"/correlations?min_duration=soon", "/traces/not-hex"} {
		assert.Equal(t, http.StatusBadRequest, getJSON(t, api+hostile, nil), hostile)
	}
	assert.Equal(t, http.StatusOK, getJSON(t, api+"/openapi.json", nil))
	assert.Equal(t, http.StatusOK, getJSON(t, api+"/services?since=1h", nil))
}
