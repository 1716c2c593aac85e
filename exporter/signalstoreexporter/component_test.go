package signalstoreexporter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/ollystack/ollystack/exporter/signalstoreexporter/internal/metadata"
	"github.com/ollystack/ollystack/extension/signalstoreextension"
)

func TestComponentLifecycle(t *testing.T) {
	factory := NewFactory()
	assert.Equal(t, metadata.Type, factory.Type())
	assert.Equal(t, metadata.TracesStability, factory.TracesStability())
	assert.Equal(t, metadata.LogsStability, factory.LogsStability())
	assert.Equal(t, metadata.MetricsStability, factory.MetricsStability())
	cfg := factory.CreateDefaultConfig()
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	require.NoError(t, cfg.(*Config).Validate())

	host, _ := startStoreExtension(t)
	ctx := context.Background()
	traces, err := factory.CreateTraces(ctx, nopSettings(), cfg)
	require.NoError(t, err)
	logs, err := factory.CreateLogs(ctx, nopSettings(), cfg)
	require.NoError(t, err)
	metrics, err := factory.CreateMetrics(ctx, nopSettings(), cfg)
	require.NoError(t, err)
	for _, e := range []component.Component{traces, logs, metrics} {
		require.NoError(t, e.Start(ctx, host))
		require.NoError(t, e.Shutdown(ctx))
	}
	assert.False(t, traces.Capabilities().MutatesData)
}

func TestStartFailsWithoutTheExtension(t *testing.T) {
	ctx := context.Background()
	e, err := NewFactory().CreateTraces(ctx, nopSettings(), createDefaultConfig())
	require.NoError(t, err)
	err = e.Start(ctx, componenttest.NewNopHost())
	assert.ErrorIs(t, err, signalstoreextension.ErrNotFound)
	require.NoError(t, e.Shutdown(ctx))

	notAStore := struct {
		component.StartFunc
		component.ShutdownFunc
	}{}
	logs, err := NewFactory().CreateLogs(ctx, nopSettings(), createDefaultConfig())
	require.NoError(t, err)
	err = logs.Start(ctx, hostWith{defaultStoreID: notAStore})
	assert.ErrorIs(t, err, signalstoreextension.ErrWrongType)
	require.NoError(t, logs.Shutdown(ctx))
}
