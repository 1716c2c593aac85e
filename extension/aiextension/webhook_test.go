package aiextension

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ollystack/ollystack/extension/aiextension/internal/metadata"
)

// answer is one scripted webhook response.
type answer struct {
	status     int
	retryAfter string // Retry-After header; empty: none
	body       string
}

// scriptedWebhook answers the i-th request with script[i], and every
// request past the script with its last answer.
type scriptedWebhook struct {
	script []answer

	mu       sync.Mutex
	requests [][]byte // every request's body
	accepted [][]byte // the bodies answered 2xx
}

func (w *scriptedWebhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	a := w.script[min(len(w.requests), len(w.script)-1)]
	w.requests = append(w.requests, body)
	if a.status/100 == 2 && r.Header.Get("Content-Type") == "application/json" {
		w.accepted = append(w.accepted, body)
	}
	w.mu.Unlock()
	if a.retryAfter != "" {
		rw.Header().Set("Retry-After", a.retryAfter)
	}
	rw.WriteHeader(a.status)
	_, _ = io.WriteString(rw, a.body)
}

func (w *scriptedWebhook) counts() (requests, accepted int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.requests), len(w.accepted)
}

// fastRetry retries quickly, for a bounded time.
func fastRetry() configretry.BackOffConfig {
	cfg := configretry.NewDefaultBackOffConfig()
	cfg.InitialInterval = 10 * time.Millisecond
	cfg.MaxInterval = 50 * time.Millisecond
	cfg.MaxElapsedTime = 5 * time.Second
	return cfg
}

// testNotifier is a notifier with readable telemetry and logs.
type testNotifier struct {
	*notifier
	tel  *componenttest.Telemetry
	logs *observer.ObservedLogs
}

func newTestNotifier(t *testing.T, endpoint string, retry configretry.BackOffConfig) *testNotifier {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	tb, err := metadata.NewTelemetryBuilder(tel.NewTelemetrySettings())
	require.NoError(t, err)
	core, logs := observer.New(zapcore.InfoLevel)
	client := &http.Client{Timeout: 5 * time.Second}
	return &testNotifier{notifier: newNotifier(endpoint, client, retry, "", zap.New(core), tb), tel: tel, logs: logs}
}

// start runs the delivery loop until the returned cancel; done is closed
// when it has returned.
func (n *testNotifier) start(t *testing.T) (cancel context.CancelFunc, done <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		n.run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Error("the notifier did not stop")
		}
	})
	return cancel, stopped
}

func (n *testNotifier) calls(t *testing.T, outcome string) int64 {
	t.Helper()
	return counterValue(t, n.tel, metadata.MetricWebhookCalls, attribute.NewSet(attribute.String("outcome", outcome)))
}

func (n *testNotifier) retries(t *testing.T) int64 {
	t.Helper()
	return counterValue(t, n.tel, metadata.MetricWebhookRetries, *attribute.EmptySet())
}

// counterValue is the value of an int64 counter's data point with the
// given attributes; zero when there is none.
func counterValue(t *testing.T, tel *componenttest.Telemetry, name string, attrs attribute.Set) int64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	if err != nil {
		return 0
	}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if dp.Attributes.Equals(&attrs) {
			return dp.Value
		}
	}
	return 0
}

func endedInvestigation(id string) *investigation {
	return &investigation{ID: id, Status: statusFinished, Summary: "Examined 1 failing request of service checkout."}
}

func TestWebhookRetriesUntilDelivered(t *testing.T) {
	hook := &scriptedWebhook{script: []answer{
		{status: http.StatusInternalServerError},
		// Asks for 1s; max_interval (50ms) caps the wait.
		{status: http.StatusTooManyRequests, retryAfter: "1", body: "rate_limited"},
		{status: http.StatusOK, body: "ok"},
	}}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	n := newTestNotifier(t, srv.URL, fastRetry())
	n.start(t)

	n.notify(endedInvestigation("inv-1"))
	require.Eventually(t, func() bool { return n.calls(t, webhookOK) == 1 }, 5*time.Second, 5*time.Millisecond)

	requests, accepted := hook.counts()
	assert.Equal(t, 3, requests, "two failures, then the delivery")
	assert.Equal(t, 1, accepted, "the message arrives exactly once")
	var msg webhookMessage
	require.NoError(t, json.Unmarshal(hook.accepted[0], &msg))
	assert.Contains(t, msg.Text, "OllyStack investigation inv-1 finished")
	for _, body := range hook.requests {
		assert.JSONEq(t, string(hook.accepted[0]), string(body), "every attempt sends the same message")
	}
	assert.Equal(t, int64(2), n.retries(t))
	assert.Zero(t, n.calls(t, webhookError))
	assert.Zero(t, n.calls(t, webhookDropped))
	assert.Equal(t, 2, n.logs.FilterMessage("Investigation webhook failed; retrying").Len())
}

