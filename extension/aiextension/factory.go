package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension"

	"github.com/ollystack/ollystack/extension/aiextension/internal/metadata"
)

// defaultEndpoint listens on loopback only; exposing the API on every
// interface is an operator's explicit choice. 8081 sits next to the correlate
// API's 8080 until the routes are mounted on its server.
const defaultEndpoint = "localhost:8081"

// defaultStore is the ID of the signalstore extension in the shipped
// configuration.
var defaultStore = component.MustNewID("signalstore")

// NewFactory returns the factory of the ai extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, createExtension, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = defaultEndpoint
	return &Config{
		ServerConfig:   server,
		Store:          defaultStore,
		RequestTimeout: 30 * time.Second,
		Baseline:       BaselineConfig{Lookback: time.Hour, MaxRequests: 50},
		LLM:            configoptional.Default(defaultLLMConfig()),
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

func createExtension(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newAIExtension(cfg.(*Config), set)
}
