package aiextension

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ollystack/ollystack/extension/aiextension/internal/metadata"
	"github.com/ollystack/ollystack/internal/httpapi"
	"github.com/ollystack/ollystack/pkg/analysis/rca"
)

// fixture is a store with the shop scenario and a running extension.
func fixture(t *testing.T, configure func(*Config)) (*server, *shop) {
	t.Helper()
	store := openStore(t)
	s := newShop(time.Now())
	s.write(t, store)
	return startServer(t, hostWith(store), configure), s
}

func TestAnalyzeRCA(t *testing.T) {
	srv, s := fixture(t, nil)
	got := srv.analyze(t, s.failID, "rca")

	assert.Equal(t, s.failID, got.CorrelationID)
	assert.Equal(t, "rca", got.AnalysisType)
	require.NotEmpty(t, got.Hypotheses)
	top := got.Hypotheses[0]
	assert.Equal(t, "h1", top.ID)
	assert.Equal(t, "payments", top.Service, "the failing service is the root cause: %+v", got.Hypotheses)
	assert.Equal(t, s.failSpan, top.SpanID)
	assert.Contains(t, got.RootCause, `"payments"`)
	assert.Contains(t, got.RootCause, `"charge card"`)
	assert.Equal(t, top.Confidence, got.Confidence)
	assert.Greater(t, got.Confidence, 0.5)
	assert.NotEmpty(t, got.Evidence)
	assert.Equal(t, []string{"gateway", "orders", "payments"}, got.AffectedServices)
	assert.NotEmpty(t, got.Recommendations)
	assert.Contains(t, got.TimelineSummary, "3 spans in 1 traces across 3 services")
	assert.Contains(t, got.TimelineSummary, `first error at +910ms in payments "charge card"`)
	assert.Equal(t, healthyRequests, got.Baseline.Requests)
	assert.Equal(t, healthyRequests, got.Baseline.SameEntryRequests)
	assert.Equal(t, sourceTemplate, got.Narrative.Source)
	assert.Contains(t, got.Narrative.Summary, "Most likely cause")
	assert.Empty(t, got.LLMError)
	assert.Equal(t, (960 * time.Millisecond).Nanoseconds(), got.DurationNs)
	// Gateway and orders only pass the error on: not an error origin.
	for _, h := range got.Hypotheses {
		if h.Kind == rca.KindErrorOrigin {
			assert.Equal(t, "payments", h.Service)
		}
	}
}

func TestAnalyzeIsDeterministic(t *testing.T) {
	srv, s := fixture(t, nil)
	first := srv.post(t, `{"correlation_id":"`+s.failID+`","analysis_type":"rca"}`)
	second := srv.post(t, `{"correlation_id":"`+s.failID+`","analysis_type":"rca"}`)
	require.Equal(t, http.StatusOK, first.status)
	assert.JSONEq(t, string(first.body), string(second.body))
}

func TestAnalyzeComparison(t *testing.T) {
	srv, s := fixture(t, nil)
	got := srv.analyze(t, s.failID, "comparison")
	require.NotNil(t, got.Comparison)
	c := got.Comparison
	assert.Equal(t, "gateway", c.EntryService)
	assert.Equal(t, "POST /checkout", c.EntryOperation)
	assert.Equal(t, healthyRequests, c.HealthyRequests)
	assert.Equal(t, []string{"gateway", "orders", "payments"}, c.SlowerServices)
	require.Len(t, c.SlowerSpans, 3)
	assert.Equal(t, "payments", c.SlowerSpans[0].Service, "the largest slowdown relative to p99 first")
	require.Len(t, c.ExtraErrors, 3)
	assert.Equal(t, "payments", c.ExtraErrors[2].Service)
	assert.Equal(t, "connection pool exhausted after 900 ms", c.ExtraErrors[2].StatusMessage)
	assert.Empty(t, c.NewOperations)
	assert.Empty(t, c.MissingOps)
	assert.Contains(t, got.Narrative.Summary, "Against 30 healthy requests")
}

func TestAnalyzeComparisonHealthyRequest(t *testing.T) {
	srv, _ := fixture(t, nil)
	got := srv.analyze(t, "olly-ok-0005", "comparison")
	assert.Empty(t, got.Comparison.SlowerSpans)
	assert.Empty(t, got.Comparison.ExtraErrors)
	assert.Equal(t, healthyRequests-1, got.Comparison.HealthyRequests, "the request itself is excluded")
}

func TestAnalyzeAnomaly(t *testing.T) {
	srv, s := fixture(t, nil)
	got := srv.analyze(t, s.failID, "anomaly")
	require.NotNil(t, got.Anomalies)
	require.Len(t, got.Anomalies.Services, 3)
	for _, svc := range got.Anomalies.Services {
		assert.True(t, svc.HasBaseline, svc.Service)
		assert.True(t, svc.Anomalous, svc.Service)
		assert.Equal(t, 1, svc.Errors)
		assert.Greater(t, svc.LatencyRatio, 5.0)
	}
	kinds := map[string]int{}
	for _, a := range got.Anomalies.Anomalies {
		kinds[a.Kind]++
	}
	assert.Equal(t, map[string]int{"latency": 3, "errors": 3}, kinds)
	assert.Contains(t, got.Narrative.Summary, "services deviating from their baseline")
}

func TestAnalyzeHealthyRequestHasNoRootCause(t *testing.T) {
	srv, _ := fixture(t, nil)
	got := srv.analyze(t, "olly-ok-0003", "rca")
	for _, h := range got.Hypotheses {
		assert.Less(t, h.Confidence, 0.3, "%+v", h)
	}
	got = srv.analyze(t, "olly-ok-0003", "anomaly")
	assert.Empty(t, got.Anomalies.Anomalies)
}

