package signalstoreextension

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/ollystack/ollystack/extension/signalstoreextension/internal/metadata"
)

// hostWith is a component.Host serving the given extensions.
type hostWith map[component.ID]component.Component

func (h hostWith) GetExtensions() map[component.ID]component.Component { return h }

// tempConfig is the default config with the database in a test directory.
func tempConfig(t *testing.T) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Embedded.Path = filepath.Join(t.TempDir(), "db", "signals.db")
	return cfg
}

// startExtension creates and starts the extension, shutting it down when the
// test ends.
func startExtension(t *testing.T, cfg *Config, settings extension.Settings) extension.Extension {
	ext, err := NewFactory().Create(context.Background(), settings, cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), hostWith{}))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })
	return ext
}

func nopSettings() extension.Settings { return extensiontest.NewNopSettings(metadata.Type) }

// telemetrySettings are nop settings whose metrics the returned telemetry
// reads back.
func telemetrySettings(t *testing.T) (*componenttest.Telemetry, extension.Settings) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	settings := nopSettings()
	settings.TelemetrySettings = tel.NewTelemetrySettings()
	return tel, settings
}
