package syntheticsreceiver

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func journeyServer(t *testing.T, backend *recordingBackend) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		backend.record(r)
		w.Header().Set("X-Session", "s-42")
		_, _ = io.WriteString(w, `{"token":"t&k=1","user":{"id":7}}`)
	})
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		backend.record(r)
		if r.Header.Get("Authorization") != "Bearer t&k=1" || r.Header.Get("X-Session") != "s-42" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, `order=ord-9 for user `+r.PathValue("id")+` q=`+r.URL.Query().Get("q"))
	})
	mux.HandleFunc("POST /orders/{order}/pay", func(w http.ResponseWriter, r *http.Request) {
		backend.record(r)
		w.WriteHeader(http.StatusPaymentRequired)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func journey(base string) *MultistepCheckConfig {
	return &MultistepCheckConfig{
		Variables: map[string]string{"base": base},
		Steps: []StepConfig{
			{
				Name:              "login",
				HTTPRequestConfig: HTTPRequestConfig{Method: "POST", URL: "${base}/login", Body: `{"user":"canary"}`},
				Assertions:        []AssertionConfig{{Status: "200"}},
				Extract: []ExtractConfig{
					{Var: "token", JSONPath: "$.token"},
					{Var: "user_id", JSONPath: "$.user.id"},
					{Var: "session", Header: "X-Session"},
				},
			},
			{
				Name: "profile",
				HTTPRequestConfig: HTTPRequestConfig{
					URL:     "${base}/users/${user_id}?q=${token}",
					Headers: map[string]string{"Authorization": "Bearer ${token}", "X-Session": "${session}"},
				},
				Assertions: []AssertionConfig{{Status: "2xx"}},
				Extract:    []ExtractConfig{{Var: "order", Regex: `order=([a-z0-9-]+)`}},
			},
			{
				Name:              "pay",
				HTTPRequestConfig: HTTPRequestConfig{Method: "POST", URL: "${base}/orders/${order}/pay", Body: `{"order":"${order}"}`},
				Assertions:        []AssertionConfig{{Status: "200"}},
			},
		},
	}
}

func TestMultistepJourney(t *testing.T) {
	backend := &recordingBackend{}
	srv := journeyServer(t, backend)
	s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "checkout", Type: typeMultistep, Multistep: journey(srv.URL)}))

	spans := s.firstRun(t)
	require.Len(t, spans, 4, "root and one span per step")
	assert.Equal(t, []string{"login", "profile", "pay"}, []string{spans[1].Name(), spans[2].Name(), spans[3].Name()})
	assert.Equal(t, ptrace.StatusCodeOk, spans[1].Status().Code())
	assert.Equal(t, ptrace.StatusCodeOk, spans[2].Status().Code(), spans[2].Status().Message())
	assert.Equal(t, ptrace.StatusCodeError, spans[3].Status().Code())

	rec := s.waitFailureLog(t)
	assert.Equal(t, "pay", attrStr(rec.Attributes(), attrStepName), "the failure names the step")
	assert.Equal(t, "402", attrStr(rec.Attributes(), "actual"))
	assert.Contains(t, rec.Body().Str(), "step pay:")

	backend.mu.Lock()
	defer backend.mu.Unlock()
	require.Len(t, backend.headers, 3)
	corrID := attrStr(spans[0].Attributes(), attrCorrelationID)
	for i, h := range backend.headers {
		assert.Equal(t, "00-"+spans[i+1].TraceID().String()+"-"+spans[i+1].SpanID().String()+"-01", h.Get("traceparent"))
		assert.Equal(t, corrID, h.Get("X-Correlation-ID"))
	}
	assert.Equal(t, `{"order":"ord-9"}`, backend.bodies[2])
	assert.Contains(t, attrStr(spans[2].Attributes(), "url.full"), "/users/7?q=t%26k%3D1",
		"extracted values are escaped in URLs, so they cannot add query parameters")
}

