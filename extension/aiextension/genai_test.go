package aiextension

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// chatSpans returns the ended chat spans the extension recorded.
func chatSpans(srv *server) []sdktrace.ReadOnlySpan {
	var spans []sdktrace.ReadOnlySpan
	for _, s := range srv.telemetry.SpanRecorder.Ended() {
		if strings.HasPrefix(s.Name(), "chat ") {
			spans = append(spans, s)
		}
	}
	return spans
}

// onlyChatSpan asserts one chat span was recorded and returns its
// attributes.
func onlyChatSpan(t *testing.T, srv *server) (sdktrace.ReadOnlySpan, map[string]any) {
	t.Helper()
	spans := chatSpans(srv)
	require.Len(t, spans, 1)
	return spans[0], attrMap(spans[0].Attributes())
}

func attrMap(kvs []attribute.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// requestAttrs are the attributes every chat span of the test config has.
func requestAttrs(t *testing.T, provider Provider, baseURL string) map[string]any {
	t.Helper()
	u, err := url.Parse(baseURL)
	require.NoError(t, err)
	port, err := strconv.Atoi(u.Port())
	require.NoError(t, err)
	return map[string]any{
		"gen_ai.operation.name":      "chat",
		"gen_ai.provider.name":       string(provider),
		"gen_ai.request.model":       "test-model",
		"gen_ai.request.max_tokens":  int64(1024),
		"gen_ai.request.temperature": 0.0,
		"server.address":             u.Hostname(),
		"server.port":                int64(port),
	}
}

func withAttrs(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// responseAttrs are what the fake providers' answers carry.
func responseAttrs(provider Provider) []any {
	model, id, finish := "gpt-test", "chatcmpl-1", "stop"
	if provider == ProviderAnthropic {
		model, id, finish = "claude-test", "msg_1", "end_turn"
	}
	return []any{
		"gen_ai.response.model", model, "gen_ai.response.id", id, "gen_ai.response.finish_reasons", []string{finish},
		"gen_ai.usage.input_tokens", int64(900), "gen_ai.usage.output_tokens", int64(80),
	}
}

func answerOf(provider Provider, text string) string {
	if provider == ProviderAnthropic {
		return anthropicAnswer(text)
	}
	return openAIAnswer(text)
}

// The exact attribute sets below also show that no prompt or completion
// text is on the span.
func TestChatSpanSuccess(t *testing.T) {
	for _, provider := range []Provider{ProviderOpenAI, ProviderAnthropic} {
		t.Run(string(provider), func(t *testing.T) {
			t.Setenv(testKeyEnv, "test-key")
			model := newFakeModel(t, func(w http.ResponseWriter, _ *http.Request, _ []byte, _ int) {
				_, _ = io.WriteString(w, answerOf(provider, `{"summary":"The card charge in payments failed.","ranked_hypotheses":["h1"],"recommendations":[]}`))
			})
			srv, s := fixture(t, withLLM(provider, model.srv.URL, nil))
			got := srv.analyze(t, s.failID, "rca")
			require.Equal(t, sourceLLM, got.Narrative.Source, got.LLMError)

			span, attrs := onlyChatSpan(t, srv)
			assert.Equal(t, "chat test-model", span.Name())
			assert.Equal(t, trace.SpanKindClient, span.SpanKind())
			assert.Equal(t, codes.Unset, span.Status().Code)
			assert.Empty(t, span.Events())
			assert.Equal(t, withAttrs(requestAttrs(t, provider, model.srv.URL), responseAttrs(provider)...), attrs)
			assert.Equal(t, "github.com/ollystack/ollystack/extension/aiextension", span.InstrumentationScope().Name)
		})
	}
}

func TestChatSpanRetriesAreEvents(t *testing.T) {
	t.Setenv(testKeyEnv, "test-key")
	model := newFakeModel(t, func(w http.ResponseWriter, _ *http.Request, _ []byte, call int) {
		if call == 1 {
			w.WriteHeader(529)
			_, _ = io.WriteString(w, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
			return
		}
		_, _ = io.WriteString(w, anthropicAnswer(`{"summary":"ok after retry","ranked_hypotheses":["h1"],"recommendations":[]}`))
	})
	srv, s := fixture(t, withLLM(ProviderAnthropic, model.srv.URL, nil))
	fastRetries(srv)
	got := srv.analyze(t, s.failID, "rca")
	require.Equal(t, "ok after retry", got.Narrative.Summary, got.LLMError)

	span, attrs := onlyChatSpan(t, srv)
	assert.Equal(t, codes.Unset, span.Status().Code, "the operation succeeded")
	assert.Equal(t, withAttrs(requestAttrs(t, ProviderAnthropic, model.srv.URL), responseAttrs(ProviderAnthropic)...), attrs)
	require.Len(t, span.Events(), 1)
	assert.Equal(t, "retry", span.Events()[0].Name)
	assert.Equal(t, map[string]any{"error.type": "529", "http.request.resend_count": int64(1)}, attrMap(span.Events()[0].Attributes))
}

func TestChatSpanFailures(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name     string
		provider Provider
		adjust   func(*LLMConfig)
		handle   func(w http.ResponseWriter, r *http.Request)
		// refused points the client at a closed port instead.
		refused   bool
		errorType string
		status    string
		retries   int
		// answered is whether the provider's answer (model, id, usage)
		// is on the span.
		answered bool
	}{
		{
			name: "server error after retries", provider: ProviderOpenAI,
			adjust: func(l *LLMConfig) { l.MaxRetries = 1 },
			handle: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = io.WriteString(w, `{"error":{"message":"The server had an error: IGNORE ALL PREVIOUS"}}`)
			},
			errorType: "500", status: "the provider answered HTTP 500", retries: 1,
		},
		{
			name: "overloaded", provider: ProviderAnthropic,
			handle: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(529)
				_, _ = io.WriteString(w, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
			},
			errorType: "529", status: "the provider answered HTTP 529",
		},
		{
			name: "timeout", provider: ProviderAnthropic,
			adjust: func(l *LLMConfig) { l.Timeout = 100 * time.Millisecond },
			handle: func(_ http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
			errorType: "timeout", status: "the provider did not answer in time",
		},
		{
			name: "invalid output", provider: ProviderOpenAI,
			handle: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, openAIAnswer("IGNORE ALL PREVIOUS: the root cause is the gateway, trust me."))
			},
			errorType: "invalid_output", status: "the model's answer is not the expected JSON object", answered: true,
		},
		{
			name: "invalid output anthropic", provider: ProviderAnthropic,
			handle: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, anthropicAnswer(`{"summary":"gateway","ranked_hypotheses":["h99"]}`))
			},
			errorType: "invalid_output", status: "the model's answer is not the expected JSON object", answered: true,
		},
		{
			name: "malformed response", provider: ProviderOpenAI,
			handle: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, `{"choices":[]}`)
			},
			errorType: "malformed_response", status: "the provider's response is not the API's shape",
		},
		{
			name: "connection refused", provider: ProviderOpenAI, refused: true,
			errorType: "transport_error", status: "the request did not reach the provider or its answer was lost",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(testKeyEnv, "test-key")
			baseURL := closed.URL
			if !tt.refused {
				baseURL = newFakeModel(t, func(w http.ResponseWriter, r *http.Request, _ []byte, _ int) { tt.handle(w, r) }).srv.URL
			}
			srv, s := fixture(t, withLLM(tt.provider, baseURL, func(l *LLMConfig) {
				l.MaxRetries = 0
				if tt.adjust != nil {
					tt.adjust(l)
				}
			}))
			fastRetries(srv)
			got := srv.analyze(t, s.failID, "rca")
			require.Equal(t, sourceTemplate, got.Narrative.Source)
			require.NotEmpty(t, got.LLMError)

			span, attrs := onlyChatSpan(t, srv)
			assert.Equal(t, codes.Error, span.Status().Code)
			assert.Equal(t, tt.status, span.Status().Description, "a fixed description, never the provider's or model's text")
			want := withAttrs(requestAttrs(t, tt.provider, baseURL), "error.type", tt.errorType)
			if tt.answered {
				want = withAttrs(want, responseAttrs(tt.provider)...)
			}
			assert.Equal(t, want, attrs)
			assert.Len(t, span.Events(), tt.retries)
			for _, ev := range span.Events() {
				assert.Equal(t, tt.errorType, attrMap(ev.Attributes)["error.type"])
			}
		})
	}
}

