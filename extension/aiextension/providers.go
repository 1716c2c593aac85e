package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// Public API roots used when base_url is empty.
const (
	defaultOpenAIBaseURL    = "https://api.openai.com/v1"
	defaultAnthropicBaseURL = "https://api.anthropic.com"
	// anthropicVersion is the Messages API version the request shape
	// follows.
	anthropicVersion = "2023-06-01"
	// temperature is sent to both APIs: the narration should be as
	// reproducible as the model allows.
	temperature = 0.0
)

// openAIProvider speaks the chat completions API of OpenAI and of the
// servers compatible with it (Ollama, vLLM, LM Studio): POST
// {base_url}/chat/completions with a bearer key.
type openAIProvider struct {
	baseURL, model, apiKey string
	maxTokens              int
}

type openAIMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type openAIRequest struct {
	Model       string          `json:"model"`
	Messages    []openAIMessage `json:"messages"`
	MaxTokens   int             `json:"max_tokens"`
	Temperature float64         `json:"temperature"`
}

type openAIResponse struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

func (p *openAIProvider) name() string { return string(ProviderOpenAI) }

func (p *openAIProvider) newRequest(ctx context.Context, system, user string) (*http.Request, error) {
	req, err := jsonRequest(ctx, strings.TrimRight(p.baseURL, "/")+"/chat/completions", openAIRequest{
		Model:       p.model,
		Messages:    []openAIMessage{{Role: "system", Content: system}, {Role: "user", Content: user}},
		MaxTokens:   p.maxTokens,
		Temperature: temperature,
	})
	if err != nil {
		return nil, err
	}
	if p.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+p.apiKey)
	}
	return req, nil
}

func (p *openAIProvider) parse(body []byte) (completion, error) {
	var r openAIResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return completion{}, err
	}
	if len(r.Choices) == 0 || r.Choices[0].Message.Content == nil {
		return completion{}, errors.New("no choice with content")
	}
	out := completion{text: *r.Choices[0].Message.Content, inputTokens: r.Usage.PromptTokens, outputTokens: r.Usage.CompletionTokens,
		responseID: r.ID, responseModel: r.Model}
	for _, c := range r.Choices {
		out.finishReasons = append(out.finishReasons, cmpOr(c.FinishReason, "error"))
	}
	return out, nil
}

// anthropicProvider speaks the Anthropic Messages API: POST
// {base_url}/v1/messages with x-api-key and anthropic-version.
type anthropicProvider struct {
	baseURL, model, apiKey string
	maxTokens              int
}

type anthropicRequest struct {
	Model       string          `json:"model"`
	MaxTokens   int             `json:"max_tokens"`
	System      string          `json:"system"`
	Messages    []openAIMessage `json:"messages"`
	Temperature float64         `json:"temperature"`
}

type anthropicResponse struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Type    string `json:"type"`
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	StopReason string `json:"stop_reason"`
	Usage      struct {
		InputTokens  int `json:"input_tokens"`
		OutputTokens int `json:"output_tokens"`
		// Prompt caching reports the cached part of the input apart from
		// input_tokens.
		CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
		CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	} `json:"usage"`
}

func (p *anthropicProvider) name() string { return string(ProviderAnthropic) }

func (p *anthropicProvider) newRequest(ctx context.Context, system, user string) (*http.Request, error) {
	req, err := jsonRequest(ctx, strings.TrimRight(p.baseURL, "/")+"/v1/messages", anthropicRequest{
		Model:       p.model,
		MaxTokens:   p.maxTokens,
		System:      system,
		Messages:    []openAIMessage{{Role: "user", Content: user}},
		Temperature: temperature,
	})
	if err != nil {
		return nil, err
	}
	if p.apiKey != "" {
		req.Header.Set("x-api-key", p.apiKey)
	}
	req.Header.Set("anthropic-version", anthropicVersion)
	return req, nil
}

func (p *anthropicProvider) parse(body []byte) (completion, error) {
	var r anthropicResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return completion{}, err
	}
	var text strings.Builder
	for _, c := range r.Content {
		if c.Type == "text" {
			text.WriteString(c.Text)
		}
	}
	if text.Len() == 0 {
		return completion{}, errors.New("no text content")
	}
	out := completion{text: text.String(), outputTokens: r.Usage.OutputTokens, responseID: r.ID, responseModel: r.Model,
		inputTokens: r.Usage.InputTokens + r.Usage.CacheCreationInputTokens + r.Usage.CacheReadInputTokens}
	if r.StopReason != "" {
		out.finishReasons = []string{r.StopReason}
	}
	return out, nil
}