func TestWebhookRetriesOnlyWhatMaySucceed(t *testing.T) {
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	for _, tt := range []struct {
		first answer
		retry bool
	}{
		{first: answer{status: http.StatusRequestTimeout}, retry: true},
		{first: answer{status: http.StatusTooManyRequests}, retry: true},
		{first: answer{status: http.StatusTooManyRequests, retryAfter: "0"}, retry: true},
		{first: answer{status: http.StatusInternalServerError}, retry: true},
		{first: answer{status: http.StatusBadGateway}, retry: true},
		{first: answer{status: http.StatusServiceUnavailable, retryAfter: past}, retry: true},
		{first: answer{status: http.StatusServiceUnavailable, retryAfter: "soon"}, retry: true},
		{first: answer{status: http.StatusGatewayTimeout}, retry: true},
		{first: answer{status: http.StatusBadRequest, body: "invalid_payload"}},
		{first: answer{status: http.StatusUnauthorized}},
		{first: answer{status: http.StatusForbidden, body: "action_prohibited"}},
		{first: answer{status: http.StatusNotFound, body: "no_service"}},
		{first: answer{status: http.StatusGone}},
		{first: answer{status: http.StatusRequestEntityTooLarge}},
	} {
		t.Run(strconv.Itoa(tt.first.status)+tt.first.retryAfter, func(t *testing.T) {
			hook := &scriptedWebhook{script: []answer{tt.first, {status: http.StatusOK}}}
			srv := httptest.NewServer(hook)
			defer srv.Close()
			n := newTestNotifier(t, srv.URL, fastRetry())
			n.start(t)

			n.notify(endedInvestigation("inv-1"))
			require.Eventually(t, func() bool { return n.calls(t, webhookOK)+n.calls(t, webhookError) == 1 }, 5*time.Second, 5*time.Millisecond)
			requests, accepted := hook.counts()
			if tt.retry {
				assert.Equal(t, int64(1), n.calls(t, webhookOK))
				assert.Equal(t, 2, requests)
				assert.Equal(t, 1, accepted)
				assert.Equal(t, int64(1), n.retries(t))
				return
			}
			assert.Equal(t, int64(1), n.calls(t, webhookError))
			assert.Equal(t, 1, requests, "not retried")
			assert.Zero(t, accepted)
			assert.Zero(t, n.retries(t))
			lost := n.logs.FilterMessage("Investigation webhook failed; the message is lost").All()
			require.Len(t, lost, 1, "logged once")
			assert.Equal(t, "not retryable", lost[0].ContextMap()["reason"])
			assert.Contains(t, lost[0].ContextMap()["error"], strconv.Itoa(tt.first.status))
			assert.Contains(t, lost[0].ContextMap()["error"], tt.first.body)
		})
	}
}

func TestWebhookGivesUpAfterMaxElapsedTime(t *testing.T) {
	// A port nothing listens on: every attempt is refused.
	l, err := net.Listen("tcp", "localhost:0")
	require.NoError(t, err)
	endpoint := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	retry := fastRetry()
	retry.MaxInterval = 20 * time.Millisecond
	retry.MaxElapsedTime = 100 * time.Millisecond
	n := newTestNotifier(t, endpoint, retry)
	n.start(t)

	n.notify(endedInvestigation("inv-1"))
	require.Eventually(t, func() bool { return n.calls(t, webhookError) == 1 }, 5*time.Second, 5*time.Millisecond)
	assert.Positive(t, n.retries(t), "network errors are retried")
	assert.Zero(t, n.calls(t, webhookOK))
	lost := n.logs.FilterMessage("Investigation webhook failed; the message is lost").All()
	require.Len(t, lost, 1)
	assert.Equal(t, "retries exhausted", lost[0].ContextMap()["reason"])
}

// TestWebhookURLIsNotLogged: a chat webhook's URL is its credential
// (Slack: "keep it secret"); a failed attempt is logged without it.
func TestWebhookURLIsNotLogged(t *testing.T) {
	l, err := net.Listen("tcp", "localhost:0")
	require.NoError(t, err)
	endpoint := "http://" + l.Addr().String() + "/services/T000/B000/s3cr3tW3bh00kT0k3n"
	require.NoError(t, l.Close())
	retry := fastRetry()
	retry.MaxElapsedTime = 50 * time.Millisecond
	n := newTestNotifier(t, endpoint, retry)
	n.start(t)

	n.notify(endedInvestigation("inv-1"))
	require.Eventually(t, func() bool { return n.calls(t, webhookError) == 1 }, 5*time.Second, 5*time.Millisecond)
	entries := n.logs.All()
	require.NotEmpty(t, entries)
	for _, e := range entries {
		for k, v := range e.ContextMap() {
			assert.NotContains(t, fmt.Sprint(v), "s3cr3tW3bh00kT0k3n", "%s: field %s", e.Message, k)
		}
	}
	lost := n.logs.FilterMessage("Investigation webhook failed; the message is lost").All()
	require.Len(t, lost, 1)
	assert.Contains(t, lost[0].ContextMap()["error"], "connection refused", "the cause is still logged")
}

