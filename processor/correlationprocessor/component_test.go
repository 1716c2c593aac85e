package correlationprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/ollystack/ollystack/processor/correlationprocessor/internal/metadata"
)

func TestComponentLifecycle(t *testing.T) {
	factory := NewFactory()
	assert.Equal(t, metadata.Type, factory.Type())
	cfg := factory.CreateDefaultConfig()
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	require.NoError(t, cfg.(*Config).Validate())

	ctx := context.Background()
	set := processortest.NewNopSettings(metadata.Type)
	traces, err := factory.CreateTraces(ctx, set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	logs, err := factory.CreateLogs(ctx, set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	metrics, err := factory.CreateMetrics(ctx, set, cfg, consumertest.NewNop())
	require.NoError(t, err)

	for _, p := range []interface {
		Start(context.Context, component.Host) error
		Shutdown(context.Context) error
		Capabilities() consumer.Capabilities
	}{traces, logs, metrics} {
		assert.True(t, p.Capabilities().MutatesData)
		require.NoError(t, p.Start(ctx, componenttest.NewNopHost()))
		require.NoError(t, p.Shutdown(ctx))
		require.NoError(t, p.Shutdown(ctx), "a second Shutdown is harmless")
	}
}

func TestSignalsShareOneCorrelator(t *testing.T) {
	shared := &sharedCorrelators{byConfig: map[*Config]*sharedCorrelator{}}
	set := processortest.NewNopSettings(metadata.Type)
	cfg := defaultConfig()
	first, err := shared.acquire(set, cfg)
	require.NoError(t, err)
	second, err := shared.acquire(set, cfg)
	require.NoError(t, err)
	assert.Same(t, first, second)
	other, err := shared.acquire(set, defaultConfig())
	require.NoError(t, err)
	assert.NotSame(t, first, other)

	ctx := context.Background()
	require.NoError(t, shared.releaser(cfg)(ctx))
	assert.Len(t, shared.byConfig, 2, "still used once")
	release := shared.releaser(cfg)
	require.NoError(t, release(ctx))
	require.NoError(t, release(ctx), "releasing twice counts once")
	assert.Len(t, shared.byConfig, 1)
	_, err = shared.acquire(set, "not a config")
	assert.ErrorContains(t, err, "unexpected config type")
	require.NoError(t, shared.releaser(defaultConfig())(ctx), "unknown configs are ignored")
}