func TestAnalyzeBadInput(t *testing.T) {
	srv, _ := fixture(t, nil)
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"unknown id", `{"correlation_id":"olly-nope","analysis_type":"rca"}`, http.StatusNotFound, "not_found"},
		{"bad type", `{"correlation_id":"olly-fail-0001","analysis_type":"guess"}`, http.StatusBadRequest, "analysis_type: must be"},
		{"unknown field", `{"correlation_id":"olly-fail-0001","analysis_type":"rca","prompt":"x"}`, http.StatusBadRequest, `unknown field \"prompt\"`},
		{"missing id", `{"analysis_type":"rca"}`, http.StatusBadRequest, "correlation_id: must be set"},
		{"invalid id", `{"correlation_id":"a b/..","analysis_type":"rca"}`, http.StatusBadRequest, "correlation_id: must be"},
		{"not json", `correlation_id=x`, http.StatusBadRequest, "malformed JSON"},
		{"empty", ``, http.StatusBadRequest, "empty or truncated"},
		{"wrong type", `{"correlation_id":42}`, http.StatusBadRequest, `field \"correlation_id\" must be a string`},
		{"two objects", `{"correlation_id":"x"} {}`, http.StatusBadRequest, "exactly one JSON object"},
		{"array", `[]`, http.StatusBadRequest, "must be a JSON object"},
		{"string", `"olly-fail-0001"`, http.StatusBadRequest, "the body must be a JSON object {correlation_id, analysis_type}"},
		{"too large", `{"correlation_id":"` + strings.Repeat("a", 5000) + `"}`, http.StatusRequestEntityTooLarge, "request_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := srv.post(t, tt.body)
			assert.Equal(t, tt.status, r.status, string(r.body))
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Contains(t, string(r.body), tt.want)
			assert.NotContains(t, string(r.body), "aiextension.", "no Go type names")
			e := decode[errorBody](t, r)
			require.NotNil(t, e.Error)
			assert.Equal(t, tt.status, e.Error.Status)
		})
	}
}

func TestRouting(t *testing.T) {
	srv, _ := fixture(t, nil)
	r := srv.do(t, mustRequest(t, http.MethodGet, srv.baseURL+routeAnalyze, ""))
	assert.Equal(t, http.StatusMethodNotAllowed, r.status)
	assert.Equal(t, http.MethodPost, r.header.Get("Allow"))
	assert.Contains(t, string(r.body), httpapi.CodeMethodNotAllowed)

	for _, path := range []string{"/api/v1/ai/nope", "/api/v1/ai/analyze/", "/api/v1/ai/../ai/analyze", "/api/v1/ai"} {
		r = srv.do(t, mustRequest(t, http.MethodPost, srv.baseURL+path, "{}"))
		assert.Equal(t, http.StatusNotFound, r.status, path)
		assert.Contains(t, string(r.body), httpapi.CodeNotFound, path)
	}
	r = srv.do(t, mustRequest(t, http.MethodDelete, srv.baseURL+routeInvestigations, ""))
	assert.Equal(t, http.StatusMethodNotAllowed, r.status)
	assert.Equal(t, "GET, POST", r.header.Get("Allow"))
	r = srv.do(t, mustRequest(t, http.MethodPost, srv.baseURL+routeInvestigations+"/inv-0123456789abcdef01234567", ""))
	assert.Equal(t, http.StatusMethodNotAllowed, r.status)

	req := mustRequest(t, http.MethodPost, srv.baseURL+routeAnalyze, `{"correlation_id":"x"}`)
	req.Header.Set("Content-Type", "text/plain")
	r = srv.do(t, req)
	assert.Equal(t, http.StatusUnsupportedMediaType, r.status)
}

func mustRequest(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	return req
}

// TestInjectedLogIsOnlyData: with no model, a log body that pretends to be
// instructions (it names gateway and an id h99) is only data: the analyzers
// still blame payments, and no hypothesis follows the text.
func TestInjectedLogIsOnlyData(t *testing.T) {
	srv, s := fixture(t, nil)
	got := srv.analyze(t, s.failID, "rca")
	assert.Equal(t, "payments", got.Hypotheses[0].Service)
	for _, h := range got.Hypotheses {
		assert.NotEqual(t, "h99", h.ID)
		assert.NotEqual(t, "gateway", h.Service, "the injected text names gateway; nothing may follow it")
	}
}

func TestSelfTelemetry(t *testing.T) {
	srv, s := fixture(t, nil)
	srv.analyze(t, s.failID, "rca")
	srv.post(t, `{"correlation_id":"olly-nope"}`)
	waitFor(t, func() bool {
		m, err := srv.telemetry.GetMetric(metadata.MetricRequests)
		if err != nil {
			return false
		}
		got := map[int64]int64{}
		for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
			code, _ := dp.Attributes.Value("http.response.status_code")
			route, _ := dp.Attributes.Value("route")
			if route.AsString() == routeAnalyze {
				got[code.AsInt64()] = dp.Value
			}
		}
		return got[200] == 1 && got[404] == 1
	})
	m, err := srv.telemetry.GetMetric(metadata.MetricAnalysisDuration)
	require.NoError(t, err)
	dps := m.Data.(metricdata.Histogram[float64]).DataPoints
	require.Len(t, dps, 1)
	typ, _ := dps[0].Attributes.Value("analysis_type")
	assert.Equal(t, "rca", typ.AsString())
	assert.Equal(t, uint64(1), dps[0].Count)
}