func TestWebhookRetriesDisabled(t *testing.T) {
	hook := &scriptedWebhook{script: []answer{{status: http.StatusServiceUnavailable}, {status: http.StatusOK}}}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	retry := fastRetry()
	retry.Enabled = false
	n := newTestNotifier(t, srv.URL, retry)
	n.start(t)

	n.notify(endedInvestigation("inv-1"))
	require.Eventually(t, func() bool { return n.calls(t, webhookError) == 1 }, 5*time.Second, 5*time.Millisecond)
	requests, _ := hook.counts()
	assert.Equal(t, 1, requests)
	assert.Zero(t, n.retries(t))
}

func TestWebhookShutdownDuringBackoff(t *testing.T) {
	hook := &scriptedWebhook{script: []answer{{status: http.StatusServiceUnavailable}}}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	retry := configretry.NewDefaultBackOffConfig()
	retry.InitialInterval, retry.MaxInterval, retry.MaxElapsedTime = time.Hour, time.Hour, 0 // wait long, retry forever
	n := newTestNotifier(t, srv.URL, retry)
	cancel, done := n.start(t)

	n.notify(endedInvestigation("inv-1"))
	require.Eventually(t, func() bool { r, _ := hook.counts(); return r == 1 }, 5*time.Second, 5*time.Millisecond)
	n.notify(endedInvestigation("inv-2")) // queued behind inv-1
	n.notify(endedInvestigation("inv-3"))

	cancel()
	require.Eventually(t, func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}, 5*time.Second, 5*time.Millisecond, "the backoff wait ends with the context")
	assert.Equal(t, int64(3), n.calls(t, webhookDropped), "the one retrying and the two queued")
	assert.Equal(t, 3, n.logs.FilterMessage("Investigation webhook message dropped").FilterLevelExact(zapcore.WarnLevel).Len())

	n.notify(endedInvestigation("inv-4"))
	assert.Equal(t, int64(4), n.calls(t, webhookDropped), "after shutdown a message is dropped at once")
	requests, _ := hook.counts()
	assert.Equal(t, 1, requests)
	assert.Zero(t, n.retries(t))
	assert.Zero(t, n.calls(t, webhookError))
}

func TestWebhookQueueIsBounded(t *testing.T) {
	n := newTestNotifier(t, "http://localhost:1", fastRetry()) // never run: nothing is sent
	for i := range maxPendingNotifications + 1 {
		n.notify(endedInvestigation("inv-" + strconv.Itoa(i)))
	}
	assert.Equal(t, int64(1), n.calls(t, webhookDropped), "one too many")
	require.Len(t, n.logs.FilterField(zap.String("reason", "too many notifications waiting")).All(), 1)
	n.stop()
	assert.Equal(t, int64(maxPendingNotifications+1), n.calls(t, webhookDropped), "the queued ones are dropped at shutdown")
}

