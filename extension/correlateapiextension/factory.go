package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/extension"

	"github.com/ollystack/ollystack/extension/correlateapiextension/internal/metadata"
)

// defaultEndpoint listens on loopback only, like the collector's own
// defaults: exposing telemetry on every interface is an operator's explicit
// choice (the shipped distribution config does it with 0.0.0.0:8080).
const defaultEndpoint = "localhost:8080"

// defaultStore is the ID of the signalstore extension in the shipped
// configuration.
var defaultStore = component.MustNewID("signalstore")

// NewFactory returns the factory of the correlateapi extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, createExtension, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = defaultEndpoint
	return &Config{
		ServerConfig:   server,
		Store:          defaultStore,
		RequestTimeout: 10 * time.Second,
		Limits: LimitsConfig{
			MaxTraces:       100,
			MaxSpans:        10_000,
			MaxLogs:         10_000,
			MaxMetrics:      1_000,
			MaxCorrelations: 1_000,
		},
		Cache: CacheConfig{
			MaxEntries:  1_000,
			QuietPeriod: 5 * time.Minute,
			TTL:         10 * time.Minute,
		},
	}
}

func createExtension(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newCorrelateAPI(cfg.(*Config), set)
}
