package metadata // import "github.com/ollystack/ollystack/processor/correlationprocessor/internal/metadata"

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"go.opentelemetry.io/collector/component"
)

// Metric names, prefixed like the collector's own telemetry.
const (
	MetricItems          = "otelcol_processor_correlation_items"
	MetricCacheEntries   = "otelcol_processor_correlation_cache_entries"
	MetricCacheEvictions = "otelcol_processor_correlation_cache_evictions"
)

// Attribute keys of the self-telemetry.
const (
	AttributeSignal  = "signal"
	AttributeOutcome = "outcome"
	AttributeReason  = "reason"
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

	// ProcessorCorrelationItems counts spans, log records and exemplars by
	// signal and outcome.
	ProcessorCorrelationItems metric.Int64Counter
	// ProcessorCorrelationCacheEntries reports the entries held by the cache.
	ProcessorCorrelationCacheEntries metric.Int64ObservableGauge
	// ProcessorCorrelationCacheEvictions counts entries dropped to make room,
	// by reason (expired, capacity).
	ProcessorCorrelationCacheEvictions metric.Int64ObservableCounter
}

// NewTelemetryBuilder creates every instrument from the settings' meter provider.
func NewTelemetryBuilder(settings component.TelemetrySettings) (*TelemetryBuilder, error) {
	builder := TelemetryBuilder{meter: Meter(settings)}
	var err, errs error
	builder.ProcessorCorrelationItems, err = builder.meter.Int64Counter(
		MetricItems,
		metric.WithDescription("Number of spans, log records and metric exemplars processed, by signal and by how their correlation id was obtained (explicit, propagated, derived, none, rejected) [Alpha]"),
		metric.WithUnit("{item}"),
	)
	errs = errors.Join(errs, err)
	builder.ProcessorCorrelationCacheEntries, err = builder.meter.Int64ObservableGauge(
		MetricCacheEntries,
		metric.WithDescription("Number of trace id → correlation id entries held by the cache [Alpha]"),
		metric.WithUnit("{entry}"),
	)
	errs = errors.Join(errs, err)
	builder.ProcessorCorrelationCacheEvictions, err = builder.meter.Int64ObservableCounter(
		MetricCacheEvictions,
		metric.WithDescription("Number of cache entries dropped to make room, by reason (expired, capacity) [Alpha]"),
		metric.WithUnit("{entry}"),
	)
	errs = errors.Join(errs, err)
	return &builder, errs
}

// CacheStats is what the cache instruments observe.
type CacheStats struct {
	Entries int64
	// Evictions by reason attribute value (expired, capacity).
	Evictions map[string]int64
}

// RegisterProcessorCorrelationCacheCallback sets the callback that observes
// the cache instruments when telemetry is collected.
func (builder *TelemetryBuilder) RegisterProcessorCorrelationCacheCallback(cb func() CacheStats) error {
	reg, err := builder.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		stats := cb()
		o.ObserveInt64(builder.ProcessorCorrelationCacheEntries, stats.Entries)
		for reason, n := range stats.Evictions {
			o.ObserveInt64(builder.ProcessorCorrelationCacheEvictions, n, metric.WithAttributes(attribute.String(AttributeReason, reason)))
		}
		return nil
	}, builder.ProcessorCorrelationCacheEntries, builder.ProcessorCorrelationCacheEvictions)
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
