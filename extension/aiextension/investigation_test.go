package aiextension

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ollystack/ollystack/extension/aiextension/internal/metadata"
	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/pkg/signalstore/embedded"
)

func (s *server) postTo(tb testing.TB, path, body string) response {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, s.baseURL+path, strings.NewReader(body))
	require.NoError(tb, err)
	req.Header.Set("Content-Type", "application/json")
	return s.do(tb, req)
}

func (s *server) getPath(tb testing.TB, path string) response {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, s.baseURL+path, nil)
	require.NoError(tb, err)
	return s.do(tb, req)
}

// awaitInvestigation polls until the investigation has ended.
func (s *server) awaitInvestigation(tb testing.TB, id string) investigation {
	tb.Helper()
	var inv investigation
	require.Eventually(tb, func() bool {
		r := s.getPath(tb, routeInvestigations+"/"+id)
		require.Equal(tb, http.StatusOK, r.status, string(r.body))
		inv = decode[investigation](tb, r)
		return inv.Status == statusFinished || inv.Status == statusFailed
	}, 20*time.Second, 20*time.Millisecond)
	return inv
}

var testRunbooks = []RunbookConfig{
	{Name: "payments-pool", Kinds: []string{"error_origin", "latency_outlier", "resource_saturation"}, Services: []string{"payments"}, Steps: []string{"Check the pool"}},
	{Name: "any-error", Kinds: []string{"error_origin"}, Steps: []string{"Read the error"}},
	{Name: "orders-only", Services: []string{"orders"}, URL: "https://runbooks.example.com/orders"},
}

func TestInvestigationLifecycle(t *testing.T) {
	srv, s := fixture(t, func(cfg *Config) { cfg.Runbooks = testRunbooks })

	r := srv.postTo(t, routeInvestigations, `{"service":"gateway"}`)
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	acc := decode[investigationAccepted](t, r)
	assert.Regexp(t, investigationIDPattern, acc.ID)
	assert.Equal(t, statusPending, acc.Status)
	assert.Equal(t, routeInvestigations+"/"+acc.ID, r.header.Get("Location"))

	inv := srv.awaitInvestigation(t, acc.ID)
	require.Equal(t, statusFinished, inv.Status, inv.Error)
	assert.Equal(t, 1, inv.Attempts)
	assert.Equal(t, sourceAPI, inv.Trigger.Source)
	assert.Equal(t, "gateway", inv.Scope.Service)
	require.Len(t, inv.Requests, 1, "the one failing request of the window")
	assert.Equal(t, s.failID, inv.Requests[0].CorrelationID)
	assert.Equal(t, "/api/v1/correlate/"+s.failID, inv.Requests[0].Link)

	require.NotEmpty(t, inv.Hypotheses)
	top := inv.Hypotheses[0]
	assert.Equal(t, "payments", top.Service, "%+v", inv.Hypotheses)
	assert.InDelta(t, 1.0, top.Support, 1e-9)
	assert.Equal(t, []string{s.failID}, top.CorrelationIDs)
	require.NotEmpty(t, top.Evidence)
	assert.Equal(t, "/api/v1/correlate/"+s.failID, top.Evidence[0].Link)
	names := func(rbs []runbookSuggestion) (out []string) {
		for _, rb := range rbs {
			out = append(out, rb.Name)
		}
		return out
	}
	for _, h := range inv.Hypotheses {
		switch {
		case h.Service == "payments" && h.Kind == "error_origin":
			assert.Equal(t, []string{"payments-pool", "any-error"}, names(h.Runbooks), "the service's own runbook first")
		case h.Service == "orders":
			assert.Contains(t, names(h.Runbooks), "orders-only")
		}
	}
	require.NotEmpty(t, inv.ServiceRanking)
	assert.Equal(t, "payments", inv.ServiceRanking[0].Service)
	assert.Contains(t, inv.Summary, "Most likely cause")
	assert.Contains(t, inv.Summary, `"payments"`)
	require.NotNil(t, inv.Narrative)
	assert.Equal(t, sourceTemplate, inv.Narrative.Source)

	var kinds []string
	for i, e := range inv.Timeline {
		kinds = append(kinds, e.Kind+": "+e.Text)
		if i > 0 {
			assert.False(t, e.Time.Before(inv.Timeline[i-1].Time), "timeline in time order")
		}
	}
	assert.Contains(t, kinds, "investigation: investigation created by api")
	assert.Contains(t, kinds, "investigation: investigation finished")
	assert.Contains(t, kinds, `error: first error of the request in payments "charge card"`)

	// The analysis of the request is kept for the correlate API.
	docs := srv.ext.api.docs
	d, err := docs.GetDocument(context.Background(), signalstore.DocumentKindAnalysis, s.failID)
	require.NoError(t, err)
	var in insights
	require.NoError(t, json.Unmarshal(d.Body, &in))
	assert.Equal(t, "rca", in.AnalysisType)
	assert.Contains(t, in.RootCause, "payments")

	list := decode[investigationList](t, srv.getPath(t, routeInvestigations))
	require.Equal(t, 1, list.Count)
	assert.Equal(t, acc.ID, list.Investigations[0].ID)
	assert.Equal(t, statusFinished, list.Investigations[0].Status)
}

