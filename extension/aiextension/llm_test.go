package aiextension

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/otel/attribute"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/ollystack/ollystack/extension/aiextension/internal/metadata"
)

const testKeyEnv = "OLLYSTACK_AI_TEST_KEY"

// fakeModel is a provider endpoint: check inspects each request, reply
// writes the answer.
type fakeModel struct {
	calls atomic.Int32
	srv   *httptest.Server
}

func newFakeModel(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body []byte, call int)) *fakeModel {
	t.Helper()
	f := &fakeModel{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if !assert.NoError(t, err) {
			return
		}
		handle(w, r, body, int(f.calls.Add(1)))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// openAIAnswer is a chat completions response carrying content.
func openAIAnswer(content string) string {
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-test",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content}}},
		"usage": map[string]any{"prompt_tokens": 900, "completion_tokens": 80, "total_tokens": 980},
	})
	return string(b)
}

// anthropicAnswer is a Messages API response carrying text.
func anthropicAnswer(text string) string {
	b, _ := json.Marshal(map[string]any{
		"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
		"content":     []any{map[string]any{"type": "text", "text": text}},
		"stop_reason": "end_turn", "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": 900, "output_tokens": 80},
	})
	return string(b)
}

func withLLM(p Provider, baseURL string, adjust func(*LLMConfig)) func(*Config) {
	return func(cfg *Config) {
		l := defaultLLMConfig()
		l.Provider, l.BaseURL, l.Model, l.APIKeyEnv = p, baseURL, "test-model", testKeyEnv
		l.Timeout = 2 * time.Second
		l.RedactAttributes = []string{"user.ssn"}
		if adjust != nil {
			adjust(&l)
		}
		cfg.LLM = configoptional.Some(l)
	}
}

// fastRetries shortens the backoff of a running server's client.
func fastRetries(srv *server) {
	srv.ext.api.narrator.client.backoff = time.Millisecond
	srv.ext.api.narrator.client.maxBackoff = 5 * time.Millisecond
}

// dataSection returns the text between the DATA markers of a prompt and
// the text outside them.
func dataSection(t *testing.T, prompt string) (inside, outside string) {
	t.Helper()
	start := strings.Index(prompt, "<<<DATA ")
	end := strings.Index(prompt, "<<<END DATA ")
	require.True(t, start >= 0 && end > start, prompt)
	return prompt[start:end], prompt[:start] + prompt[end:]
}

// checkPrompt asserts what may leave the process.
func checkPrompt(t *testing.T, system, user string) {
	t.Helper()
	assert.Equal(t, rcaSystemPrompt, system, "the system prompt is fixed")
	inside, outside := dataSection(t, user)
	assert.NotContains(t, outside, "IGNORE ALL PREVIOUS", "untrusted text stays inside the data section")
	assert.Contains(t, inside, "IGNORE ALL PREVIOUS", "the log body is quoted as data")
	for _, secret := range []string{"hunter2", "bob@example.com", "abc123def456", "123-45-6789"} {
		assert.NotContains(t, user, secret)
	}
	assert.Contains(t, inside, `"order.id":"1234"`, "attributes not configured stay")
	assert.Contains(t, inside, `"user.ssn":"[REDACTED]"`)
	assert.Contains(t, inside, `"id":"h1"`)
}

