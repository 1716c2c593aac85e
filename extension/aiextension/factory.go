package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/extension"

	"github.com/ollystack/ollystack/extension/aiextension/internal/metadata"
)

// The IDs of the signalstore and correlateapi extensions in the shipped
// configuration.
var (
	defaultStore        = component.MustNewID("signalstore")
	defaultCorrelateAPI = component.MustNewID("correlateapi")
)

// NewFactory returns the factory of the ai extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, createExtension, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = "" // mounted on the correlate API's server
	return &Config{
		ServerConfig:   server,
		CorrelateAPI:   defaultCorrelateAPI,
		Store:          defaultStore,
		RequestTimeout: 30 * time.Second,
		Baseline:       BaselineConfig{Lookback: time.Hour, MaxRequests: 50},
		LLM:            configoptional.Default(defaultLLMConfig()),
		Investigations: InvestigationsConfig{
			MaxConcurrent: 2,
			QueueSize:     100,
			Timeout:       2 * time.Minute,
			Lookback:      15 * time.Minute,
			MaxRequests:   5,
			ServiceLabels: []string{"service", "service_name", "service.name", "job"},
			SLOAlerts:     configoptional.Default(SLOAlertsConfig{PollInterval: 30 * time.Second}),
			Webhook:       configoptional.Default(defaultWebhookConfig()),
			// The collector's exporter defaults (5s growing 1.5× up to 30s,
			// for 5m) suit a chat message too: an outage of a few minutes is
			// bridged, and the message is not hours late.
			WebhookRetry: configretry.NewDefaultBackOffConfig(),
		},
		NLQ: NLQConfig{MaxRows: 1000, MaxWindow: 7 * 24 * time.Hour, CatalogRefresh: time.Minute},
	}
}

// defaultLLMConfig fills the fields an `llm:` block leaves out; the block
// itself stays disabled unless present in the configuration.
func defaultLLMConfig() LLMConfig {
	return LLMConfig{
		Provider:       ProviderOpenAI,
		Timeout:        20 * time.Second,
		MaxRetries:     2,
		MaxTokens:      1024,
		MaxInputTokens: 6000,
	}
}

// defaultWebhookConfig fills what a `webhook:` block leaves out.
func defaultWebhookConfig() confighttp.ClientConfig {
	c := confighttp.NewDefaultClientConfig()
	c.Timeout = 10 * time.Second
	return c
}

func createExtension(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newAIExtension(cfg.(*Config), set)
}