func TestInvestigationOfOneRequest(t *testing.T) {
	srv, s := fixture(t, nil)
	r := srv.postTo(t, routeInvestigations, `{"correlation_id":"`+s.failID+`","from":"`+
		s.base.Add(-time.Minute).Format(time.RFC3339)+`","to":"`+s.base.Add(time.Minute).Format(time.RFC3339)+`"}`)
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	inv := srv.awaitInvestigation(t, decode[investigationAccepted](t, r).ID)
	require.Equal(t, statusFinished, inv.Status, inv.Error)
	require.NotEmpty(t, inv.Requests)
	assert.Equal(t, s.failID, inv.Requests[0].CorrelationID, "the given request comes first")
}

// TestInvestigationOfAPastWindow checks that newer failures, however many,
// do not crowd out the failing requests of the window investigated.
func TestInvestigationOfAPastWindow(t *testing.T) {
	store := openStore(t)
	s := newShop(time.Now())
	s.write(t, store)
	for i := range 6 {
		s.request(t, store, fmt.Sprintf("olly-fail-later-%d", i), s.base.Add(2*time.Minute+time.Duration(i)*time.Second), 0xf00+i, failShape())
	}
	srv := startServer(t, hostWith(store), func(cfg *Config) { cfg.Investigations.MaxRequests = 1 })
	r := srv.postTo(t, routeInvestigations, `{"service":"gateway","from":"`+
		s.base.Add(-time.Minute).Format(time.RFC3339)+`","to":"`+s.base.Add(time.Minute).Format(time.RFC3339)+`"}`)
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	inv := srv.awaitInvestigation(t, decode[investigationAccepted](t, r).ID)
	require.Equal(t, statusFinished, inv.Status, inv.Error)
	require.Len(t, inv.Requests, 1)
	assert.Equal(t, s.failID, inv.Requests[0].CorrelationID)
}

func TestInvestigationsSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signals.db")
	open := func() *embedded.Store {
		cfg := embedded.NewDefaultConfig()
		cfg.Path = path
		store, err := embedded.Open(context.Background(), cfg, zap.NewNop())
		require.NoError(t, err)
		return store
	}
	store := open()
	s := newShop(time.Now())
	s.write(t, store)

	// What a crash leaves behind: one investigation never started, one
	// interrupted while running.
	now := time.Now().UTC()
	put := func(inv investigation) {
		body, err := json.Marshal(inv)
		require.NoError(t, err)
		require.NoError(t, store.PutDocument(context.Background(), signalstore.Document{
			Kind: signalstore.DocumentKindInvestigation, ID: inv.ID, Updated: now, Body: body,
		}))
	}
	sc := scope{Service: "gateway", From: s.base.Add(-time.Minute), To: s.base.Add(time.Minute)}
	pending := investigation{ID: newInvestigationID(), Status: statusPending, CreatedAt: now, Trigger: trigger{Source: sourceAPI}, Scope: sc}
	running := investigation{ID: newInvestigationID(), Status: statusRunning, CreatedAt: now, Attempts: 1, Trigger: trigger{Source: sourceAPI}, Scope: sc,
		Hypotheses: []investigationHypothesis{{ID: "h1", Service: "stale"}}}
	put(pending)
	put(running)

	srv := startServer(t, hostWith(store), nil)
	p := srv.awaitInvestigation(t, pending.ID)
	assert.Equal(t, statusFinished, p.Status, p.Error)
	assert.Equal(t, 1, p.Attempts)
	rn := srv.awaitInvestigation(t, running.ID)
	assert.Equal(t, statusFinished, rn.Status, rn.Error)
	assert.Equal(t, 2, rn.Attempts)
	require.NotEmpty(t, rn.Hypotheses)
	assert.Equal(t, "payments", rn.Hypotheses[0].Service, "the stale partial result is replaced")
	var texts []string
	for _, e := range rn.Timeline {
		texts = append(texts, e.Text)
	}
	assert.Contains(t, texts, "investigation resumed after a restart")

	// A finished investigation is still there after the process and its
	// store are reopened.
	require.NoError(t, srv.ext.Shutdown(context.Background()))
	require.NoError(t, store.Close())
	store = open()
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	srv = startServer(t, hostWith(store), nil)
	again := decode[investigation](t, srv.getPath(t, routeInvestigations+"/"+pending.ID))
	assert.Equal(t, statusFinished, again.Status)
	assert.Equal(t, 1, again.Attempts, "a finished investigation is not run again")
	assert.Equal(t, p.Hypotheses, again.Hypotheses)
}

