package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/ollystack/ollystack/receiver/syntheticsreceiver/internal/metadata"
)

// defaultConcurrency keeps a burst of checks from saturating the host or
// the targets.
const defaultConcurrency = 8

// NewFactory returns the factory of the synthetics receiver.
func NewFactory() receiver.Factory {
	f := &factory{instances: map[*Config]*syntheticsReceiver{}}
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithTraces(f.createTraces, metadata.TracesStability),
		receiver.WithMetrics(f.createMetrics, metadata.MetricsStability),
		receiver.WithLogs(f.createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	return &Config{Concurrency: defaultConcurrency}
}

// factory shares one receiver among the pipelines of one configuration,
// like contrib's sharedcomponent, so each check runs once per schedule.
type factory struct {
	mu        sync.Mutex
	instances map[*Config]*syntheticsReceiver
}

func (f *factory) instance(set receiver.Settings, cfg component.Config) (*syntheticsReceiver, error) {
	c := cfg.(*Config)
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.instances[c]; ok {
		return r, nil
	}
	r, err := newReceiver(c, set)
	if err != nil {
		return nil, err
	}
	r.onShutdown = func() {
		f.mu.Lock()
		delete(f.instances, c)
		f.mu.Unlock()
	}
	f.instances[c] = r
	return r, nil
}

func (f *factory) createTraces(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Traces) (receiver.Traces, error) {
	r, err := f.instance(set, cfg)
	if err != nil {
		return nil, err
	}
	r.traces = next
	return r, nil
}

func (f *factory) createMetrics(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	r, err := f.instance(set, cfg)
	if err != nil {
		return nil, err
	}
	r.metrics = next
	return r, nil
}

func (f *factory) createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	r, err := f.instance(set, cfg)
	if err != nil {
		return nil, err
	}
	r.logs = next
	return r, nil
}
