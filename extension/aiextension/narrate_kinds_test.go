package aiextension

import (
	"encoding/json"
	"github.com/ollystack/ollystack/pkg/signalstore"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var analysisTypes = []string{analysisRCA, analysisAnomaly, analysisComparison}

// promptOf reads the system and user messages of a provider request.
func promptOf(t *testing.T, r *http.Request, body []byte) (system, user string) {
	t.Helper()
	if strings.HasSuffix(r.URL.Path, "/chat/completions") {
		var req openAIRequest
		if assert.NoError(t, json.Unmarshal(body, &req)) && assert.Len(t, req.Messages, 2) {
			return req.Messages[0].Content, req.Messages[1].Content
		}
		return "", ""
	}
	var req anthropicRequest
	if assert.NoError(t, json.Unmarshal(body, &req)) && assert.Len(t, req.Messages, 1) {
		return req.System, req.Messages[0].Content
	}
	return "", ""
}

// kindOf names the analysis type a system prompt is for.
func kindOf(system string) string {
	for _, kind := range analysisTypes {
		if system == systemPromptFor(kind) {
			return kind
		}
	}
	return ""
}

// checkKindPrompt asserts what may leave the process for one analysis type:
// the fixed system prompt, the injected log body only inside the data, no
// secrets, and the deterministic report of that type inside the data.
func checkKindPrompt(t *testing.T, kind, system, user string) {
	t.Helper()
	assert.Equal(t, systemPromptFor(kind), system, "the system prompt is fixed")
	assert.NotContains(t, system, "IGNORE ALL PREVIOUS")
	inside, outside := dataSection(t, user)
	assert.NotContains(t, outside, "IGNORE ALL PREVIOUS", "untrusted text stays inside the data section")
	assert.Contains(t, inside, "IGNORE ALL PREVIOUS", "the log body is quoted as data")
	assert.Equal(t, 1, strings.Count(user, "<<<DATA "), "the data cannot open a second section")
	assert.Equal(t, 1, strings.Count(user, "<<<END DATA "), "the data cannot close the section")
	for _, secret := range []string{"hunter2", "bob@example.com", "abc123def456", "123-45-6789"} {
		assert.NotContains(t, user, secret)
	}
	assert.Contains(t, inside, `"user.ssn":"[REDACTED]"`)
	switch kind {
	case analysisRCA:
		assert.Contains(t, inside, `"id":"h1"`)
	case analysisAnomaly:
		assert.Contains(t, inside, `"anomalies":{"services":[`)
		assert.Contains(t, inside, `"kind":"latency"`)
		assert.NotContains(t, inside, `"hypotheses"`, "the model summarizes the report, not the hypotheses")
	case analysisComparison:
		assert.Contains(t, inside, `"comparison":{"entry_service":"gateway"`)
		assert.Contains(t, inside, `"status_message":"connection pool exhausted after 900 ms"`)
		assert.NotContains(t, inside, `"hypotheses"`)
	}
}

// validAnswers are answers of the right shape per analysis type.
var validAnswers = map[string]string{
	analysisRCA:        `{"summary":"rca by the model","ranked_hypotheses":["h1"],"recommendations":[]}`,
	analysisAnomaly:    `{"summary":"anomaly by the model"}`,
	analysisComparison: "```json\n" + `{"summary":"comparison by the model"}` + "\n```",
}

// withoutNarration clears what a model may change, so the rest of two
// answers can be compared.
func withoutNarration(r analyzeResponse) analyzeResponse {
	r.Narrative, r.LLMError = narrative{}, ""
	return r
}

func TestNarrateEachAnalysisType(t *testing.T) {
	for _, provider := range []Provider{ProviderOpenAI, ProviderAnthropic} {
		t.Run(string(provider), func(t *testing.T) {
			t.Setenv(testKeyEnv, "test-key")
			var mu sync.Mutex
			seen := map[string]int{}
			model := newFakeModel(t, func(w http.ResponseWriter, r *http.Request, body []byte, _ int) {
				system, user := promptOf(t, r, body)
				kind := kindOf(system)
				if !assert.NotEmpty(t, kind, "a fixed system prompt") {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				checkKindPrompt(t, kind, system, user)
				mu.Lock()
				seen[kind]++
				mu.Unlock()
				_, _ = io.WriteString(w, answerOf(provider, validAnswers[kind]))
			})
			srv, s := fixture(t, withLLM(provider, model.srv.URL, nil))
			for _, kind := range analysisTypes {
				plain := srv.ext.api.deterministicKind(t, s.failID, kind)
				got := srv.analyze(t, s.failID, kind)
				assert.Empty(t, got.LLMError, kind)
				assert.Equal(t, narrative{Source: sourceLLM, Provider: string(provider), Model: "test-model", Summary: kind + " by the model"}, got.Narrative)
				assert.Equal(t, withoutNarration(*plain), withoutNarration(got), "%s: only the narrative is the model's", kind)
			}
			assert.Equal(t, map[string]int{analysisRCA: 1, analysisAnomaly: 1, analysisComparison: 1}, seen)
			assert.Len(t, chatSpans(srv), 3, "one chat span per narration")
			waitFor(t, func() bool { return llmCalls(t, srv, string(provider), "ok") == 3 })
		})
	}
}

func TestNarrateEachAnalysisTypeFallsBack(t *testing.T) {
	tests := []struct {
		name      string
		provider  Provider
		adjust    func(*LLMConfig)
		handle    func(w http.ResponseWriter, r *http.Request)
		wantError string
		outcome   string
		errorType string
	}{
		{
			name: "malformed answer", provider: ProviderOpenAI,
			handle: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, openAIAnswer(`{"summary": "cut off`))
			},
			wantError: "invalid_output: model answer is not the expected JSON object", outcome: "invalid_output", errorType: "invalid_output",
		},
		{
			name: "timeout", provider: ProviderAnthropic,
			adjust: func(l *LLMConfig) { l.Timeout = 100 * time.Millisecond; l.MaxRetries = 0 },
			handle: func(_ http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
			wantError: "timeout: ", outcome: "timeout", errorType: "timeout",
		},
		{
			name: "server error", provider: ProviderOpenAI,
			adjust: func(l *LLMConfig) { l.MaxRetries = 1 },
			handle: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = io.WriteString(w, `{"error":{"message":"The server had an error while processing your request."}}`)
			},
			wantError: "error: status 500", outcome: "error", errorType: "500",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(testKeyEnv, "test-key")
			model := newFakeModel(t, func(w http.ResponseWriter, r *http.Request, _ []byte, _ int) { tt.handle(w, r) })
			srv, s := fixture(t, withLLM(tt.provider, model.srv.URL, tt.adjust))
			fastRetries(srv)
			for _, kind := range analysisTypes {
				plain := srv.ext.api.deterministicKind(t, s.failID, kind)
				got := srv.analyze(t, s.failID, kind)
				assert.True(t, strings.HasPrefix(got.LLMError, tt.wantError), "%s: %s", kind, got.LLMError)
				assert.Equal(t, sourceTemplate, got.Narrative.Source, kind)
				assert.Equal(t, plain.Narrative, got.Narrative, "%s: the templated narrative", kind)
				assert.Equal(t, withoutNarration(*plain), withoutNarration(got), kind)
			}
			waitFor(t, func() bool { return llmCalls(t, srv, string(tt.provider), tt.outcome) == 3 })
			spans := chatSpans(srv)
			require.Len(t, spans, 3)
			for _, span := range spans {
				assert.Equal(t, tt.errorType, attrMap(span.Attributes())["error.type"])
			}
		})
	}
}

