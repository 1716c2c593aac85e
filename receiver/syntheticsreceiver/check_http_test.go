package syntheticsreceiver

import (
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
	"github.com/ollystack/ollystack/receiver/syntheticsreceiver/internal/metadata"
)

// recordingBackend is a target that remembers the request headers it saw.
type recordingBackend struct {
	mu      sync.Mutex
	headers []http.Header
	bodies  []string
}

func (b *recordingBackend) record(r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.headers = append(b.headers, r.Header.Clone())
	b.bodies = append(b.bodies, string(body))
}

func (b *recordingBackend) first() (http.Header, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.headers[0], b.bodies[0]
}

func TestHTTPCheckPropagatesContextToBackend(t *testing.T) {
	backend := &recordingBackend{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		backend.record(r)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"up","version":3}`)
	}))
	defer srv.Close()

	s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "api", Type: typeHTTP, HTTP: &HTTPCheckConfig{
		HTTPRequestConfig: HTTPRequestConfig{Method: "post", URL: srv.URL + "/health", Headers: map[string]string{"X-Canary": "1"}, Body: "ping"},
		Assertions: []AssertionConfig{
			{Status: "2xx"}, {Status: "200"}, {MaxLatency: 5 * time.Second},
			{Header: "content-type", Contains: "json"}, {BodyContains: `"up"`}, {BodyMatches: `"version":\s*\d`},
			{JSONPath: "$.status", Equals: ptr("up")}, {JSONPath: "$.version", Equals: ptr("3")},
		},
	}}))

	spans := s.firstRun(t)
	require.Len(t, spans, 2)
	root, child := spans[0], spans[1]
	assert.Equal(t, "synthetics.check api", root.Name())
	assert.Equal(t, ptrace.StatusCodeOk, root.Status().Code(), root.Status().Message())
	assert.True(t, root.ParentSpanID().IsEmpty())
	assert.Equal(t, root.SpanID(), child.ParentSpanID())
	assert.Equal(t, root.TraceID(), child.TraceID())
	assert.Equal(t, ptrace.SpanKindClient, child.Kind())
	assert.Equal(t, "POST", attrStr(child.Attributes(), "http.request.method"))
	assert.Equal(t, "200", attrStr(child.Attributes(), "http.response.status_code"))

	corrID := attrStr(root.Attributes(), attrCorrelationID)
	for _, span := range spans {
		attrs := span.Attributes()
		assert.Equal(t, "true", attrStr(attrs, attrSynthetic))
		assert.Equal(t, "api", attrStr(attrs, attrCheckName))
		assert.Equal(t, "http", attrStr(attrs, attrCheckType))
		assert.Equal(t, "test-lab", attrStr(attrs, attrLocation))
		assert.Equal(t, corrID, attrStr(attrs, attrCorrelationID))
	}
	assert.Regexp(t, `^olly-[0-9a-z]+-[0-9a-z]{10}$`, corrID)
	assert.True(t, correlationid.Valid(corrID), "the id satisfies the shared charset rules")

	headers, body := backend.first()
	assert.Equal(t, "ping", body)
	assert.Equal(t, "1", headers.Get("X-Canary"))
	assert.Equal(t, "00-"+child.TraceID().String()+"-"+child.SpanID().String()+"-01", headers.Get("traceparent"),
		"the backend's spans become children of the request span")
	assert.Equal(t, "correlation_id="+corrID+",synthetic=true", headers.Get("baggage"))
	assert.Equal(t, corrID, headers.Get("X-Correlation-ID"))

	ms := s.waitMetrics(t)
	assert.Equal(t, int64(1), successValue(t, ms))
	dur, ok := findMetric(ms, metricCheckDuration)
	require.True(t, ok)
	dp := dur.Histogram().DataPoints().At(0)
	assert.Equal(t, uint64(1), dp.Count())
	require.Equal(t, 1, dp.Exemplars().Len())
	assert.Equal(t, root.TraceID(), dp.Exemplars().At(0).TraceID())
	assert.Equal(t, corrID, attrStr(dp.Exemplars().At(0).FilteredAttributes(), attrCorrelationID))
	_, ok = findMetric(ms, metricStepDuration)
	assert.True(t, ok)
	assert.Empty(t, s.logs.AllLogs(), "a passing run logs nothing")
}

func TestHTTPCheckFailureIsLogged(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "down for maintenance")
	}))
	defer srv.Close()

	s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "api", Type: typeHTTP, HTTP: &HTTPCheckConfig{
		HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL},
		Assertions:        []AssertionConfig{{MaxLatency: time.Minute}, {Status: "2xx"}, {BodyContains: "never reached"}},
	}}))

	spans := s.firstRun(t)
	assert.Equal(t, ptrace.StatusCodeError, spans[0].Status().Code())
	assert.Equal(t, ptrace.StatusCodeError, spans[1].Status().Code())

	rec := s.waitFailureLog(t)
	assert.Equal(t, plog.SeverityNumberError, rec.SeverityNumber())
	assert.Equal(t, "status", attrStr(rec.Attributes(), "assertion"))
	assert.Equal(t, "2xx", attrStr(rec.Attributes(), "expected"))
	assert.Equal(t, "503", attrStr(rec.Attributes(), "actual"))
	assert.Equal(t, "GET", attrStr(rec.Attributes(), attrStepName))
	assert.Equal(t, attrStr(spans[0].Attributes(), attrCorrelationID), attrStr(rec.Attributes(), attrCorrelationID))
	assert.Equal(t, spans[1].SpanID(), rec.SpanID(), "the log points at the failed request's span")
	assert.Contains(t, rec.Body().Str(), "expected 2xx, actual 503")
	assert.Equal(t, int64(0), successValue(t, s.waitMetrics(t)))
}

func TestHTTPCheckConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()

	s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "gone", Type: typeHTTP, HTTP: &HTTPCheckConfig{
		HTTPRequestConfig: HTTPRequestConfig{URL: url},
	}}))
	rec := s.waitFailureLog(t)
	assert.Equal(t, "request", attrStr(rec.Attributes(), "assertion"))
	assert.Contains(t, attrStr(rec.Attributes(), "actual"), "refused")
}

func TestHTTPCheckTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "slow", Type: typeHTTP, Timeout: 100 * time.Millisecond,
		HTTP: &HTTPCheckConfig{HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL}}}))
	rec := s.waitFailureLog(t)
	assert.Contains(t, attrStr(rec.Attributes(), "actual"), "timed out")
}

func TestHTTPCheckRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/old", http.RedirectHandler("/new", http.StatusFound))
	mux.HandleFunc("/new", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "moved here") })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	follow, _ := startReceiver(t, oneCheck(CheckConfig{Name: "follow", Type: typeHTTP, HTTP: &HTTPCheckConfig{
		HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL + "/old"},
		Assertions:        []AssertionConfig{{Status: "200"}, {BodyContains: "moved here"}},
	}}))
	noFollow, _ := startReceiver(t, oneCheck(CheckConfig{Name: "stay", Type: typeHTTP, HTTP: &HTTPCheckConfig{
		HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL + "/old"},
		MaxRedirects:      ptr(0),
		Assertions:        []AssertionConfig{{Status: "3xx"}, {Header: "Location", Equals: ptr("/new")}},
	}}))
	assert.Equal(t, int64(1), successValue(t, follow.waitMetrics(t)))
	assert.Equal(t, int64(1), successValue(t, noFollow.waitMetrics(t)))
}

func TestHTTPCheckTLS(t *testing.T) {
	shortLived := newTestCert(t, 3*24*time.Hour)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{shortLived.tls}, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted-CA case makes handshakes fail on purpose
	srv.StartTLS()
	defer srv.Close()

	t.Run("trusted CA, certificate about to expire", func(t *testing.T) {
		s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "tls-expiring", Type: typeHTTP, HTTP: &HTTPCheckConfig{
			HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL},
			TLS:               ClientTLSConfig{CAFile: shortLived.caFile},
			Assertions:        []AssertionConfig{{Status: "200"}, {MinTLSDaysLeft: 14}},
		}}))
		rec := s.waitFailureLog(t)
		assert.Equal(t, "min_tls_days_left", attrStr(rec.Attributes(), "assertion"))
		assert.Contains(t, attrStr(rec.Attributes(), "actual"), "days")
		days, ok := findMetric(s.waitMetrics(t), metricTLSDaysLeft)
		require.True(t, ok)
		assert.InDelta(t, 3.0, days.Gauge().DataPoints().At(0).DoubleValue(), 0.1)
	})

	t.Run("unknown CA fails verification", func(t *testing.T) {
		s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "tls-untrusted", Type: typeHTTP, HTTP: &HTTPCheckConfig{
			HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL},
		}}))
		rec := s.waitFailureLog(t)
		assert.Contains(t, attrStr(rec.Attributes(), "actual"), "certificate")
	})

	t.Run("insecure_skip_verify passes with a warning", func(t *testing.T) {
		core, logs := observer.New(zap.WarnLevel)
		set := receivertest.NewNopSettings(metadata.Type)
		set.Logger = zap.New(core)
		s, _ := startReceiverWith(t, oneCheck(CheckConfig{Name: "tls-insecure", Type: typeHTTP, HTTP: &HTTPCheckConfig{
			HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL},
			TLS:               ClientTLSConfig{InsecureSkipVerify: true},
			Assertions:        []AssertionConfig{{Status: "200"}},
		}}), set)
		assert.Equal(t, int64(1), successValue(t, s.waitMetrics(t)))
		warnings := logs.FilterMessageSnippet("skips TLS certificate verification").All()
		require.Len(t, warnings, 1)
		assert.Equal(t, "tls-insecure", warnings[0].ContextMap()["check"])
	})
}

// TestHTTPCheckTLSAfterRedirect: the certificate of the server a check
// names counts even when it redirects to a server whose certificate is good.
func TestHTTPCheckTLSAfterRedirect(t *testing.T) {
	expiring, fresh := newTestCert(t, 3*24*time.Hour), newTestCert(t, 100*24*time.Hour)
	target := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	target.TLS = &tls.Config{Certificates: []tls.Certificate{fresh.tls}, MinVersion: tls.VersionTLS12}
	target.StartTLS()
	defer target.Close()
	apex := httptest.NewUnstartedServer(http.RedirectHandler(target.URL+"/", http.StatusMovedPermanently))
	apex.TLS = &tls.Config{Certificates: []tls.Certificate{expiring.tls}, MinVersion: tls.VersionTLS12}
	apex.StartTLS()
	defer apex.Close()
	// Both CAs in one file; the apex is reached by name, the target by address.
	caFile := filepath.Join(t.TempDir(), "cas.pem")
	var cas []byte
	for _, c := range []testCert{expiring, fresh} {
		pem, err := os.ReadFile(c.caFile)
		require.NoError(t, err)
		cas = append(cas, pem...)
	}
	require.NoError(t, os.WriteFile(caFile, cas, 0o600))
	apexURL := strings.Replace(apex.URL, "127.0.0.1", "localhost", 1)

	s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "tls-redirected", Type: typeHTTP, HTTP: &HTTPCheckConfig{
		HTTPRequestConfig: HTTPRequestConfig{URL: apexURL},
		TLS:               ClientTLSConfig{CAFile: caFile},
		Assertions:        []AssertionConfig{{Status: "200"}, {BodyContains: "ok"}, {MinTLSDaysLeft: 14}},
	}}))
	rec := s.waitFailureLog(t)
	assert.Equal(t, "min_tls_days_left", attrStr(rec.Attributes(), "assertion"))
	days, ok := findMetric(s.waitMetrics(t), metricTLSDaysLeft)
	require.True(t, ok)
	byServer := map[string]float64{}
	for i := range days.Gauge().DataPoints().Len() {
		dp := days.Gauge().DataPoints().At(i)
		byServer[attrStr(dp.Attributes(), "server.address")] = dp.DoubleValue()
	}
	require.Len(t, byServer, 2, "%v", byServer)
	assert.InDelta(t, 3.0, byServer["localhost"], 0.1)
	assert.InDelta(t, 100.0, byServer["127.0.0.1"], 0.1)
}

// TestHTTPCheckFailureHidesURLUser: a token written as the URL's user name
// is no more in the failure's text than in url.full.
func TestHTTPCheckFailureHidesURLUser(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	gone := strings.Replace(srv.URL, "http://", "http://ghp_SECRETTOKEN@", 1)
	srv.Close()

	s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "token", Type: typeHTTP, HTTP: &HTTPCheckConfig{
		HTTPRequestConfig: HTTPRequestConfig{URL: gone},
	}}))
	rec := s.waitFailureLog(t)
	assert.Contains(t, attrStr(rec.Attributes(), "actual"), "refused")
	spans := s.firstRun(t)
	for _, text := range []string{attrStr(rec.Attributes(), "actual"), rec.Body().AsString(), spans[0].Status().Message(), spans[1].Status().Message()} {
		assert.NotContains(t, text, "SECRETTOKEN")
	}
	assert.Contains(t, attrStr(rec.Attributes(), "actual"), "REDACTED@")
}

func TestHTTPCheckHostileResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		// Larger than the read limit and not valid JSON.
		_, _ = io.WriteString(w, "{"+strings.Repeat(`"a":[`, maxBodyBytes/5))
	}))
	defer srv.Close()

	s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "hostile", Type: typeHTTP, HTTP: &HTTPCheckConfig{
		HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL},
		Assertions:        []AssertionConfig{{JSONPath: "$.a[0]"}},
	}}))
	rec := s.waitFailureLog(t)
	assert.Contains(t, attrStr(rec.Attributes(), "actual"), "not JSON")
	assert.LessOrEqual(t, len(attrStr(rec.Attributes(), "actual")), maxActualLen+len("…"))
}

func TestStartFailsOnMissingCAFile(t *testing.T) {
	cfg := oneCheck(CheckConfig{Name: "api", Type: typeHTTP, HTTP: &HTTPCheckConfig{
		HTTPRequestConfig: HTTPRequestConfig{URL: "https://localhost"},
		TLS:               ClientTLSConfig{CAFile: "/nonexistent/ca.pem"},
	}})
	r, err := newReceiver(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	err = r.Start(t.Context(), nil)
	require.ErrorContains(t, err, `synthetics check "api": read ca_file`)
	require.NoError(t, r.Shutdown(t.Context()))
}

// TestCredentialsInURLDoNotReachTelemetry: basic-auth credentials written in
// a check's URL (https://user:password@host/) are sent to the target, but
// url.full on the span carries them redacted, as the semantic conventions
// require: spans go to every trace backend and to whoever can read them.
func TestCredentialsInURLDoNotReachTelemetry(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, password, ok := r.BasicAuth()
		if !ok || user != "canary" || password != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	withCreds := strings.Replace(srv.URL, "http://", "http://canary:s3cret@", 1) + "/health?x=1"

	t.Run("http", func(t *testing.T) {
		s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "auth", Type: typeHTTP, HTTP: &HTTPCheckConfig{
			HTTPRequestConfig: HTTPRequestConfig{URL: withCreds},
			Assertions:        []AssertionConfig{{Status: "200"}},
		}}))
		spans := s.firstRun(t)
		assert.Equal(t, ptrace.StatusCodeOk, spans[1].Status().Code(), "the credentials still reach the target")
		url := attrStr(spans[1].Attributes(), "url.full")
		assert.NotContains(t, url, "s3cret")
		assert.Equal(t, strings.Replace(withCreds, "canary:s3cret", "REDACTED:REDACTED", 1), url)
	})

	t.Run("multistep", func(t *testing.T) {
		s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "auth-journey", Type: typeMultistep, Multistep: &MultistepCheckConfig{
			Variables: map[string]string{"password": "s3cret"},
			Steps: []StepConfig{{Name: "health",
				HTTPRequestConfig: HTTPRequestConfig{URL: strings.Replace(withCreds, "s3cret", "${password}", 1)},
				Assertions:        []AssertionConfig{{Status: "200"}},
			}},
		}}))
		spans := s.firstRun(t)
		assert.Equal(t, ptrace.StatusCodeOk, spans[1].Status().Code())
		assert.NotContains(t, attrStr(spans[1].Attributes(), "url.full"), "s3cret")
	})

	t.Run("browser step name", func(t *testing.T) {
		step := BrowserStepConfig{Action: actionNavigate, URL: withCreds}
		assert.NotContains(t, step.stepName(), "s3cret")
		assert.Equal(t, "navigate "+srv.URL+"/health?x=1", strings.Replace(step.stepName(), "REDACTED:REDACTED@", "", 1))
	})
}

// TestFailureTextIsValidUTF8: the actual value quoted in a failure is cut to
// maxActualLen bytes; the cut must not split a character, and a body that is
// not UTF-8 (Latin-1, binary) must not put invalid UTF-8 into string
// attributes, which protobuf decoders of OTLP reject.
func TestFailureTextIsValidUTF8(t *testing.T) {
	for name, body := range map[string]string{
		"multi-byte characters": strings.Repeat("€", 200),
		"latin-1 body":          "caf\xe9 ferm\xe9",
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, body)
			}))
			defer srv.Close()
			s, _ := startReceiver(t, oneCheck(CheckConfig{Name: "text", Type: typeHTTP, HTTP: &HTTPCheckConfig{
				HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL},
				Assertions:        []AssertionConfig{{BodyContains: "open"}},
			}}))
			actual := attrStr(s.waitFailureLog(t).Attributes(), "actual")
			assert.True(t, utf8.ValidString(actual), "%q", actual)
			assert.LessOrEqual(t, len(actual), maxActualLen+len("…"))
			assert.True(t, utf8.ValidString(s.firstRun(t)[1].Status().Message()))
		})
	}
}
