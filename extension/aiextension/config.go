package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
)

// Config configures the AI extension.
type Config struct {
	// ServerConfig is the extension's own HTTP server. Mounting the routes on
	// the correlate API's server is a later step.
	ServerConfig confighttp.ServerConfig `mapstructure:",squash"`
	// Store names the signalstore extension the analyses read from.
	Store component.ID `mapstructure:"store"`
	// RequestTimeout bounds one analyze request: store reads, analysis and
	// the LLM call together.
	RequestTimeout time.Duration `mapstructure:"request_timeout"`
	// Baseline bounds how much healthy history one analysis reads.
	Baseline BaselineConfig `mapstructure:"baseline"`
	// LLM enables narration by a model; absent means deterministic only.
	LLM configoptional.Optional[LLMConfig] `mapstructure:"llm"`
}

// BaselineConfig bounds the healthy history read for one analysis.
type BaselineConfig struct {
	// Lookback is how far before the request healthy requests are taken from.
	Lookback time.Duration `mapstructure:"lookback"`
	// MaxRequests caps the healthy requests (correlation ids) read.
	MaxRequests int `mapstructure:"max_requests"`
}

// Provider names an LLM API.
type Provider string

// Supported providers.
const (
	// ProviderOpenAI is any OpenAI-compatible chat completions API (OpenAI,
	// Ollama, vLLM, LM Studio).
	ProviderOpenAI Provider = "openai"
	// ProviderAnthropic is the Anthropic Messages API.
	ProviderAnthropic Provider = "anthropic"
)

// LLMConfig configures the narrating model.
type LLMConfig struct {
	Provider Provider `mapstructure:"provider"`
	// BaseURL is the API root, e.g. https://api.openai.com/v1 or
	// http://localhost:11434/v1; empty takes the provider's public API.
	BaseURL string `mapstructure:"base_url"`
	Model   string `mapstructure:"model"`
	// APIKeyEnv names the environment variable holding the key, so the key
	// itself never sits in a config file. Empty sends no key (local models).
	APIKeyEnv string `mapstructure:"api_key_env"`
	// Timeout bounds one HTTP attempt.
	Timeout time.Duration `mapstructure:"timeout"`
	// MaxRetries is the number of retries after a 429, a 5xx or a transport
	// error, with exponential backoff.
	MaxRetries int `mapstructure:"max_retries"`
	// MaxTokens caps the model's answer.
	MaxTokens int `mapstructure:"max_tokens"`
	// MaxInputTokens is the prompt budget; evidence beyond it is cut.
	MaxInputTokens int `mapstructure:"max_input_tokens"`
	// RedactAttributes are attribute names whose values never leave the
	// process (in addition to the built-in secret patterns).
	RedactAttributes []string `mapstructure:"redact_attributes"`
}

var _ confmap.Validator = (*Config)(nil)

// envName is a POSIX environment variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Bounds that keep one analysis within a sane cost.
const (
	maxBaselineRequests = 1_000
	maxLLMRetries       = 10
	maxLLMTokens        = 200_000
)

// Validate reports every problem of the config.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.ServerConfig.NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("endpoint must be set"))
	}
	if cfg.Store.Type().String() == "" {
		errs = append(errs, errors.New("store must name a signalstore extension"))
	}
	if cfg.RequestTimeout <= 0 {
		errs = append(errs, fmt.Errorf("request_timeout %s: must be positive", cfg.RequestTimeout))
	}
	if cfg.Baseline.Lookback <= 0 {
		errs = append(errs, fmt.Errorf("baseline::lookback %s: must be positive", cfg.Baseline.Lookback))
	}
	if cfg.Baseline.MaxRequests < 1 || cfg.Baseline.MaxRequests > maxBaselineRequests {
		errs = append(errs, fmt.Errorf("baseline::max_requests %d: must be between 1 and %d", cfg.Baseline.MaxRequests, maxBaselineRequests))
	}
	if llm := cfg.LLM.Get(); llm != nil {
		errs = append(errs, llm.validate())
	}
	return errors.Join(errs...)
}

func (l *LLMConfig) validate() error {
	var errs []error
	switch l.Provider {
	case ProviderOpenAI, ProviderAnthropic:
	default:
		errs = append(errs, fmt.Errorf("llm::provider %q: must be openai or anthropic", l.Provider))
	}
	if l.BaseURL != "" {
		u, err := url.Parse(l.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("llm::base_url %q: must be an http(s) URL", l.BaseURL))
		} else if u.User != nil {
			errs = append(errs, errors.New("llm::base_url must not carry credentials; use api_key_env"))
		}
	}
	if l.Model == "" {
		errs = append(errs, errors.New("llm::model must be set"))
	}
	if l.APIKeyEnv != "" && !envName.MatchString(l.APIKeyEnv) {
		errs = append(errs, fmt.Errorf("llm::api_key_env %q: must be the name of an environment variable, not a key", l.APIKeyEnv))
	}
	if l.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("llm::timeout %s: must be positive", l.Timeout))
	}
	if l.MaxRetries < 0 || l.MaxRetries > maxLLMRetries {
		errs = append(errs, fmt.Errorf("llm::max_retries %d: must be between 0 and %d", l.MaxRetries, maxLLMRetries))
	}
	if l.MaxTokens < 1 || l.MaxTokens > maxLLMTokens {
		errs = append(errs, fmt.Errorf("llm::max_tokens %d: must be between 1 and %d", l.MaxTokens, maxLLMTokens))
	}
	if l.MaxInputTokens < 500 || l.MaxInputTokens > maxLLMTokens {
		errs = append(errs, fmt.Errorf("llm::max_input_tokens %d: must be between 500 and %d", l.MaxInputTokens, maxLLMTokens))
	}
	for _, a := range l.RedactAttributes {
		if a == "" {
			errs = append(errs, errors.New("llm::redact_attributes: names must not be empty"))
			break
		}
	}
	return errors.Join(errs...)
}