// TestInterruptedInvestigationsBeyondTheQueueAreResumed: more
// investigations were running at a crash than the queue holds. Those that
// do not fit are kept pending for the sweep, not left running for good.
func TestInterruptedInvestigationsBeyondTheQueueAreResumed(t *testing.T) {
	store := openStore(t)
	s := newShop(time.Now())
	s.write(t, store)
	now := time.Now().UTC()
	sc := scope{Service: "gateway", From: s.base.Add(-time.Minute), To: s.base.Add(time.Minute)}
	var ids []string
	for i := range 3 {
		inv := investigation{ID: newInvestigationID(), Status: statusRunning, CreatedAt: now, Attempts: 1, Trigger: trigger{Source: sourceAPI}, Scope: sc}
		body, err := json.Marshal(inv)
		require.NoError(t, err)
		require.NoError(t, store.PutDocument(context.Background(), signalstore.Document{
			Kind: signalstore.DocumentKindInvestigation, ID: inv.ID, Updated: now.Add(time.Duration(i) * time.Millisecond), Body: body,
		}))
		ids = append(ids, inv.ID)
	}

	srv := startServer(t, hostWith(store), func(cfg *Config) {
		cfg.Investigations.QueueSize = 1
		cfg.Investigations.MaxConcurrent = 1
	})
	for _, id := range ids[1:] {
		inv := decode[investigation](t, srv.getPath(t, routeInvestigations+"/"+id))
		assert.Equal(t, statusPending, inv.Status, "no room in the queue: pending, for the sweep")
	}
	first := srv.awaitInvestigation(t, ids[0])
	assert.Equal(t, statusFinished, first.Status, first.Error)

	iv := srv.ext.api.investigations
	require.Eventually(t, func() bool {
		require.NoError(t, iv.requeue(context.Background(), statusPending)) // what the sweep does
		for _, id := range ids[1:] {
			inv := decode[investigation](t, srv.getPath(t, routeInvestigations+"/"+id))
			if inv.Status != statusFinished {
				return false
			}
		}
		return true
	}, 20*time.Second, 50*time.Millisecond)
	for _, id := range ids[1:] {
		inv := decode[investigation](t, srv.getPath(t, routeInvestigations+"/"+id))
		assert.Equal(t, 2, inv.Attempts, "run again after the restart")
	}
}

// TestInvestigationTooLargeToKeepFails: telemetry can make a result larger
// than a document the store keeps (here span names of 300 KB). The
// investigation then ends failed, saying so, instead of staying running.
func TestInvestigationTooLargeToKeepFails(t *testing.T) {
	store := openStore(t)
	s := newShop(time.Now())
	s.write(t, store)
	shape := failShape()
	shape[2].name = "charge " + strings.Repeat("x", 300<<10)
	s.request(t, store, "olly-fail-long", s.base.Add(time.Second), 0xffe, shape)
	srv := startServer(t, hostWith(store), nil)

	r := srv.postTo(t, routeInvestigations, `{"correlation_id":"olly-fail-long","from":"`+
		s.base.Add(-time.Minute).Format(time.RFC3339)+`","to":"`+s.base.Add(time.Minute).Format(time.RFC3339)+`"}`)
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	inv := srv.awaitInvestigation(t, decode[investigationAccepted](t, r).ID)
	assert.Equal(t, statusFailed, inv.Status)
	assert.Contains(t, inv.Error, "too large")
	assert.False(t, inv.FinishedAt.IsZero())
	require.NotEmpty(t, inv.Timeline)
	assert.Equal(t, "investigation failed", inv.Timeline[len(inv.Timeline)-1].Text)
	for _, e := range inv.Timeline {
		assert.NotEqual(t, "investigation finished", e.Text)
	}
}

