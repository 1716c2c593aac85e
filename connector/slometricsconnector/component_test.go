package slometricsconnector

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/ollystack/ollystack/connector/slometricsconnector/internal/metadata"
)

func TestComponentLifecycle(t *testing.T) {
	factory := NewFactory()
	assert.Equal(t, metadata.Type, factory.Type())
	assert.Equal(t, metadata.TracesToMetricsStability, factory.TracesToMetricsStability())
	assert.Equal(t, metadata.TracesToLogsStability, factory.TracesToLogsStability())
	require.NoError(t, componenttest.CheckConfigStruct(factory.CreateDefaultConfig()))

	cfg := testConfig()
	ctx := context.Background()
	set := connectortest.NewNopSettings(metadata.Type)
	toMetrics, err := factory.CreateTracesToMetrics(ctx, set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	toLogs, err := factory.CreateTracesToLogs(ctx, set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	assert.Same(t, toMetrics.(*tracesConnector).engine, toLogs.(*tracesConnector).engine, "one state for both outputs")

	for _, c := range []connector.Traces{toMetrics, toLogs} {
		assert.False(t, c.Capabilities().MutatesData)
		require.NoError(t, c.Start(ctx, componenttest.NewNopHost()))
	}
	require.NoError(t, toMetrics.ConsumeTraces(ctx, spans("checkout", 1, 1)))
	require.NoError(t, toLogs.ConsumeTraces(ctx, spans("checkout", 1, 1)))
	e := toMetrics.(*tracesConnector).engine
	e.mu.Lock()
	assert.Equal(t, uint64(1), e.slos[0].good, "the same spans reach both instances; one counts them")
	e.mu.Unlock()
	for _, c := range []connector.Traces{toMetrics, toLogs} {
		require.NoError(t, c.Shutdown(ctx))
		require.NoError(t, c.Shutdown(ctx), "a second Shutdown is harmless")
	}
}

func TestShutdownWithoutStart(t *testing.T) {
	factory := NewFactory()
	c, err := factory.CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(metadata.Type), testConfig(), consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, c.Shutdown(context.Background()))
}

func TestCreateRejectsBadConfig(t *testing.T) {
	factory := NewFactory()
	set := connectortest.NewNopSettings(metadata.Type)
	_, err := factory.CreateTracesToMetrics(context.Background(), set, &Config{FlushInterval: time.Second, SLOs: []SLOConfig{{Name: "x"}}}, consumertest.NewNop())
	assert.ErrorContains(t, err, "service is required")
	_, err = factory.CreateTracesToLogs(context.Background(), set, &Config{SLOs: testConfig().SLOs}, consumertest.NewNop())
	assert.ErrorContains(t, err, "flush_interval must be positive")
	shared := &sharedEngines{byConfig: map[*Config]*sharedEngine{}}
	_, _, err = shared.acquire(set, "not a config")
	assert.ErrorContains(t, err, "unexpected config type")
}

// blockingMetrics is a downstream that holds every batch until its context
// ends, like an exporter retrying with its queue disabled.
type blockingMetrics struct {
	consumertest.MetricsSink
	entered chan struct{}
}

func (b *blockingMetrics) ConsumeMetrics(ctx context.Context, _ pmetric.Metrics) error {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Minute):
		return nil
	}
}

// TestShutdownCancelsBlockedFlush: Shutdown must not wait for a downstream
// that holds a flush; the flush's context ends with Shutdown.
func TestShutdownCancelsBlockedFlush(t *testing.T) {
	cfg := testConfig()
	cfg.FlushInterval = time.Millisecond
	next := &blockingMetrics{entered: make(chan struct{}, 1)}
	c, err := NewFactory().CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(metadata.Type), cfg, next)
	require.NoError(t, err)
	require.NoError(t, c.Start(context.Background(), componenttest.NewNopHost()))
	<-next.entered

	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- c.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown waits for a flush held downstream")
	}
	assert.Less(t, time.Since(start), 5*time.Second)
}
