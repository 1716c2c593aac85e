// Package signalstoreexporter provides the `signalstore` exporter: it writes
// traces, logs and metrics into the store owned by a signalstore extension,
// through exporterhelper's queue and retry so that a busy or failing store
// makes the pipeline back off instead of dropping data.
package signalstoreexporter // import "github.com/ollystack/ollystack/exporter/signalstoreexporter"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/ollystack/ollystack/exporter/signalstoreexporter/internal/metadata"
)

// defaultStoreID is the ID of a signalstore extension with no name, so that
// `signalstore:` under both extensions and exporters is enough.
var defaultStoreID = component.NewID(component.MustNewType("signalstore"))

// NewFactory returns the factory of the signalstore exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithTraces(createTraces, metadata.TracesStability),
		exporter.WithLogs(createLogs, metadata.LogsStability),
		exporter.WithMetrics(createMetrics, metadata.MetricsStability),
	)
}

func createDefaultConfig() component.Config {
	queue := exporterhelper.NewDefaultQueueConfig()
	// A full queue blocks the caller instead of refusing the data: the batch
	// processor in front drops what its export refuses, whereas blocking it
	// propagates back to the receivers (and the memory_limiter), which tell
	// clients to retry.
	queue.BlockOnOverflow = true
	return &Config{
		TimeoutConfig: exporterhelper.NewDefaultTimeoutConfig(),
		QueueConfig:   configoptional.Some(queue),
		RetryConfig:   defaultRetryConfig(),
		StoreID:       defaultStoreID,
	}
}

// defaultRetryConfig differs from exporterhelper's default in two ways, both
// because the store is local: a failure (a full disk, a busy file) is worth
// retrying soon, and giving up after a fixed time would only turn a pause of
// the store into data loss. Persistent failures still surface: the queue
// fills, the pipeline blocks, clients are told to retry, and every failed
// attempt is logged and counted.
func defaultRetryConfig() configretry.BackOffConfig {
	cfg := configretry.NewDefaultBackOffConfig()
	cfg.InitialInterval = time.Second
	cfg.MaxElapsedTime = 0
	return cfg
}

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	e, err := newStoreExporter(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewTraces(ctx, set, cfg, e.pushTraces, e.options()...)
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	e, err := newStoreExporter(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewLogs(ctx, set, cfg, e.pushLogs, e.options()...)
}

func createMetrics(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Metrics, error) {
	e, err := newStoreExporter(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewMetrics(ctx, set, cfg, e.pushMetrics, e.options()...)
}

func (e *storeExporter) options() []exporterhelper.Option {
	return []exporterhelper.Option{
		exporterhelper.WithStart(e.start),
		exporterhelper.WithTimeout(e.cfg.TimeoutConfig),
		exporterhelper.WithQueue(e.cfg.QueueConfig),
		exporterhelper.WithRetry(e.cfg.RetryConfig),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
	}
}