// alertmanagerBody is a webhook body as Alertmanager v0.27 sends it.
func alertmanagerBody(status string, startsAt time.Time) string {
	return `{
  "version": "4",
  "groupKey": "{}:{alertname=\"HighErrorRate\"}",
  "truncatedAlerts": 0,
  "status": "` + status + `",
  "receiver": "ollystack",
  "groupLabels": {"alertname": "HighErrorRate"},
  "commonLabels": {"alertname": "HighErrorRate", "severity": "page"},
  "commonAnnotations": {"summary": "checkout error rate above 5%"},
  "externalURL": "http://alertmanager:9093",
  "alerts": [{
    "status": "` + status + `",
    "labels": {"alertname": "HighErrorRate", "service": "gateway", "severity": "page"},
    "annotations": {"summary": "checkout error rate above 5%"},
    "startsAt": "` + startsAt.UTC().Format(time.RFC3339Nano) + `",
    "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus:9090/graph?g0.expr=...",
    "fingerprint": "c3a8e8f2b0d1e4a7"
  }]
}`
}

func TestAlertmanagerWebhookStartsOneInvestigation(t *testing.T) {
	srv, s := fixture(t, nil)
	payload := alertmanagerBody("firing", s.base.Add(2*time.Second))

	r := srv.postTo(t, routeInvestigations, payload)
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	acc := decode[investigationAccepted](t, r)
	assert.True(t, strings.HasPrefix(acc.ID, "inv-alertmanager-"), acc.ID)

	// Alertmanager repeats a notification: the same alert is one
	// investigation.
	r = srv.postTo(t, routeInvestigations, payload)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	dup := decode[investigationAccepted](t, r)
	assert.Equal(t, acc.ID, dup.ID)
	assert.True(t, dup.Duplicate)

	inv := srv.awaitInvestigation(t, acc.ID)
	require.Equal(t, statusFinished, inv.Status, inv.Error)
	assert.Equal(t, sourceAlertmanager, inv.Trigger.Source)
	assert.Equal(t, "HighErrorRate", inv.Trigger.AlertName)
	assert.Equal(t, "page", inv.Trigger.Severity)
	assert.Equal(t, "gateway", inv.Scope.Service, "from the service label")
	assert.Equal(t, s.base.Add(2*time.Second).Add(-15*time.Minute), inv.Scope.From, "lookback before the alert")
	var alertAt, createdAt time.Time
	for _, e := range inv.Timeline {
		switch e.Text {
		case "alert HighErrorRate started firing":
			alertAt = e.Time
		case "investigation created by alertmanager":
			createdAt = e.Time
		}
	}
	assert.Equal(t, s.base.Add(2*time.Second), alertAt, "the alert is on the timeline at its start")
	assert.True(t, createdAt.After(alertAt))
	require.NotEmpty(t, inv.Hypotheses)
	assert.Equal(t, "payments", inv.Hypotheses[0].Service)

	r = srv.postTo(t, routeInvestigations, alertmanagerBody("resolved", s.base))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	assert.Equal(t, "ignored", decode[investigationIgnored](t, r).Status)

	// A field of a later Alertmanager release does not break the receiver.
	r = srv.postTo(t, routeInvestigations, strings.Replace(alertmanagerBody("firing", s.base), `"truncatedAlerts": 0,`, `"truncatedAlerts": 0, "futureField": {"x": 1},`, 1))
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))

	r = srv.postTo(t, routeInvestigations, strings.Replace(payload, `"version": "4"`, `"version": "3"`, 1))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Contains(t, string(r.body), "version 4")
}

// TestAlertmanagerServicesAreBounded: the services of a group are kept
// like its labels, bounded, so a large payload is still an investigation
// and not a document the store refuses (a 500 Alertmanager retries).
func TestAlertmanagerServicesAreBounded(t *testing.T) {
	srv, s := fixture(t, nil)
	type alert struct {
		Status   string            `json:"status"`
		Labels   map[string]string `json:"labels"`
		StartsAt time.Time         `json:"startsAt"`
	}
	alerts := []alert{{Status: "firing", Labels: map[string]string{"alertname": "Many", "service": "gateway"}, StartsAt: s.base}}
	for i := range 200 {
		alerts = append(alerts, alert{Status: "firing", StartsAt: s.base,
			Labels: map[string]string{"alertname": "Many", "service": fmt.Sprintf("%03d", i) + strings.Repeat("<", 1000)}})
	}
	var body strings.Builder // as Alertmanager sends it: '<' unescaped
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(map[string]any{"version": "4", "groupKey": "{}:{alertname=\"Many\"}", "status": "firing", "alerts": alerts}))
	require.Less(t, body.Len(), maxInvestigationBody)

	r := srv.postTo(t, routeInvestigations, body.String())
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	inv := decode[investigation](t, srv.getPath(t, routeInvestigations+"/"+decode[investigationAccepted](t, r).ID))
	assert.Empty(t, inv.Scope.Service, "several services: all of them")
	assert.LessOrEqual(t, len(inv.Trigger.Services), maxLabels)
	assert.Equal(t, "gateway", inv.Trigger.Services[0])
	for _, svc := range inv.Trigger.Services {
		assert.LessOrEqual(t, len(svc), maxNameLen+len("…"))
	}
}

