// Package signalstoreextension provides the `signalstore` extension: it owns
// the configured storage backend (the embedded SQLite store today) and hands
// it to the components that write to and read from it, which find it by
// the extension's ID with GetStore (and GetDocumentStore for the AI
// features' documents).
package signalstoreextension // import "github.com/ollystack/ollystack/extension/signalstoreextension"

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/ollystack/ollystack/extension/signalstoreextension/internal/metadata"
)

// NewFactory returns the factory of the signalstore extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, createExtension, metadata.ExtensionStability)
}

// createDefaultConfig selects the embedded backend at DefaultEmbeddedPath,
// so the extension needs no configuration at all.
func createDefaultConfig() component.Config {
	return &Config{Embedded: newDefaultEmbeddedConfig()}
}

func createExtension(_ context.Context, settings extension.Settings, cfg component.Config) (extension.Extension, error) {
	c, ok := cfg.(*Config)
	if !ok {
		return nil, fmt.Errorf("unexpected config type %T", cfg)
	}
	return newStoreExtension(c, settings), nil
}