func TestNarrateOpenAI(t *testing.T) {
	t.Setenv(testKeyEnv, "test-key")
	model := newFakeModel(t, func(w http.ResponseWriter, r *http.Request, body []byte, _ int) {
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "/v1/chat/completions", r.URL.Path)
		assert.Equal(t, "Bearer test-key", r.Header.Get("Authorization"))
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		var req openAIRequest
		require.NoError(t, json.Unmarshal(body, &req))
		assert.Equal(t, "test-model", req.Model)
		assert.Equal(t, 1024, req.MaxTokens)
		require.Len(t, req.Messages, 2)
		assert.Equal(t, "system", req.Messages[0].Role)
		assert.Equal(t, "user", req.Messages[1].Role)
		checkPrompt(t, req.Messages[0].Content, req.Messages[1].Content)
		// A model that fell for the injection: it ranks an id that does
		// not exist first and adds a recommendation.
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, openAIAnswer("```json\n"+`{"summary":"Payments ran out of database connections.","ranked_hypotheses":["h99","h2","h1"],"recommendations":["Raise the pool size."]}`+"\n```"))
	})
	srv, s := fixture(t, withLLM(ProviderOpenAI, model.srv.URL+"/v1", nil))
	plain := srv.ext.api.deterministicFor(t, s.failID)
	require.GreaterOrEqual(t, len(plain.Hypotheses), 2, "the fixture yields several hypotheses")

	got := srv.analyze(t, s.failID, "rca")
	assert.Equal(t, int32(1), model.calls.Load())
	assert.Empty(t, got.LLMError)
	assert.Equal(t, narrative{Source: sourceLLM, Provider: "openai", Model: "test-model",
		Summary: "Payments ran out of database connections.", Recommendations: []string{"Raise the pool size."}}, got.Narrative)
	require.Len(t, got.Hypotheses, len(plain.Hypotheses), "h99 is dropped, nothing is added")
	assert.Equal(t, "h2", got.Hypotheses[0].ID)
	assert.Equal(t, "h1", got.Hypotheses[1].ID)
	assert.Equal(t, plain.Hypotheses[1].Confidence, got.Confidence, "confidence stays the analyzers'")
	assert.Equal(t, describe(plain.Hypotheses[1].Hypothesis), got.RootCause)

	waitFor(t, func() bool {
		return llmCalls(t, srv, "openai", "ok") == 1
	})
}

func TestNarrateAnthropic(t *testing.T) {
	t.Setenv(testKeyEnv, "ant-key")
	model := newFakeModel(t, func(w http.ResponseWriter, r *http.Request, body []byte, _ int) {
		assert.Equal(t, "/v1/messages", r.URL.Path)
		assert.Equal(t, "ant-key", r.Header.Get("x-api-key"))
		assert.Equal(t, "2023-06-01", r.Header.Get("anthropic-version"))
		assert.Empty(t, r.Header.Get("Authorization"))
		var req anthropicRequest
		require.NoError(t, json.Unmarshal(body, &req))
		assert.Equal(t, "test-model", req.Model)
		assert.Equal(t, 1024, req.MaxTokens)
		require.Len(t, req.Messages, 1)
		assert.Equal(t, "user", req.Messages[0].Role)
		checkPrompt(t, req.System, req.Messages[0].Content)
		_, _ = io.WriteString(w, anthropicAnswer(`{"summary":"The card charge in payments failed.","ranked_hypotheses":["h1"],"recommendations":[]}`))
	})
	srv, s := fixture(t, withLLM(ProviderAnthropic, model.srv.URL, nil))
	plain := srv.ext.api.deterministicFor(t, s.failID)
	got := srv.analyze(t, s.failID, "rca")
	assert.Empty(t, got.LLMError)
	assert.Equal(t, sourceLLM, got.Narrative.Source)
	assert.Equal(t, "anthropic", got.Narrative.Provider)
	assert.Equal(t, "The card charge in payments failed.", got.Narrative.Summary)
	assert.Equal(t, plain.RootCause, got.RootCause)
	assert.Equal(t, plain.Confidence, got.Confidence)
	assert.Equal(t, plain.Hypotheses, got.Hypotheses)
}

// TestLLMRedirectIsNotFollowed: the key travels in a header (Anthropic's
// x-api-key) that Go's client copies to wherever a redirect points, so a
// redirect is an error, not a second request carrying the key.
func TestLLMRedirectIsNotFollowed(t *testing.T) {
	t.Setenv(testKeyEnv, "ant-key")
	elsewhere := newFakeModel(t, func(w http.ResponseWriter, r *http.Request, _ []byte, _ int) {
		assert.Empty(t, r.Header.Get("x-api-key"), "the key reached the redirect's target")
		_, _ = io.WriteString(w, anthropicAnswer(`{"summary":"s","ranked_hypotheses":["h1"],"recommendations":[]}`))
	})
	target := strings.Replace(elsewhere.srv.URL, "127.0.0.1", "localhost", 1) // another host
	model := newFakeModel(t, func(w http.ResponseWriter, r *http.Request, _ []byte, _ int) {
		http.Redirect(w, r, target+r.URL.Path, http.StatusTemporaryRedirect)
	})
	srv, s := fixture(t, withLLM(ProviderAnthropic, model.srv.URL, nil))
	got := srv.analyze(t, s.failID, "rca")
	assert.Equal(t, int32(1), model.calls.Load())
	assert.Zero(t, elsewhere.calls.Load(), "the redirect was followed")
	assert.True(t, strings.HasPrefix(got.LLMError, "error: status 307"), got.LLMError)
	assert.Equal(t, sourceTemplate, got.Narrative.Source)
}

