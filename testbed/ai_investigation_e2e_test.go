package testbed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ollystack/ollystack/testbed/harness"
)

// fakeChatCompletions speaks the OpenAI chat completions API: while hang is set it answers
// nothing until the client gives up; otherwise it ranks h1 first.
type fakeChatCompletions struct {
	hang     atomic.Bool
	received chan struct{}
	release  chan struct{} // closed at the end: no call hangs past the test
	calls    atomic.Int32
}

func (f *fakeChatCompletions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	f.calls.Add(1)
	// Reading the body lets net/http notice the client going away (and cancel the context).
	_, _ = io.Copy(io.Discard, r.Body)
	select {
	case f.received <- struct{}{}:
	default:
	}
	if f.hang.Load() {
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
		return
	}
	content, _ := json.Marshal(map[string]any{
		"summary":           "The card processor in payments timed out; the callers only passed the error on.",
		"ranked_hypotheses": []string{"h1"},
		"recommendations":   []string{"Check the card processor's health."},
	})
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "model": "test-model",
		"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": string(content)}}},
		"usage": map[string]int{"prompt_tokens": 900, "completion_tokens": 60, "total_tokens": 960},
	})
}

type investigationView struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Attempts  int    `json:"attempts"`
	Error     string `json:"error"`
	Narrative struct {
		Source  string `json:"source"`
		Summary string `json:"summary"`
	} `json:"narrative"`
	Trigger struct {
		Source    string `json:"source"`
		AlertName string `json:"alert_name"`
	} `json:"trigger"`
	Hypotheses []struct {
		Service  string `json:"service"`
		Runbooks []struct {
			Name string `json:"name"`
		} `json:"runbooks"`
	} `json:"hypotheses"`
	Timeline []struct {
		Text string `json:"text"`
	} `json:"timeline"`
}

// TestAIInvestigationSurvivesACrash starts an investigation from an Alertmanager webhook, kills
// the collector with SIGKILL while the investigation waits on the model, and checks that the
// restarted collector resumes and finishes it.
func TestAIInvestigationSurvivesACrash(t *testing.T) {
	llm := &fakeChatCompletions{received: make(chan struct{}, 1), release: make(chan struct{})}
	llm.hang.Store(true)
	llmServer := httptest.NewServer(llm)
	// A cleanup, not a defer: cleanups run last-registered first, so the collectors (whose
	// calls may hang here) are killed before the server waits for its handlers.
	t.Cleanup(llmServer.Close)
	t.Cleanup(func() { close(llm.release) })
	config := fmt.Sprintf(aiConfig, `    llm:
      provider: openai
      base_url: `+llmServer.URL+`/v1
      model: test-model
      timeout: 2m
      max_retries: 0
    runbooks:
      - name: card-processor
        kinds: [error_origin, latency_outlier, dependency_failure]
        services: [payments]
        steps: [Check the card processor's status page]`)

	env := harness.NewEnv(t)
	c := env.Start(t, config)
	const failing = 77
	sendCheckouts(t, env.HTTP, failing, time.Now().Add(-time.Minute))
	base := fmt.Sprintf("http://127.0.0.1:%d", env.API)
	require.Eventually(t, func() bool {
		var v map[string]any
		return getJSON(t, fmt.Sprintf("%s/api/v1/correlate/order-%d", base, failing), &v) == http.StatusOK
	}, 30*time.Second, 100*time.Millisecond)

	payload := `{"version":"4","groupKey":"{}:{alertname=\"CheckoutErrors\"}","truncatedAlerts":0,"status":"firing",
"receiver":"ollystack","groupLabels":{"alertname":"CheckoutErrors"},"commonLabels":{"alertname":"CheckoutErrors"},
"commonAnnotations":{},"externalURL":"http://alertmanager:9093","alerts":[{"status":"firing",
"labels":{"alertname":"CheckoutErrors","service":"gateway","severity":"page"},"annotations":{},
"startsAt":"` + time.Now().UTC().Format(time.RFC3339) + `","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"0f1e2d3c4b5a6978"}]}`
	resp, err := http.Post(base+"/api/v1/ai/investigations", "application/json", bytes.NewBufferString(payload))
	require.NoError(t, err)
	var accepted struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&accepted))
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)

	select {
	case <-llm.received: // the investigation is running and waits on the model
	case <-time.After(60 * time.Second):
		t.Fatalf("the investigation never called the model\n%s", c.Logs())
	}
	var inv investigationView
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/ai/investigations/"+accepted.ID, &inv))
	require.Equal(t, "running", inv.Status)
	c.Kill(t)

	llm.hang.Store(false)
	env.Start(t, config)
	require.Eventually(t, func() bool {
		return getJSON(t, base+"/api/v1/ai/investigations/"+accepted.ID, &inv) == http.StatusOK && inv.Status == "finished"
	}, 60*time.Second, 200*time.Millisecond, "the investigation resumes after the crash and finishes")

	assert.Equal(t, 2, inv.Attempts, "one interrupted run, one resumed")
	assert.Equal(t, "alertmanager", inv.Trigger.Source)
	assert.Equal(t, "CheckoutErrors", inv.Trigger.AlertName)
	require.NotEmpty(t, inv.Hypotheses)
	assert.Equal(t, "payments", inv.Hypotheses[0].Service)
	require.NotEmpty(t, inv.Hypotheses[0].Runbooks)
	assert.Equal(t, "card-processor", inv.Hypotheses[0].Runbooks[0].Name)
	assert.Equal(t, "llm", inv.Narrative.Source)
	assert.Contains(t, inv.Narrative.Summary, "card processor")
	var texts []string
	for _, e := range inv.Timeline {
		texts = append(texts, e.Text)
	}
	assert.Contains(t, strings.Join(texts, "\n"), "investigation resumed after a restart")

	// The same alert delivered again is the same investigation.
	resp, err = http.Post(base+"/api/v1/ai/investigations", "application/json", bytes.NewBufferString(payload))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// sloInvestigationConfig feeds the slometrics connector's alert records into the store, where