// TestShutdownDoesNotWaitForWebhookRetries runs the extension against a
// webhook that keeps failing: investigations still finish while a message
// waits for its retry, and Shutdown ends the wait.
func TestShutdownDoesNotWaitForWebhookRetries(t *testing.T) {
	hook := &scriptedWebhook{script: []answer{{status: http.StatusInternalServerError}}}
	whSrv := httptest.NewServer(hook)
	defer whSrv.Close()
	srv, _ := fixture(t, func(cfg *Config) {
		cfg.Investigations.MaxConcurrent = 1
		wh := defaultWebhookConfig()
		wh.Endpoint = whSrv.URL
		cfg.Investigations.Webhook = configoptional.Some(wh)
		cfg.Investigations.WebhookRetry.InitialInterval = time.Hour
		cfg.Investigations.WebhookRetry.MaxInterval = time.Hour
		cfg.Investigations.WebhookRetry.MaxElapsedTime = 2 * time.Hour
	})
	for _, service := range []string{"gateway", "orders"} {
		r := srv.postTo(t, routeInvestigations, `{"service":"`+service+`"}`)
		require.Equal(t, http.StatusAccepted, r.status, string(r.body))
		// With one worker, the second ends only if the first one's
		// message does not hold it.
		srv.awaitInvestigation(t, decode[investigationAccepted](t, r).ID)
	}
	require.Eventually(t, func() bool { r, _ := hook.counts(); return r == 1 }, 5*time.Second, 5*time.Millisecond)

	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.ext.Shutdown(context.Background()) }()
	var err error
	require.Eventually(t, func() bool {
		select {
		case err = <-shutdown:
			return true
		default:
			return false
		}
	}, 10*time.Second, 10*time.Millisecond, "Shutdown returns while a message waits for its retry")
	require.NoError(t, err)
	dropped := counterValue(t, srv.telemetry, metadata.MetricWebhookCalls, attribute.NewSet(attribute.String("outcome", webhookDropped)))
	assert.Equal(t, int64(2), dropped, "the retrying message and the queued one")
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{in: "0", want: 0, ok: true},
		{in: "1", want: time.Second, ok: true},
		{in: " 120 ", want: 2 * time.Minute, ok: true},
		{in: "86401", want: maxRetryAfter, ok: true},
		{in: "99999999999999999999999", want: maxRetryAfter, ok: true},
		{in: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second, ok: true},
		{in: "Monday, 04-May-26 12:00:30 GMT", want: 30 * time.Second, ok: true}, // RFC 850
		{in: "Mon May  4 12:00:10 2026", want: 10 * time.Second, ok: true},       // asctime
		{in: now.Add(-time.Hour).Format(http.TimeFormat), want: 0, ok: true},
		{in: now.Add(1000 * time.Hour).Format(http.TimeFormat), want: maxRetryAfter, ok: true},
		{in: ""},
		{in: "-1"},
		{in: "+5"},
		{in: "1.5"},
		{in: "5s"},
		{in: "soon"},
	} {
		got, ok := parseRetryAfter(tt.in, now)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestRetryWait(t *testing.T) {
	const maxInterval = 30 * time.Second
	assert.Equal(t, 5*time.Second, retryWait(5*time.Second, 0, maxInterval), "no Retry-After: the backoff")
	assert.Equal(t, 5*time.Second, retryWait(5*time.Second, time.Second, maxInterval), "never sooner than the backoff")
	assert.Equal(t, 20*time.Second, retryWait(5*time.Second, 20*time.Second, maxInterval), "as long as asked")
	assert.Equal(t, maxInterval, retryWait(5*time.Second, time.Hour, maxInterval), "up to max_interval")
}

func TestNextWaitStopsAtTheDeadline(t *testing.T) {
	n := &notifier{retry: configretry.NewDefaultBackOffConfig()}
	bo := newBackoff(n.retry)
	retryable := &webhookStatusError{code: http.StatusTooManyRequests, retryAfter: time.Minute}
	wait, ok := n.nextWait(bo, retryable, time.Now().Add(time.Hour))
	require.True(t, ok)
	assert.Equal(t, n.retry.MaxInterval, wait, "Retry-After capped by max_interval")

	wait, ok = n.nextWait(bo, retryable, time.Now().Add(time.Second))
	require.True(t, ok)
	assert.LessOrEqual(t, wait, time.Second, "never past the deadline")

	_, ok = n.nextWait(bo, retryable, time.Now().Add(-time.Millisecond))
	assert.False(t, ok, "deadline passed")
	_, ok = n.nextWait(bo, &webhookStatusError{code: http.StatusBadRequest}, time.Time{})
	assert.False(t, ok, "not retryable")
	wait, ok = n.nextWait(bo, io.ErrUnexpectedEOF, time.Time{})
	assert.True(t, ok, "transport errors are retried; zero deadline: none")
	assert.Positive(t, wait)
}

func FuzzRetryAfter(f *testing.F) {
	for _, seed := range []string{"0", "1", "120", "-1", "1e3", "99999999999999999999", "Mon, 04 May 2026 12:01:00 GMT", "Monday, 04-May-26 12:00:30 GMT", "Mon May  4 12:00:10 2026", "", " ", "soon"} {
		f.Add(seed, int64(30*time.Second))
	}
	now := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string, maxInterval int64) {
		got, ok := parseRetryAfter(v, now)
		if !ok && got != 0 {
			t.Fatalf("parseRetryAfter(%q) = %s without a value", v, got)
		}
		if got < 0 || got > maxRetryAfter {
			t.Fatalf("parseRetryAfter(%q) = %s, outside [0, %s]", v, got, maxRetryAfter)
		}
		if secs, err := strconv.ParseUint(v, 10, 16); err == nil && (!ok || got != time.Duration(secs)*time.Second) {
			t.Fatalf("parseRetryAfter(%q) = %s, %t; want %ds", v, got, ok, secs)
		}
		maxI := time.Duration(max(maxInterval, 0)) // configretry rejects a negative max_interval
		backoffDelay := time.Second
		if wait := retryWait(backoffDelay, got, maxI); wait < backoffDelay || wait > max(backoffDelay, maxI) {
			t.Fatalf("retryWait(%s, %s, %s) = %s", backoffDelay, got, maxI, wait)
		}
	})
}