func TestNarrateRetriesAfter429(t *testing.T) {
	t.Setenv(testKeyEnv, "test-key")
	model := newFakeModel(t, func(w http.ResponseWriter, _ *http.Request, _ []byte, call int) {
		if call == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`)
			return
		}
		_, _ = io.WriteString(w, openAIAnswer(`{"summary":"ok after retry","ranked_hypotheses":["h1"],"recommendations":[]}`))
	})
	srv, s := fixture(t, withLLM(ProviderOpenAI, model.srv.URL, nil))
	fastRetries(srv)
	got := srv.analyze(t, s.failID, "rca")
	assert.Equal(t, int32(2), model.calls.Load())
	assert.Empty(t, got.LLMError)
	assert.Equal(t, "ok after retry", got.Narrative.Summary)
}

func TestNarrateFallsBack(t *testing.T) {
	tests := []struct {
		name      string
		provider  Provider
		adjust    func(*LLMConfig)
		handle    func(w http.ResponseWriter, r *http.Request, call int)
		calls     int32
		wantError string
		outcome   string
	}{
		{
			name: "timeout", provider: ProviderOpenAI,
			adjust: func(l *LLMConfig) { l.Timeout = 100 * time.Millisecond; l.MaxRetries = 0 },
			handle: func(_ http.ResponseWriter, r *http.Request, _ int) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
			calls: 1, wantError: "timeout: ", outcome: "timeout",
		},
		{
			name: "server errors exhaust retries", provider: ProviderAnthropic,
			adjust: func(l *LLMConfig) { l.MaxRetries = 2 },
			handle: func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.WriteHeader(529)
				_, _ = io.WriteString(w, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
			},
			calls: 3, wantError: "error: status 529", outcome: "error",
		},
		{
			name: "client error is not retried", provider: ProviderOpenAI,
			handle: func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"error":{"message":"Incorrect API key provided"}}`)
			},
			calls: 1, wantError: "error: status 401", outcome: "error",
		},
		{
			name: "prose instead of JSON", provider: ProviderOpenAI,
			handle: func(w http.ResponseWriter, _ *http.Request, _ int) {
				_, _ = io.WriteString(w, openAIAnswer("The root cause is the gateway, trust me."))
			},
			calls: 1, wantError: "invalid_output: model answer is not the expected JSON object", outcome: "invalid_output",
		},
		{
			name: "wrong shape", provider: ProviderAnthropic,
			handle: func(w http.ResponseWriter, _ *http.Request, _ int) {
				_, _ = io.WriteString(w, anthropicAnswer(`{"summary":"x","ranked_hypotheses":["h1"],"root_cause":"gateway","confidence":1}`))
			},
			calls: 1, wantError: `invalid_output: model answer is not the expected JSON object: json: unknown field "root_cause"`, outcome: "invalid_output",
		},
		{
			name: "only invented ids", provider: ProviderOpenAI,
			handle: func(w http.ResponseWriter, _ *http.Request, _ int) {
				_, _ = io.WriteString(w, openAIAnswer(`{"summary":"gateway did it","ranked_hypotheses":["h99"],"recommendations":[]}`))
			},
			calls: 1, wantError: "invalid_output: model answer ranks none of the given hypotheses", outcome: "invalid_output",
		},
		{
			name: "malformed API response", provider: ProviderOpenAI,
			handle: func(w http.ResponseWriter, _ *http.Request, _ int) {
				_, _ = io.WriteString(w, `{"choices":[]}`)
			},
			calls: 1, wantError: "error: malformed provider response: no choice with content", outcome: "error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(testKeyEnv, "test-key")
			model := newFakeModel(t, func(w http.ResponseWriter, r *http.Request, _ []byte, call int) { tt.handle(w, r, call) })
			srv, s := fixture(t, withLLM(tt.provider, model.srv.URL, tt.adjust))
			fastRetries(srv)
			plain := srv.ext.api.deterministicFor(t, s.failID)

			got := srv.analyze(t, s.failID, "rca")
			assert.Equal(t, tt.calls, model.calls.Load())
			assert.True(t, strings.HasPrefix(got.LLMError, tt.wantError), got.LLMError)
			// The answer is the deterministic one, marked as templated.
			assert.Equal(t, plain.Narrative, got.Narrative)
			assert.Equal(t, plain.Hypotheses, got.Hypotheses)
			assert.Equal(t, plain.RootCause, got.RootCause)
			waitFor(t, func() bool { return llmCalls(t, srv, string(tt.provider), tt.outcome) == 1 })
		})
	}
}

