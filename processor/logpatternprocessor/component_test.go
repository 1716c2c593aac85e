package logpatternprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/ollystack/ollystack/processor/logpatternprocessor/internal/metadata"
)

func TestComponentLifecycle(t *testing.T) {
	factory := NewFactory()
	assert.Equal(t, metadata.Type, factory.Type())
	cfg := factory.CreateDefaultConfig()
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	require.NoError(t, cfg.(*Config).Validate())

	ctx := context.Background()
	logs, err := factory.CreateLogs(ctx, processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	assert.True(t, logs.Capabilities().MutatesData)
	require.NoError(t, logs.Start(ctx, componenttest.NewNopHost()))
	require.NoError(t, logs.ConsumeLogs(ctx, newLogs("checkout", "connection pool exhausted: active=50 idle=0")))
	require.NoError(t, logs.Shutdown(ctx))
	require.NoError(t, logs.Shutdown(ctx), "a second Shutdown is harmless")

	_, err = factory.CreateTraces(ctx, processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	assert.Error(t, err, "logs only")
}

func TestCreateRejectsForeignConfig(t *testing.T) {
	_, err := createLogs(context.Background(), processortest.NewNopSettings(metadata.Type), "not a config", consumertest.NewNop())
	assert.ErrorContains(t, err, "unexpected config type")
}