func TestInvestigationRequestsAreValidated(t *testing.T) {
	srv, _ := fixture(t, nil)
	for _, tc := range []struct{ body, want string }{
		{`{}`, "set service, correlation_id or both"},
		{`{"service":"a","from":"2026-01-02T00:00:00Z","to":"2026-01-01T00:00:00Z"}`, "from: must be before to"},
		{`{"service":"a","from":"2026-01-01T00:00:00Z","to":"2026-01-03T00:00:00Z"}`, "at most 24h0m0s"},
		{`{"correlation_id":"bad id!"}`, "correlation_id: must be"},
		{`{"service":"a\u0000b"}`, "control characters"},
		{`{"service":"` + strings.Repeat("s", 300) + `"}`, "at most 256 bytes"},
		{`{"service":"a","frm":"x"}`, `unknown field "frm"`},
		{`{"service":"a","from":"yesterday"}`, "RFC 3339"},
		{`[{"service":"a"}]`, "the body must be a JSON object {service, correlation_id, from, to} or an Alertmanager webhook payload"},
		{`{"version":"4","alerts":{}}`, `field "alerts" must be a JSON array`},
	} {
		r := srv.postTo(t, routeInvestigations, tc.body)
		assert.Equal(t, http.StatusBadRequest, r.status, tc.body)
		msg := decode[errorBody](t, r).Error.Message
		assert.Contains(t, msg, tc.want, tc.body)
		for _, goName := range []string{"aiextension.", "struct", "[]"} {
			assert.NotContains(t, msg, goName, tc.body)
		}
	}
	r := srv.postTo(t, routeInvestigations, `{"service":"`+strings.Repeat("s", maxInvestigationBody)+`"}`)
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status)

	r = srv.getPath(t, routeInvestigations+"/inv-0123456789abcdef01234567")
	assert.Equal(t, http.StatusNotFound, r.status)
	for _, bad := range []string{"x", "inv-../../etc", "inv-0123456789abcdef0123456z", strings.Repeat("a", 500),
		"inv-" + strings.Repeat("a", 300) + "0123456789abcdef01234567"} { // longer than any stored id
		r = srv.getPath(t, routeInvestigations+"/"+bad)
		assert.Equal(t, http.StatusBadRequest, r.status, bad)
	}
	r = srv.getPath(t, routeInvestigations+"?limit=0")
	assert.Equal(t, http.StatusBadRequest, r.status)
}

func TestInvestigationQueueIsBounded(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Investigations.QueueSize = 1
	a := newAPI(cfg, openStore(t), newMemoryDocuments(), nil, zap.NewNop(), newTestTelemetry(t))
	iv := newInvestigator(a, nil) // no workers: nothing leaves the queue
	newInv := func() *investigation {
		return &investigation{ID: newInvestigationID(), CreatedAt: time.Now(), Trigger: trigger{Source: sourceAPI}, Scope: scope{Service: "x", From: time.Now().Add(-time.Minute), To: time.Now()}}
	}
	_, err := iv.submit(context.Background(), newInv())
	require.NoError(t, err)
	_, err = iv.submit(context.Background(), newInv())
	require.ErrorIs(t, err, errQueueFull)
}

// webhookSink records the messages posted to it.
type webhookSink struct {
	mu       sync.Mutex
	messages []map[string]any
	status   int
}

func (w *webhookSink) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var msg map[string]any
	if r.Header.Get("Content-Type") == "application/json" && json.Unmarshal(body, &msg) == nil {
		w.mu.Lock()
		w.messages = append(w.messages, msg)
		w.mu.Unlock()
	}
	rw.WriteHeader(w.status)
	_, _ = rw.Write([]byte("ok"))
}

func (w *webhookSink) received() []map[string]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]map[string]any(nil), w.messages...)
}

