package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"

	"github.com/ollystack/ollystack/pkg/analysis/rca"
)

// Config configures the AI extension.
type Config struct {
	// ServerConfig is the extension's own HTTP server, used only when its
	// endpoint is set; by default the routes are mounted on the correlate
	// API's server (CorrelateAPI), sharing its base URL, TLS and auth.
	ServerConfig confighttp.ServerConfig `mapstructure:",squash"`
	// CorrelateAPI names the correlateapi extension whose server serves the
	// routes when endpoint is empty.
	CorrelateAPI component.ID `mapstructure:"correlate_api"`
	// Store names the signalstore extension the analyses read from and the
	// analyses and investigations are kept in.
	Store component.ID `mapstructure:"store"`
	// RequestTimeout bounds one analyze request: store reads, analysis and
	// the LLM call together.
	RequestTimeout time.Duration `mapstructure:"request_timeout"`
	// Baseline bounds how much healthy history one analysis reads.
	Baseline BaselineConfig `mapstructure:"baseline"`
	// LLM enables narration by a model; absent means deterministic only.
	LLM configoptional.Optional[LLMConfig] `mapstructure:"llm"`
	// Investigations run analyses in the background for alerts.
	Investigations InvestigationsConfig `mapstructure:"investigations"`
	// Runbooks are suggested with the hypotheses they match.
	Runbooks []RunbookConfig `mapstructure:"runbooks"`
	// NLQ configures natural-language questions (POST /api/v1/ai/nlq).
	NLQ NLQConfig `mapstructure:"nlq"`
}

// NLQConfig bounds natural-language questions.
type NLQConfig struct {
	// MaxRows caps the rows of one answer.
	MaxRows int `mapstructure:"max_rows"`
	// MaxWindow caps the time range one question reads.
	MaxWindow time.Duration `mapstructure:"max_window"`
	// CatalogRefresh is how often the service and operation names that
	// questions are matched against are read again from the store.
	CatalogRefresh time.Duration `mapstructure:"catalog_refresh"`
	// ShareOperations sends operation (span) names to the model besides
	// the query schema and service names. Off: span names can carry data.
	ShareOperations bool `mapstructure:"share_operations"`
}

// InvestigationsConfig bounds the background investigations.
type InvestigationsConfig struct {
	// MaxConcurrent is how many investigations run at once.
	MaxConcurrent int `mapstructure:"max_concurrent"`
	// QueueSize is how many may wait; past it new ones are refused (503).
	QueueSize int `mapstructure:"queue_size"`
	// Timeout bounds one investigation.
	Timeout time.Duration `mapstructure:"timeout"`
	// Lookback is the window examined before an alert's start (or before
	// now) when the trigger gives no window.
	Lookback time.Duration `mapstructure:"lookback"`
	// MaxRequests caps the failing requests analyzed in one investigation.
	MaxRequests int `mapstructure:"max_requests"`
	// ServiceLabels are the Alertmanager labels naming the service, first
	// match wins.
	ServiceLabels []string `mapstructure:"service_labels"`
	// SLOAlerts, when present, starts an investigation for every firing
	// alert the slometrics connector wrote to the store.
	SLOAlerts configoptional.Optional[SLOAlertsConfig] `mapstructure:"slo_alerts"`
	// Webhook, when present, receives a Slack-compatible message when an
	// investigation ends.
	Webhook configoptional.Optional[confighttp.ClientConfig] `mapstructure:"webhook"`
	// WebhookRetry retries a webhook message after a network error, 408,
	// 429 or 5xx. Its Validate is called by confmap.Validate, which walks
	// nested structs and prefixes errors with investigations::webhook_retry.
	WebhookRetry configretry.BackOffConfig `mapstructure:"webhook_retry"`
	// LinkBaseURL is the API's public base URL, used for links in webhook
	// messages (e.g. https://ollystack.example.com); empty sends ids only.
	LinkBaseURL string `mapstructure:"link_base_url"`
}

// SLOAlertsConfig polls the store for the slometrics connector's alert logs.
type SLOAlertsConfig struct {
	// PollInterval is how often the store is read for new firing alerts.
	PollInterval time.Duration `mapstructure:"poll_interval"`
}

