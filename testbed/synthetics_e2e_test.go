package testbed

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/ollystack/ollystack/testbed/harness"
)

// syntheticsConfig runs one HTTP check every second against an instrumented service that
// exports its own server span to the same collector.
const syntheticsConfig = `
extensions:
` + healthCheckExtension + `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{{.HTTP}}
        include_metadata: true
  synthetics:
    location: e2e
    checks:
      - name: checkout-health
        type: http
        interval: 1s
        timeout: 10s
        http:
          url: %s/health
          assertions:
            - status: "200"
processors:
  correlation:
exporters:
  file:
    path: {{.Dir}}/traces.json
    flush_interval: 100ms
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp, synthetics]
      processors: [correlation]
      exporters: [file]
`

// TestSyntheticsRunJoinsBackendTrace: the synthetic run and the backend's own span must share one
// trace and, after the correlation processor, one correlation id.
func TestSyntheticsRunJoinsBackendTrace(t *testing.T) {
	env := harness.NewEnv(t)
	service := tracePropagatingBackend(t, fmt.Sprintf("http://127.0.0.1:%d", env.HTTP))
	defer service.Close()
	c := env.Start(t, fmt.Sprintf(syntheticsConfig, service.URL))

	// The first run may fire before the OTLP receiver listens, so the service's export fails;
	// the check repeats every second and any run whose service span arrived proves the join.
	var root, request, served ptrace.Span
	require.Eventually(t, func() bool {
		batches, _ := harness.ReadTracesFile(c.Env.Path("traces.json"))
		synthetic, backend := splitSyntheticSpans(batches)
		for _, b := range backend {
			for _, sp := range synthetic {
				if sp.SpanID() == b.ParentSpanID() {
					request, served = sp, b
				}
			}
		}
		if served == (ptrace.Span{}) {
			return false
		}
		for _, sp := range synthetic {
			if sp.TraceID() == request.TraceID() && sp.ParentSpanID().IsEmpty() {
				root = sp
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "a run and the service's span reach the exporter")
	c.Stop(t)

	corrID := attrString(root.Attributes(), "correlation_id")
	require.True(t, strings.HasPrefix(corrID, "olly-"), "correlation id %q", corrID)
	assert.Equal(t, "synthetics.check checkout-health", root.Name())
	assert.Equal(t, "true", attrString(root.Attributes(), "synthetic"))
	assert.Equal(t, root.TraceID(), served.TraceID(), "one trace")
	assert.Equal(t, root.SpanID(), request.ParentSpanID())
	assert.Equal(t, corrID, attrString(request.Attributes(), "correlation_id"))
	assert.Equal(t, corrID, attrString(served.Attributes(), "correlation_id"), "one correlation id")
}

// tracePropagatingBackend continues the caller's trace from traceparent, records its server span with
// the captured X-Correlation-ID header (as OTel HTTP instrumentation does with captured headers)
// and exports it over OTLP/HTTP to the collector.
func tracePropagatingBackend(t *testing.T, otlpEndpoint string) *httptest.Server {
	t.Helper()
	// No keep-alives: an idle connection would outlive the test.
	exportClient := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(r.Header.Get("traceparent"), "-")
		var traceID pcommon.TraceID
		var parentID, spanID pcommon.SpanID
		if len(parts) != 4 || hexInto(traceID[:], parts[1]) != nil || hexInto(parentID[:], parts[2]) != nil {
			http.Error(w, "bad or missing traceparent", http.StatusBadRequest)
			return
		}
		_, _ = rand.Read(spanID[:])
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "checkout-api")
		span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		span.SetName("GET /health")
		span.SetKind(ptrace.SpanKindServer)
		span.SetTraceID(traceID)
		span.SetParentSpanID(parentID)
		span.SetSpanID(spanID)
		now := time.Now()
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
		span.Attributes().PutStr("http.request.header.x-correlation-id", r.Header.Get("X-Correlation-ID"))
		body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		resp, err := exportClient.Post(otlpEndpoint+"/v1/traces", "application/x-protobuf", bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
	}))
}

func hexInto(dst []byte, s string) error {
	if hex.DecodedLen(len(s)) != len(dst) {
		return fmt.Errorf("want %d hex digits, got %d", 2*len(dst), len(s))
	}
	_, err := hex.Decode(dst, []byte(s))
	return err
}

// splitSyntheticSpans separates the spans of the synthetics receiver from the backend's.
func splitSyntheticSpans(batches []ptrace.Traces) (synthetic, backend []ptrace.Span) {
	for _, td := range batches {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			rs := td.ResourceSpans().At(i)
			isSynthetic := attrString(rs.Resource().Attributes(), "service.name") == "ollystack-synthetics"
			for j := 0; j < rs.ScopeSpans().Len(); j++ {
				spans := rs.ScopeSpans().At(j).Spans()
				for k := 0; k < spans.Len(); k++ {
					if isSynthetic {
						synthetic = append(synthetic, spans.At(k))
					} else {
						backend = append(backend, spans.At(k))
					}
				}
			}
		}
	}
	return synthetic, backend
}