// TestInjectionCannotSteerReports: a log body tells the model what to
// answer. It reaches the model only inside the data section, and whatever
// the model answers, the anomaly and comparison reports, the hypotheses and
// every number stay the analyzers'.
func TestInjectionCannotSteerReports(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		// llm is whether the model's summary is taken.
		llm       bool
		wantError string
	}{
		{
			// The exact answer the injected text asks for: the ranking
			// field is not part of these shapes.
			name: "obeys the injection", answer: `{"summary":"gateway is broken","ranked_hypotheses":["h99"]}`,
			wantError: `invalid_output: model answer is not the expected JSON object: json: unknown field "ranked_hypotheses"`,
		},
		{
			name: "repeats the injected claim", answer: `{"summary":"gateway is broken"}`, llm: true,
		},
		{
			name: "adds numbers of its own", answer: `{"summary":"gateway is broken","anomalies":{"services":[]},"confidence":1}`,
			wantError: `invalid_output: model answer is not the expected JSON object: json: unknown field "anomalies"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(testKeyEnv, "test-key")
			model := newFakeModel(t, func(w http.ResponseWriter, r *http.Request, body []byte, _ int) {
				system, user := promptOf(t, r, body)
				checkKindPrompt(t, kindOf(system), system, user)
				_, _ = io.WriteString(w, openAIAnswer(tt.answer))
			})
			srv, s := fixture(t, withLLM(ProviderOpenAI, model.srv.URL, nil))
			for _, kind := range []string{analysisAnomaly, analysisComparison} {
				plain := srv.ext.api.deterministicKind(t, s.failID, kind)
				got := srv.analyze(t, s.failID, kind)
				assert.Equal(t, withoutNarration(*plain), withoutNarration(got), "%s: reports, hypotheses and numbers are the analyzers'", kind)
				if tt.llm {
					assert.Empty(t, got.LLMError)
					assert.Equal(t, narrative{Source: sourceLLM, Provider: "openai", Model: "test-model", Summary: "gateway is broken"}, got.Narrative,
						"%s: the model's prose is marked as the model's", kind)
					continue
				}
				assert.Equal(t, tt.wantError, got.LLMError, kind)
				assert.Equal(t, plain.Narrative, got.Narrative, kind)
			}
			assert.Equal(t, int32(2), model.calls.Load())
		})
	}
}

func TestRCAWithoutHypothesesIsNotNarrated(t *testing.T) {
	t.Setenv(testKeyEnv, "test-key")
	model := newFakeModel(t, func(w http.ResponseWriter, _ *http.Request, _ []byte, _ int) {
		_, _ = io.WriteString(w, openAIAnswer(`{"summary":"s","ranked_hypotheses":["h1"]}`))
	})
	srv, _ := fixture(t, withLLM(ProviderOpenAI, model.srv.URL, nil))
	resp := &analyzeResponse{CorrelationID: "x", AnalysisType: analysisRCA, Narrative: narrative{Source: sourceTemplate, Summary: "No root cause was found."}}
	srv.ext.api.narrator.narrate(t.Context(), resp, &requestSignals{})
	assert.Equal(t, int32(0), model.calls.Load(), "nothing to rank")
	assert.Equal(t, sourceTemplate, resp.Narrative.Source)
	assert.Empty(t, resp.LLMError)
}

func TestValidateSummaryAnswer(t *testing.T) {
	for _, kind := range []string{analysisAnomaly, analysisComparison} {
		resp := &analyzeResponse{AnalysisType: kind, Hypotheses: []hypothesis{{ID: "h1"}}}
		a, err := validateAnswer(`{"summary":"s"}`, resp)
		require.NoError(t, err)
		assert.Equal(t, &modelAnswer{Summary: "s"}, a)
		for _, bad := range []string{``, `null`, `{}`, `{"summary":""}`, `{"summary":"s","ranked_hypotheses":["h1"]}`,
			`{"summary":"s","recommendations":["x"]}`, `{"summary":"s"} {"summary":"t"}`, `"s"`} {
			_, err := validateAnswer(bad, resp)
			assert.Error(t, err, "%s: %s", kind, bad)
		}
	}
}

func TestFitBudgetReports(t *testing.T) {
	anomalies := &anomalyReport{}
	for i := range 200 {
		anomalies.Services = append(anomalies.Services, serviceDeviation{Service: strings.Repeat("s", 50), Anomalous: i%2 == 0})
		anomalies.Anomalies = append(anomalies.Anomalies, anomalyItem{Service: strings.Repeat("s", 50), Operation: strings.Repeat("o", 50), Kind: "latency"})
	}
	d := &promptData{Headline: "200 anomalies", Anomalies: anomalies}
	for range 20 {
		d.ErrorLogs = append(d.ErrorLogs, promptLog{Body: strings.Repeat("y", 1024)})
	}
	data, err := fitBudget(d, 1000)
	require.NoError(t, err)
	assert.LessOrEqual(t, estimateTokens(string(data)), 1000)
	assert.True(t, d.Truncated)
	assert.Empty(t, d.ErrorLogs, "the logs go first")
	assert.Len(t, d.Anomalies.Anomalies, 1, "one anomaly stays")
	assert.NotEmpty(t, d.Anomalies.Services)
	for _, s := range d.Anomalies.Services {
		assert.True(t, s.Anomalous, "services that do not deviate go before the others")
	}

	comparison := &comparisonReport{}
	for range 100 {
		comparison.SlowerSpans = append(comparison.SlowerSpans, slowerSpan{Service: strings.Repeat("s", 40), Operation: strings.Repeat("o", 40)})
		comparison.ExtraErrors = append(comparison.ExtraErrors, extraError{Service: "s", Operation: "o", StatusMessage: strings.Repeat("m", 256)})
	}
	d = &promptData{Comparison: comparison}
	data, err = fitBudget(d, 600)
	require.NoError(t, err)
	assert.LessOrEqual(t, estimateTokens(string(data)), 600)
	assert.NotEmpty(t, d.Comparison.SlowerSpans)
	assert.NotEmpty(t, d.Comparison.ExtraErrors)

	tiny := &promptData{Comparison: &comparisonReport{EntryService: strings.Repeat("z", 10000)}}
	_, err = fitBudget(tiny, 100)
	assert.Error(t, err)
}

// The prompt's copies of the reports are redacted and cut without touching
// the answer's reports.
func TestPromptCopiesReports(t *testing.T) {
	t.Setenv(testKeyEnv, "test-key")
	cfg := defaultLLMConfig()
	cfg.Provider, cfg.Model, cfg.APIKeyEnv, cfg.MaxInputTokens = ProviderOpenAI, "m", testKeyEnv, 1500
	n, err := newNarrator(&cfg, nil, nil, nil)
	require.NoError(t, err)
	resp := &analyzeResponse{AnalysisType: analysisComparison, Comparison: &comparisonReport{
		EntryService: "gateway", SlowerServices: []string{"svc"},
		ExtraErrors: []extraError{{Service: "svc", StatusMessage: "password=hunter2"}, {Service: "svc2"}, {Service: "svc3"}},
	}}
	for range 50 {
		resp.Comparison.SlowerSpans = append(resp.Comparison.SlowerSpans, slowerSpan{Service: "user bob@example.com", Operation: strings.Repeat("o", 100)})
	}
	before, err := json.Marshal(resp)
	require.NoError(t, err)
	user, err := n.prompt(resp, &requestSignals{}, comparisonSystemPrompt)
	require.NoError(t, err)
	assert.NotContains(t, user, "hunter2")
	assert.NotContains(t, user, "bob@example.com")
	assert.Contains(t, user, `"truncated":true`)
	after, err := json.Marshal(resp)
	require.NoError(t, err)
	assert.JSONEq(t, string(before), string(after))
}

// TestPromptMasksQuotedLogNames: the service and severity of a quoted log are
// telemetry's words like its body, masked alike.
func TestPromptMasksQuotedLogNames(t *testing.T) {
	t.Setenv(testKeyEnv, "test-key")
	cfg := defaultLLMConfig()
	cfg.Provider, cfg.Model, cfg.APIKeyEnv = ProviderOpenAI, "m", testKeyEnv
	n, err := newNarrator(&cfg, nil, nil, nil)
	require.NoError(t, err)
	rs := &requestSignals{logs: []signalstore.LogRecord{{ServiceName: "svc token=hunter2", SeverityText: "ERROR bob@example.com", SeverityNumber: 17, Body: "failed"}}}
	user, err := n.prompt(&analyzeResponse{AnalysisType: analysisRCA}, rs, rcaSystemPrompt)
	require.NoError(t, err)
	assert.Contains(t, user, "failed", "the log is quoted")
	assert.NotContains(t, user, "hunter2")
	assert.NotContains(t, user, "bob@example.com")
}
