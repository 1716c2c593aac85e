package syntheticsreceiver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/ollystack/ollystack/receiver/syntheticsreceiver/internal/metadata"
)

func TestFactory(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, metadata.Type, f.Type())
	assert.Equal(t, metadata.TracesStability, f.TracesStability())
	assert.Equal(t, metadata.MetricsStability, f.MetricsStability())
	assert.Equal(t, metadata.LogsStability, f.LogsStability())
	require.NoError(t, componenttest.CheckConfigStruct(f.CreateDefaultConfig()))
}

func tcpConfig(f func() *Config) *Config {
	cfg := f()
	cfg.Checks = []CheckConfig{{Name: "port", Type: typeTCP, Interval: time.Hour, Timeout: time.Second,
		TCP: &TCPCheckConfig{Address: "127.0.0.1:1"}}}
	return cfg
}

func TestCreateStartShutdown(t *testing.T) {
	f := NewFactory()
	for range 2 {
		cfg := tcpConfig(func() *Config { return f.CreateDefaultConfig().(*Config) })
		set := receivertest.NewNopSettings(metadata.Type)
		tr, err := f.CreateTraces(context.Background(), set, cfg, consumertest.NewNop())
		require.NoError(t, err)
		mr, err := f.CreateMetrics(context.Background(), set, cfg, consumertest.NewNop())
		require.NoError(t, err)
		lr, err := f.CreateLogs(context.Background(), set, cfg, consumertest.NewNop())
		require.NoError(t, err)
		assert.Same(t, tr, mr, "one instance serves every signal of a configuration")
		assert.Same(t, tr, lr)

		host := componenttest.NewNopHost()
		require.NoError(t, tr.Start(context.Background(), host))
		require.NoError(t, mr.Start(context.Background(), host), "starting the shared instance again is harmless")
		require.NoError(t, tr.Shutdown(context.Background()))
		require.NoError(t, mr.Shutdown(context.Background()), "a second Shutdown is harmless")
	}
}

func TestShutdownWithoutStart(t *testing.T) {
	f := NewFactory()
	cfg := tcpConfig(func() *Config { return f.CreateDefaultConfig().(*Config) })
	r, err := f.CreateTraces(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, r.Shutdown(context.Background()))
}