// RunbookConfig is one runbook: steps suggested for the hypotheses it
// matches.
type RunbookConfig struct {
	Name string `mapstructure:"name"`
	// Kinds are hypothesis kinds (error_origin, latency_outlier,
	// dependency_failure, resource_saturation, version_change,
	// new_log_pattern); empty matches every kind.
	Kinds []string `mapstructure:"kinds"`
	// Services match the hypothesis' service; empty matches every service.
	Services []string `mapstructure:"services"`
	// Steps are shown in order.
	Steps []string `mapstructure:"steps"`
	// URL links to the full runbook.
	URL string `mapstructure:"url"`
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
	if cfg.ServerConfig.NetAddr.Endpoint == "" && cfg.CorrelateAPI.Type().String() == "" {
		errs = append(errs, errors.New("either endpoint or correlate_api must be set"))
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
	errs = append(errs, cfg.Investigations.validate(), cfg.NLQ.validate())
	for i, rb := range cfg.Runbooks {
		errs = append(errs, rb.validate(i))
	}
	return errors.Join(errs...)
}

// Bounds of the investigations config.
const (
	maxConcurrentInvestigations = 64
	maxInvestigationQueue       = 10_000
	maxInvestigationRequests    = 50
)

func (c *InvestigationsConfig) validate() error {
	var errs []error
	if c.MaxConcurrent < 1 || c.MaxConcurrent > maxConcurrentInvestigations {
		errs = append(errs, fmt.Errorf("investigations::max_concurrent %d: must be between 1 and %d", c.MaxConcurrent, maxConcurrentInvestigations))
	}
	if c.QueueSize < 1 || c.QueueSize > maxInvestigationQueue {
		errs = append(errs, fmt.Errorf("investigations::queue_size %d: must be between 1 and %d", c.QueueSize, maxInvestigationQueue))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("investigations::timeout %s: must be positive", c.Timeout))
	}
	if c.Lookback <= 0 {
		errs = append(errs, fmt.Errorf("investigations::lookback %s: must be positive", c.Lookback))
	}
	if c.MaxRequests < 1 || c.MaxRequests > maxInvestigationRequests {
		errs = append(errs, fmt.Errorf("investigations::max_requests %d: must be between 1 and %d", c.MaxRequests, maxInvestigationRequests))
	}
	if slices.Contains(c.ServiceLabels, "") {
		errs = append(errs, errors.New("investigations::service_labels: names must not be empty"))
	}
	if a := c.SLOAlerts.Get(); a != nil && (a.PollInterval < time.Second || a.PollInterval > maxSLOAlertPollInterval) {
		errs = append(errs, fmt.Errorf("investigations::slo_alerts::poll_interval %s: must be between 1s and %s: the first poll reads four intervals back, and a poll reads at most %s",
			a.PollInterval, maxSLOAlertPollInterval, maxSLOAlertWindow))
	}
	if w := c.Webhook.Get(); w != nil {
		if err := checkHTTPURL(w.Endpoint); err != nil {
			errs = append(errs, fmt.Errorf("investigations::webhook::endpoint: %w", err))
		}
	}
	if c.LinkBaseURL != "" {
		if err := checkHTTPURL(c.LinkBaseURL); err != nil {
			errs = append(errs, fmt.Errorf("investigations::link_base_url: %w", err))
		} else if len(c.LinkBaseURL) > maxLinkBaseURL {
			errs = append(errs, fmt.Errorf("investigations::link_base_url: at most %d bytes, got %d", maxLinkBaseURL, len(c.LinkBaseURL)))
		}
	}
	return errors.Join(errs...)
}

// Bounds of the nlq config.
const (
	maxNLQRows   = 10_000
	maxNLQWindow = 31 * 24 * time.Hour
)

func (c *NLQConfig) validate() error {
	var errs []error
	if c.MaxRows < 1 || c.MaxRows > maxNLQRows {
		errs = append(errs, fmt.Errorf("nlq::max_rows %d: must be between 1 and %d", c.MaxRows, maxNLQRows))
	}
	if c.MaxWindow < time.Minute || c.MaxWindow > maxNLQWindow {
		errs = append(errs, fmt.Errorf("nlq::max_window %s: must be between 1m and %s", c.MaxWindow, maxNLQWindow))
	}
	if c.CatalogRefresh < time.Second {
		errs = append(errs, fmt.Errorf("nlq::catalog_refresh %s: must be at least 1s", c.CatalogRefresh))
	}
	return errors.Join(errs...)
}

func (rb *RunbookConfig) validate(i int) error {
	var errs []error
	where := fmt.Sprintf("runbooks[%d]", i)
	if rb.Name == "" {
		errs = append(errs, fmt.Errorf("%s::name must be set", where))
	} else {
		where = fmt.Sprintf("runbooks[%d] (%s)", i, rb.Name)
	}
	for _, k := range rb.Kinds {
		if !slices.Contains(hypothesisKinds, rca.Kind(k)) {
			errs = append(errs, fmt.Errorf("%s::kinds: unknown kind %q (known: %v)", where, k, hypothesisKinds))
		}
	}
	if len(rb.Steps) == 0 && rb.URL == "" {
		errs = append(errs, fmt.Errorf("%s: needs steps or a url", where))
	}
	if rb.URL != "" {
		if err := checkHTTPURL(rb.URL); err != nil {
			errs = append(errs, fmt.Errorf("%s::url: %w", where, err))
		}
	}
	return errors.Join(errs...)
}

// hypothesisKinds are the kinds runbooks may name.
var hypothesisKinds = []rca.Kind{
	rca.KindErrorOrigin, rca.KindLatencyOutlier, rca.KindDependencyFailure,
	rca.KindResourceSaturation, rca.KindVersionChange, rca.KindNewLogPattern,
}

func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q must be an http(s) URL", raw)
	}
	return nil
}

func (l *LLMConfig) validate() error {
	var errs []error
	switch l.Provider {
	case ProviderOpenAI, ProviderAnthropic:
	default:
		errs = append(errs, fmt.Errorf("llm::provider %q: must be openai or anthropic", l.Provider))
	}
	if l.BaseURL != "" {
		if err := checkHTTPURL(l.BaseURL); err != nil {
			errs = append(errs, fmt.Errorf("llm::base_url: %w", err))
		} else if u, _ := url.Parse(l.BaseURL); u.User != nil {
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