func TestNarratorNeedsKey(t *testing.T) {
	t.Setenv(testKeyEnv, "")
	cfg := defaultLLMConfig()
	cfg.Model, cfg.APIKeyEnv = "m", testKeyEnv
	_, err := newNarrator(&cfg, nil, nil, tracenoop.NewTracerProvider().Tracer(""))
	require.ErrorContains(t, err, "environment variable "+testKeyEnv+" named by api_key_env is empty")
}

func TestNarrateStopsAtShutdown(t *testing.T) {
	t.Setenv(testKeyEnv, "test-key")
	started := make(chan struct{}, 1)
	model := newFakeModel(t, func(_ http.ResponseWriter, r *http.Request, _ []byte, _ int) {
		started <- struct{}{}
		<-r.Context().Done()
	})
	store := openStore(t)
	s := newShop(time.Now())
	s.write(t, store)
	srv := startServer(t, hostWith(store), withLLM(ProviderOpenAI, model.srv.URL, func(l *LLMConfig) { l.Timeout = time.Minute }))
	done := make(chan error, 1)
	go func() {
		req, err := http.NewRequest(http.MethodPost, srv.baseURL+routeAnalyze,
			strings.NewReader(`{"correlation_id":"`+s.failID+`","analysis_type":"rca"}`))
		if err == nil {
			var resp *http.Response
			if resp, err = http.DefaultClient.Do(req); err == nil {
				_ = resp.Body.Close()
			}
		}
		done <- err
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the model was not called")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.Error(t, srv.ext.Shutdown(ctx), "the deadline passes with the request running")
	// Shutdown returned, so the handler and its LLM call are gone; the
	// client sees its connection closed.
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the request outlived Shutdown")
	}
}

// deterministicFor runs the rca analysis without the model, for comparison.
func (a *api) deterministicFor(t *testing.T, id string) *analyzeResponse {
	t.Helper()
	return a.deterministicKind(t, id, analysisRCA)
}

// deterministicKind runs the analysis of the given type without the model.
func (a *api) deterministicKind(t *testing.T, id, kind string) *analyzeResponse {
	t.Helper()
	ctx := context.Background()
	rs, err := readRequest(ctx, a.store, id)
	require.NoError(t, err)
	e := entryOf(rs.spans)
	h, err := readBaseline(ctx, a.store, a.cfg.Baseline, id, e)
	require.NoError(t, err)
	resp := a.deterministic(kind, rs, e, h)
	// Round-trip through JSON like the answer.
	data, err := json.Marshal(resp)
	require.NoError(t, err)
	var out analyzeResponse
	require.NoError(t, json.Unmarshal(data, &out))
	return &out
}

// llmCalls returns the LLM call count with the given attributes.
func llmCalls(t *testing.T, srv *server, provider, outcome string) int64 {
	t.Helper()
	return counterValue(t, srv.telemetry, metadata.MetricLLMCalls,
		attribute.NewSet(attribute.String("gen_ai.provider.name", provider), attribute.String("outcome", outcome)))
}

// TestSlowModelOutlastsWriteTimeout: an answer that takes longer than the
// server's write_timeout (the correlate API's when mounted, 30s by default,
// as long as request_timeout) still reaches the client: the handler extends
// the connection's write deadline to its own request_timeout. Without that,
// the server drops the connection and the client reads no answer at all,
// not even the deterministic one that follows a model's timeout.
func TestSlowModelOutlastsWriteTimeout(t *testing.T) {
	t.Setenv(testKeyEnv, "test-key")
	model := newFakeModel(t, func(w http.ResponseWriter, _ *http.Request, _ []byte, _ int) {
		time.Sleep(700 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, openAIAnswer(`{"summary":"Payments ran out of database connections.","ranked_hypotheses":["h1"],"recommendations":[]}`))
	})
	srv, s := fixture(t, func(cfg *Config) {
		withLLM(ProviderOpenAI, model.srv.URL, nil)(cfg)
		cfg.ServerConfig.WriteTimeout = 300 * time.Millisecond
		cfg.RequestTimeout = 5 * time.Second
	})
	got := srv.analyze(t, s.failID, "rca")
	assert.Empty(t, got.LLMError)
	assert.Equal(t, "Payments ran out of database connections.", got.Narrative.Summary)
}