func TestWebhookIsCalledWhenAnInvestigationEnds(t *testing.T) {
	sink := &webhookSink{status: http.StatusOK}
	hook := httptest.NewServer(sink)
	defer hook.Close()
	srv, _ := fixture(t, func(cfg *Config) {
		wh := defaultWebhookConfig()
		wh.Endpoint = hook.URL + "/services/T000/B000/XXXX"
		cfg.Investigations.Webhook = configoptional.Some(wh)
		cfg.Investigations.LinkBaseURL = "https://ollystack.example.com/"
		cfg.Runbooks = testRunbooks
	})
	r := srv.postTo(t, routeInvestigations, `{"service":"gateway"}`)
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	id := decode[investigationAccepted](t, r).ID
	srv.awaitInvestigation(t, id)
	require.Eventually(t, func() bool { return len(sink.received()) == 1 }, 10*time.Second, 10*time.Millisecond)
	msg := sink.received()[0]
	assert.Len(t, msg, 1, "Slack-compatible: a text field")
	text, _ := msg["text"].(string)
	assert.Contains(t, text, "OllyStack investigation "+id+" finished")
	assert.Contains(t, text, "payments")
	assert.Contains(t, text, "Runbook: payments-pool.")
	assert.True(t, strings.HasSuffix(text, " https://ollystack.example.com/api/v1/ai/investigations/"+id), text)
	assert.NotContains(t, text, "<")
}

func TestEscapeMarkup(t *testing.T) {
	assert.Equal(t, "a &lt;!channel&gt; &amp; b", escapeMarkup("a <!channel> & b"))
}

// sloAlertLog is a firing record shaped like the slometrics connector's.
func sloAlertLog(at time.Time, service string, correlationIDs ...string) plog.Logs {
	ld := plog.NewLogs()
	// Like the connector's: an empty resource, the service as an attribute.
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(at))
	lr.SetEventName("slo.alert")
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.Body().SetStr("SLO checkout-availability alert page is firing")
	a := lr.Attributes()
	a.PutStr("slo.name", "checkout-availability")
	a.PutStr("service.name", service)
	a.PutStr("slo.alert.name", "page")
	a.PutStr("slo.alert.severity", "critical")
	a.PutStr("slo.alert.state", "firing")
	ids := a.PutEmptySlice("slo.correlation_ids")
	for _, id := range correlationIDs {
		ids.AppendEmpty().SetStr(id)
	}
	return ld
}

func TestSLOAlertsStartInvestigations(t *testing.T) {
	store := openStore(t)
	s := newShop(time.Now())
	s.write(t, store)
	srv := startServer(t, hostWith(store), func(cfg *Config) {
		cfg.Investigations.SLOAlerts = configoptional.Some(SLOAlertsConfig{PollInterval: time.Second})
	})
	require.NoError(t, store.WriteLogs(context.Background(), sloAlertLog(time.Now().Add(-time.Second), "gateway", s.failID, "olly-ok-0001")))

	var list investigationList
	require.Eventually(t, func() bool {
		list = decode[investigationList](t, srv.getPath(t, routeInvestigations))
		return list.Count == 1 && list.Investigations[0].Status == statusFinished
	}, 20*time.Second, 50*time.Millisecond)
	inv := decode[investigation](t, srv.getPath(t, routeInvestigations+"/"+list.Investigations[0].ID))
	assert.Equal(t, sourceSLOAlert, inv.Trigger.Source)
	assert.Equal(t, "checkout-availability/page", inv.Trigger.AlertName)
	assert.Equal(t, "gateway", inv.Scope.Service)
	assert.Equal(t, s.failID, inv.Scope.CorrelationID, "the most frequent bad request first")
	require.NotEmpty(t, inv.Hypotheses)
	assert.Equal(t, "payments", inv.Hypotheses[0].Service)

	// Later polls read the record again (late data): still one investigation.
	require.NoError(t, srv.ext.poller.poll(context.Background()))
	assert.Equal(t, 1, decode[investigationList](t, srv.getPath(t, routeInvestigations)).Count)
}

func newTestTelemetry(tb testing.TB) *metadata.TelemetryBuilder {
	tb.Helper()
	tel, err := metadata.NewTelemetryBuilder(componenttest.NewNopTelemetrySettings())
	require.NoError(tb, err)
	return tel
}

func TestWebhookTextStaysWithinTheLimit(t *testing.T) {
	n := &notifier{linkBase: "https://ollystack.example.com"}
	inv := &investigation{ID: "inv-0123456789abcdef01234567", Status: statusFinished, Summary: strings.Repeat("a<b ", 2000)}
	text := n.text(inv)
	assert.LessOrEqual(t, len(text), maxWebhookText)
	assert.True(t, strings.HasSuffix(text, "/api/v1/ai/investigations/inv-0123456789abcdef01234567"))
	body := strings.TrimSuffix(text, " https://ollystack.example.com/api/v1/ai/investigations/inv-0123456789abcdef01234567")
	assert.NotContains(t, body, "<")
	if i := strings.LastIndexByte(body, '&'); i >= 0 {
		assert.Contains(t, body[i:], ";", "no half entity at the cut")
	}
}

