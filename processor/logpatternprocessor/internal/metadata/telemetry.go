package metadata // import "github.com/ollystack/ollystack/processor/logpatternprocessor/internal/metadata"

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/otel/metric"

	"go.opentelemetry.io/collector/component"
)

// Metric names, prefixed like the collector's own telemetry.
const (
	MetricRecords          = "otelcol_processor_logpattern_records"
	MetricTemplatesCreated = "otelcol_processor_logpattern_templates_created"
	MetricEvents           = "otelcol_processor_logpattern_events"
	MetricClusters         = "otelcol_processor_logpattern_clusters"
)

// Attribute keys of the self-telemetry.
const (
	AttributeOutcome = "outcome"
	AttributeEvent   = "event"
)

// Meter returns the meter of this component's scope.
func Meter(settings component.TelemetrySettings) metric.Meter {
	return settings.MeterProvider.Meter(ScopeName)
}

// TelemetryBuilder holds the instruments of the processor's self-telemetry.
type TelemetryBuilder struct {
	meter         metric.Meter
	mu            sync.Mutex
	registrations []metric.Registration

	// ProcessorLogpatternRecords counts log records by outcome: mined, or
	// skipped (no string body or body field).
	ProcessorLogpatternRecords metric.Int64Counter
	// ProcessorLogpatternTemplatesCreated counts templates born in the miner.
	ProcessorLogpatternTemplatesCreated metric.Int64Counter
	// ProcessorLogpatternEvents counts the log events emitted, by event name.
	ProcessorLogpatternEvents metric.Int64Counter
	// ProcessorLogpatternClusters reports the templates held over all services.
	ProcessorLogpatternClusters metric.Int64ObservableGauge
}

// NewTelemetryBuilder creates every instrument from the settings' meter provider.
func NewTelemetryBuilder(settings component.TelemetrySettings) (*TelemetryBuilder, error) {
	builder := TelemetryBuilder{meter: Meter(settings)}
	var err, errs error
	builder.ProcessorLogpatternRecords, err = builder.meter.Int64Counter(
		MetricRecords,
		metric.WithDescription("Number of log records processed, by outcome (mined, skipped) [Alpha]"),
		metric.WithUnit("{record}"),
	)
	errs = errors.Join(errs, err)
	builder.ProcessorLogpatternTemplatesCreated, err = builder.meter.Int64Counter(
		MetricTemplatesCreated,
		metric.WithDescription("Number of log templates created by the miner [Alpha]"),
		metric.WithUnit("{template}"),
	)
	errs = errors.Join(errs, err)
	builder.ProcessorLogpatternEvents, err = builder.meter.Int64Counter(
		MetricEvents,
		metric.WithDescription("Number of log events emitted, by event name (log.template.new, log.template.rate_jump) [Alpha]"),
		metric.WithUnit("{event}"),
	)
	errs = errors.Join(errs, err)
	builder.ProcessorLogpatternClusters, err = builder.meter.Int64ObservableGauge(
		MetricClusters,
		metric.WithDescription("Number of log templates held by the miner, over all services [Alpha]"),
		metric.WithUnit("{template}"),
	)
	errs = errors.Join(errs, err)
	return &builder, errs
}

// RegisterProcessorLogpatternClustersCallback sets the callback that observes
// the clusters gauge when telemetry is collected.
func (builder *TelemetryBuilder) RegisterProcessorLogpatternClustersCallback(cb func() int64) error {
	reg, err := builder.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(builder.ProcessorLogpatternClusters, cb())
		return nil
	}, builder.ProcessorLogpatternClusters)
	if err != nil {
		return err
	}
	builder.mu.Lock()
	defer builder.mu.Unlock()
	builder.registrations = append(builder.registrations, reg)
	return nil
}

// Shutdown unregisters the callbacks of asynchronous instruments.
func (builder *TelemetryBuilder) Shutdown() {
	builder.mu.Lock()
	defer builder.mu.Unlock()
	for _, reg := range builder.registrations {
		_ = reg.Unregister()
	}
	builder.registrations = nil
}