// the ai extension polls for them.
const sloInvestigationConfig = `
extensions:
` + healthCheckExtension + `  signalstore:
    embedded:
      path: {{.Dir}}/ollystack.db
  correlateapi:
    endpoint: 127.0.0.1:{{.API}}
    store: signalstore
  ai:
    store: signalstore
    investigations:
      slo_alerts:
        poll_interval: 1s
` + otlpReceivers + `processors:
  correlation:
  batch:
    timeout: 100ms
connectors:
  slometrics:
    flush_interval: 1s
    slos:
      - name: checkout-availability
        service: gateway
        sli:
          kind: availability
        target: 99.9
exporters:
  signalstore:
service:
  extensions: [health_check, signalstore, correlateapi, ai]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [correlation, batch]
      exporters: [signalstore, slometrics]
    logs:
      receivers: [otlp]
      processors: [correlation, batch]
      exporters: [signalstore]
    logs/slo:
      receivers: [slometrics]
      processors: [batch]
      exporters: [signalstore]
`

// TestSLOAlertStartsAnInvestigation sends failing checkouts through the binary: the slometrics
// connector's alert fires, its record reaches the store, and the ai extension investigates the
// alerting service on its own.
func TestSLOAlertStartsAnInvestigation(t *testing.T) {
	c := harness.StartCollector(t, sloInvestigationConfig)
	const failing = 55
	sendCheckouts(t, c.Env.HTTP, failing, time.Now().Add(-time.Minute))
	base := fmt.Sprintf("http://127.0.0.1:%d/api/v1/ai/investigations", c.Env.API)

	var list struct {
		Investigations []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"investigations"`
	}
	require.Eventually(t, func() bool {
		return getJSON(t, base, &list) == http.StatusOK && len(list.Investigations) > 0 && list.Investigations[0].Status == "finished"
	}, 60*time.Second, 200*time.Millisecond, "an SLO alert starts an investigation that finishes")

	var inv struct {
		investigationView
		Scope struct {
			Service       string `json:"service"`
			CorrelationID string `json:"correlation_id"`
		} `json:"scope"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, base+"/"+list.Investigations[0].ID, &inv))
	assert.Equal(t, "slo_alert", inv.Trigger.Source)
	assert.True(t, strings.HasPrefix(inv.Trigger.AlertName, "checkout-availability/"), inv.Trigger.AlertName)
	assert.Equal(t, "gateway", inv.Scope.Service, "the alerting service, from the record's service.name")
	assert.Equal(t, fmt.Sprintf("order-%d", failing), inv.Scope.CorrelationID, "the bad request the alert names")
	require.NotEmpty(t, inv.Hypotheses)
	assert.Equal(t, "payments", inv.Hypotheses[0].Service)
	c.Stop(t)
}