func TestPendingInvestigationsAreSweptIntoTheQueue(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Investigations.QueueSize = 1
	a := newAPI(cfg, openStore(t), newMemoryDocuments(), nil, zap.NewNop(), newTestTelemetry(t))
	iv := newInvestigator(a, nil) // no workers: the test drains the queue itself
	var ids []string
	for range 3 {
		inv := &investigation{ID: newInvestigationID(), CreatedAt: time.Now(), Trigger: trigger{Source: sourceAPI}, Scope: scope{Service: "x", From: time.Now().Add(-time.Minute), To: time.Now()}}
		inv.Status = statusPending
		require.NoError(t, iv.save(context.Background(), inv))
		ids = append(ids, inv.ID)
		time.Sleep(time.Millisecond) // distinct update times: oldest first
	}
	require.NoError(t, iv.requeue(context.Background(), statusPending))
	assert.True(t, iv.backlog.Load(), "some wait: the sweep reads the store")
	assert.Equal(t, ids[0], <-iv.queue, "the oldest first; the others wait")
	// ids[0] is still running here: the next sweep queues the next one, not it again.
	require.NoError(t, iv.requeue(context.Background(), statusPending))
	assert.Equal(t, ids[1], <-iv.queue)
	require.NoError(t, iv.requeue(context.Background(), statusPending))
	assert.Equal(t, ids[2], <-iv.queue)
	require.NoError(t, iv.requeue(context.Background(), statusPending))
	assert.Empty(t, iv.queue, "all three are active")
}

// spyDocuments is a document store that counts the investigations read
// one by one and lets a test act between a listing and its answer.
type spyDocuments struct {
	signalstore.DocumentStore

	mu   sync.Mutex
	gets int
	// afterList, if set, runs once, after a listing has been read and
	// before it is returned.
	afterList func()
}

func (d *spyDocuments) GetDocument(ctx context.Context, kind, id string) (signalstore.Document, error) {
	d.mu.Lock()
	d.gets++
	d.mu.Unlock()
	return d.DocumentStore.GetDocument(ctx, kind, id)
}

func (d *spyDocuments) ListDocuments(ctx context.Context, f signalstore.DocumentFilter) ([]signalstore.Document, error) {
	docs, err := d.DocumentStore.ListDocuments(ctx, f)
	d.mu.Lock()
	hook := d.afterList
	d.afterList = nil
	d.mu.Unlock()
	if hook != nil {
		hook()
	}
	return docs, err
}

func (d *spyDocuments) reads() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.gets
}

// newTestInvestigator is an investigator reading store, keeping docs,
// without workers or sweep: the test takes ids from its queue and runs
// them itself. Its self-metrics are read from tel, its logs from the
// returned observer.
func newTestInvestigator(t *testing.T, store signalstore.Reader, docs signalstore.DocumentStore, n func(*metadata.TelemetryBuilder) *notifier, configure func(*Config)) (*investigator, *componenttest.Telemetry, *observer.ObservedLogs) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	if configure != nil {
		configure(cfg)
	}
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	tb, err := metadata.NewTelemetryBuilder(tel.NewTelemetrySettings())
	require.NoError(t, err)
	core, logs := observer.New(zapcore.InfoLevel)
	a := newAPI(cfg, store, docs, nil, zap.New(core), tb)
	var notify *notifier
	if n != nil {
		notify = n(tb)
	}
	a.investigations = newInvestigator(a, notify)
	return a.investigations, tel, logs
}

func quickInvestigation(at time.Time) *investigation {
	// No telemetry in the scope: it runs at once and finishes.
	return &investigation{ID: newInvestigationID(), CreatedAt: at, Trigger: trigger{Source: sourceAPI}, Scope: scope{Service: "x", From: at.Add(-time.Minute), To: at}}
}