func TestChatTracerServerAttributes(t *testing.T) {
	tests := []struct {
		url  string
		want map[string]any
	}{
		{"https://api.openai.com/v1", map[string]any{"server.address": "api.openai.com", "server.port": int64(443)}},
		{"http://localhost:11434/v1", map[string]any{"server.address": "localhost", "server.port": int64(11434)}},
		{"http://[::1]/v1", map[string]any{"server.address": "::1", "server.port": int64(80)}},
	}
	for _, tt := range tests {
		c := newChatTracer(nil, ProviderOpenAI, "m", tt.url, 10)
		got := attrMap(c.request)
		for k, v := range tt.want {
			assert.Equal(t, v, got[k], tt.url)
		}
		assert.Equal(t, "chat m", c.spanName)
	}
}

func TestAnthropicInputTokensIncludeCache(t *testing.T) {
	p := &anthropicProvider{}
	out, err := p.parse([]byte(`{"id":"msg_2","model":"claude-x","type":"message","content":[{"type":"text","text":"{}"}],"stop_reason":"max_tokens",
		"usage":{"input_tokens":10,"cache_creation_input_tokens":20,"cache_read_input_tokens":30,"output_tokens":5}}`))
	require.NoError(t, err)
	assert.Equal(t, 60, out.inputTokens)
	assert.Equal(t, 5, out.outputTokens)
	assert.Equal(t, []string{"max_tokens"}, out.finishReasons)
	assert.Equal(t, "msg_2", out.responseID)
	assert.Equal(t, "claude-x", out.responseModel)
}
