// Package logpatternprocessor mines the template of every log record's
// message, per service, writes it and its id on the record, and emits log
// events when a template is born or its rate jumps against its baseline.
package logpatternprocessor // import "github.com/ollystack/ollystack/processor/logpatternprocessor"

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/ollystack/ollystack/processor/logpatternprocessor/internal/metadata"
)

var processorCapabilities = consumer.Capabilities{MutatesData: true}

// NewFactory returns the factory of the logpattern processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithLogs(createLogs, metadata.LogsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		BodyFields:          []string{"message", "msg"},
		MaxBodyBytes:        4096,
		TemplateAttribute:   AttributeConfig{Enabled: true, Name: "log.record.template"},
		TemplateIDAttribute: AttributeConfig{Enabled: true, Name: "log.record.template.id"},
		Miner: MinerConfig{
			Similarity:  0.6,
			Depth:       2,
			MaxClusters: 1000,
			MaxServices: 200,
		},
		NewTemplate: NewTemplateConfig{Enabled: true, Warmup: 5 * time.Minute},
		RateJump: RateJumpConfig{
			Enabled:         true,
			Interval:        time.Minute,
			Smoothing:       0.2,
			Factor:          5,
			MinCount:        50,
			BaselineWindows: 5,
			Cooldown:        15 * time.Minute,
			MaxTemplates:    50_000,
		},
		SnapshotInterval: time.Minute,
	}
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	pCfg, ok := cfg.(*Config)
	if !ok {
		return nil, fmt.Errorf("logpattern processor: unexpected config type %T", cfg)
	}
	p, err := newLogPatternProcessor(set.TelemetrySettings, set.ID, pCfg)
	if err != nil {
		return nil, fmt.Errorf("logpattern processor: %w", err)
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(p.start),
		processorhelper.WithShutdown(p.shutdown))
}