// TestInvestigationEndedDuringASweepIsNotRunAgain: the sweep reads an
// investigation pending; a worker finishes it before the sweep queues it,
// so it is queued again. Taken from the queue, it is not run a second
// time: one attempt, one count, one webhook message.
func TestInvestigationEndedDuringASweepIsNotRunAgain(t *testing.T) {
	docs := &spyDocuments{DocumentStore: newMemoryDocuments()}
	iv, tel, _ := newTestInvestigator(t, openStore(t), docs, func(tb *metadata.TelemetryBuilder) *notifier {
		// Not running: its messages stay in its queue, to be counted.
		return newNotifier("http://webhook.invalid", http.DefaultClient, configretry.NewDefaultBackOffConfig(), "", zap.NewNop(), tb)
	}, nil)
	ctx := context.Background()
	inv := quickInvestigation(time.Now())
	existing, err := iv.submit(ctx, inv)
	require.NoError(t, err)
	require.Nil(t, existing)

	docs.afterList = func() { // a worker, while the sweep reads
		id := <-iv.queue
		iv.run(id)
		iv.done(id)
	}
	require.NoError(t, iv.requeue(ctx, statusPending))
	require.Len(t, iv.queue, 1, "the sweep queued it again: it read it pending")
	id := <-iv.queue
	iv.run(id)
	iv.done(id)

	got, err := iv.load(ctx, inv.ID)
	require.NoError(t, err)
	assert.Equal(t, statusFinished, got.Status, got.Error)
	assert.Equal(t, 1, got.Attempts, "not run again")
	assert.Equal(t, int64(1), counterValue(t, tel, metadata.MetricInvestigations, attribute.NewSet(attribute.String("status", statusFinished))))
	assert.Len(t, iv.notifier.pending, 1, "one webhook message")
}

// putInvestigations writes investigations with the given update times,
// in parallel (the embedded store commits concurrent writes together).
func putInvestigations(t *testing.T, docs signalstore.DocumentStore, invs []investigation, updated func(i int) time.Time) {
	t.Helper()
	errs := make([]error, len(invs))
	var wg sync.WaitGroup
	for i := range invs {
		wg.Go(func() {
			body, err := json.Marshal(invs[i])
			if err == nil {
				err = docs.PutDocument(context.Background(), signalstore.Document{
					Kind: signalstore.DocumentKindInvestigation, ID: invs[i].ID, Updated: updated(i), Body: body,
				})
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
}

// TestOldPendingInvestigationIsResumedBehindNewerOnes: the pending
// investigation is older than the 1,000 ended ones after it, which a
// first read of the store holds; it is still found and run at start.
func TestOldPendingInvestigationIsResumedBehindNewerOnes(t *testing.T) {
	store := openStore(t)
	now := time.Now().UTC()
	pending := *quickInvestigation(now.Add(-time.Hour))
	pending.Status = statusPending
	putInvestigations(t, store, []investigation{pending}, func(int) time.Time { return now.Add(-time.Hour) })
	ended := make([]investigation, resumePage)
	for i := range ended {
		ended[i] = *quickInvestigation(now.Add(-30 * time.Minute))
		ended[i].Status, ended[i].Attempts = statusFinished, 1
	}
	putInvestigations(t, store, ended, func(i int) time.Time { return now.Add(-30 * time.Minute).Add(time.Duration(i) * time.Millisecond) })

	srv := startServer(t, hostWith(store), nil)
	got := srv.awaitInvestigation(t, pending.ID)
	assert.Equal(t, statusFinished, got.Status, got.Error)
	assert.Equal(t, 1, got.Attempts)
}

// TestUnfinishedInvestigationsBeyondTheBoundAreReported: past the bound of
// documents read, an older pending investigation is not found, and a
// warning says so.
func TestUnfinishedInvestigationsBeyondTheBoundAreReported(t *testing.T) {
	docs := newMemoryDocuments()
	iv, _, logs := newTestInvestigator(t, openStore(t), docs, nil, nil)
	iv.maxScanned = 3
	now := time.Now().UTC()
	pending := *quickInvestigation(now)
	pending.Status = statusPending
	putInvestigations(t, docs, []investigation{pending}, func(int) time.Time { return now.Add(-time.Hour) })
	ended := []investigation{*quickInvestigation(now), *quickInvestigation(now), *quickInvestigation(now)}
	for i := range ended {
		ended[i].Status = statusFailed
	}
	putInvestigations(t, docs, ended, func(i int) time.Time { return now.Add(time.Duration(i) * time.Second) })

	require.NoError(t, iv.requeue(context.Background(), statusPending))
	assert.Empty(t, iv.queue)
	warned := logs.FilterMessageSnippet("Too many investigations").All()
	require.Len(t, warned, 1)
	assert.Equal(t, int64(3), warned[0].ContextMap()["looked_at"])

	iv.maxScanned = 4 // room for all: no warning
	require.NoError(t, iv.requeue(context.Background(), statusPending))
	assert.Equal(t, pending.ID, <-iv.queue)
	assert.Len(t, logs.FilterMessageSnippet("Too many investigations").All(), 1)
}
