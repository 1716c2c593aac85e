package signalstoreextension

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/ollystack/ollystack/extension/signalstoreextension/internal/metadata"
)

func TestComponentLifecycle(t *testing.T) {
	factory := NewFactory()
	assert.Equal(t, metadata.Type, factory.Type())
	assert.Equal(t, metadata.ExtensionStability, factory.Stability())
	cfg := factory.CreateDefaultConfig()
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	require.NoError(t, cfg.(*Config).Validate())
	assert.Equal(t, DefaultEmbeddedPath, cfg.(*Config).Embedded.Path)

	dir := t.TempDir()
	cfg.(*Config).Embedded.Path = filepath.Join(dir, "missing", "dir", "signals.db")
	ctx := context.Background()
	// Twice: the second run reopens the file the first one created.
	for range 2 {
		ext, err := factory.Create(ctx, nopSettings(), cfg)
		require.NoError(t, err)
		require.NoError(t, ext.Shutdown(ctx), "Shutdown before Start is harmless")
		require.NoError(t, ext.Start(ctx, componenttest.NewNopHost()))
		assert.Error(t, ext.Start(ctx, componenttest.NewNopHost()), "a second Start must not open a second backend")
		require.NoError(t, ext.Shutdown(ctx))
		require.NoError(t, ext.Shutdown(ctx), "a second Shutdown is harmless")
	}
	_, err := os.Stat(cfg.(*Config).Embedded.Path)
	assert.NoError(t, err, "the store's directory is created")
}

func TestStartFailsOnUnusablePath(t *testing.T) {
	cfg := tempConfig(t)
	blocker := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o600))
	cfg.Embedded.Path = filepath.Join(blocker, "signals.db")

	ext, err := NewFactory().Create(context.Background(), nopSettings(), cfg)
	require.NoError(t, err)
	err = ext.Start(context.Background(), componenttest.NewNopHost())
	assert.ErrorContains(t, err, blocker)
	require.NoError(t, ext.Shutdown(context.Background()))
}
