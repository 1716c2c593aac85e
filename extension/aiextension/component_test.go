package aiextension

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/ollystack/ollystack/extension/aiextension/internal/metadata"
)

func TestFactory(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, metadata.Type, f.Type())
	assert.Equal(t, metadata.ExtensionStability, f.Stability())
	require.NoError(t, componenttest.CheckConfigStruct(f.CreateDefaultConfig()))
}

func TestCreateStartShutdownTwice(t *testing.T) {
	f := NewFactory()
	store := openStore(t)
	for range 2 {
		cfg := f.CreateDefaultConfig().(*Config)
		cfg.ServerConfig.NetAddr.Endpoint = freeEndpoint(t)
		ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
		require.NoError(t, err)
		require.NoError(t, ext.Start(context.Background(), hostWith(store)))
		require.NoError(t, ext.Shutdown(context.Background()))
		require.NoError(t, ext.Shutdown(context.Background()), "a second Shutdown is harmless")
	}
}

func TestShutdownWithoutStart(t *testing.T) {
	f := NewFactory()
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), f.CreateDefaultConfig())
	require.NoError(t, err)
	require.NoError(t, ext.Shutdown(context.Background()))
}

func TestStartFailsOnBusyPortAndMissingStore(t *testing.T) {
	store := openStore(t)
	srv := startServer(t, hostWith(store), nil)
	cfg := createDefaultConfig().(*Config)
	cfg.ServerConfig.NetAddr.Endpoint = srv.baseURL[len("http://"):]
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.ErrorContains(t, ext.Start(context.Background(), hostWith(store)), "ai: listen on")
	require.NoError(t, ext.Shutdown(context.Background()))

	require.ErrorContains(t, ext.Start(context.Background(), componenttest.NewNopHost()), "ai: store")
}