func TestMultistepMissingExtractionStopsJourney(t *testing.T) {
	backend := &recordingBackend{}
	srv := journeyServer(t, backend)
	cfg := journey(srv.URL)
	cfg.Steps[0].Extract[0].JSONPath = "$.missing"
	s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "checkout", Type: typeMultistep, Multistep: cfg}))

	rec := s.waitFailureLog(t)
	assert.Equal(t, "login", attrStr(rec.Attributes(), attrStepName))
	assert.Equal(t, "extract token", attrStr(rec.Attributes(), "assertion"))
	assert.Len(t, s.firstRun(t), 2, "later steps do not run")
}

// TestMultistepExtractedURLMustBeValid: a URL that an extracted value makes
// invalid fails its step with an assertion that says so.
func TestMultistepExtractedURLMustBeValid(t *testing.T) {
	backend := &recordingBackend{}
	srv := journeyServer(t, backend)
	cfg := journey(srv.URL)
	// X-Session holds "s-42": no scheme, no host.
	cfg.Steps[1].URL = "${session}/users/${user_id}"
	s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "checkout", Type: typeMultistep, Multistep: cfg}))

	rec := s.waitFailureLog(t)
	assert.Equal(t, "profile", attrStr(rec.Attributes(), attrStepName))
	assert.Equal(t, "url", attrStr(rec.Attributes(), "assertion"))
	assert.Contains(t, attrStr(rec.Attributes(), "actual"), "scheme must be http or https")
}

// TestMultistepOverTLSReportsOnePointPerSeries: every step of a journey to
// one HTTPS host observes the same certificate. The run's batch must hold one
// synthetics.tls.days_left point per server, not one per step: points with
// the same attributes and timestamp (and values a few microseconds apart)
// are duplicate samples, which Prometheus rejects.
func TestMultistepOverTLSReportsOnePointPerSeries(t *testing.T) {
	cert := newTestCert(t, 10*24*time.Hour)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert.tls}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()

	steps := []StepConfig{
		{Name: "home", HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL + "/"}},
		{Name: "cart", HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL + "/cart"}},
		{Name: "pay", HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL + "/pay"}},
	}
	s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "shop", Type: typeMultistep, Multistep: &MultistepCheckConfig{
		TLS: ClientTLSConfig{CAFile: cert.caFile}, Steps: steps,
	}}))
	ms := s.waitMetrics(t)
	assert.Equal(t, int64(1), successValue(t, ms), s.logs.AllLogs())
	days, ok := findMetric(ms, metricTLSDaysLeft)
	require.True(t, ok)
	require.Equal(t, 1, days.Gauge().DataPoints().Len(), "one point per server")
	assert.Equal(t, "127.0.0.1", attrStr(days.Gauge().DataPoints().At(0).Attributes(), "server.address"))
	assert.InDelta(t, 10.0, days.Gauge().DataPoints().At(0).DoubleValue(), 0.1)
}

// TestRepeatedStepNamesShareOneHistogramPoint: steps of one run with the same
// name (a browser journey clicking "#next" twice) are one series of
// synthetics.step.duration; the run reports one point with a count per name,
// not several points with the same attributes and timestamp.
func TestRepeatedStepNamesShareOneHistogramPoint(t *testing.T) {
	rn := newRun(&compiledCheck{name: "wizard", typ: typeBrowser}, "lab", time.Now())
	for _, name := range []string{"navigate", "click #next", "click #next", "click #next"} {
		rn.startStep(name, ptrace.SpanKindInternal).finish(nil)
	}
	rn.end = time.Now()
	ms := rn.metrics().ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	steps, ok := findMetric(ms, metricStepDuration)
	require.True(t, ok)
	points := steps.Histogram().DataPoints()
	require.Equal(t, 2, points.Len())
	counts := map[string]uint64{}
	for i := 0; i < points.Len(); i++ {
		dp := points.At(i)
		counts[attrStr(dp.Attributes(), attrStepName)] = dp.Count()
		var inBuckets uint64
		for _, c := range dp.BucketCounts().AsRaw() {
			inBuckets += c
		}
		assert.Equal(t, dp.Count(), inBuckets)
		assert.LessOrEqual(t, dp.Min(), dp.Max())
	}
	assert.Equal(t, map[string]uint64{"navigate": 1, "click #next": 3}, counts)
	spans := rn.traces().ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	assert.Equal(t, 5, spans.Len(), "every step keeps its own span")
}
