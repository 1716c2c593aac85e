package metadata // import "github.com/ollystack/ollystack/extension/correlateapiextension/internal/metadata"

import (
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// Metric names, prefixed like the collector's own self-metrics.
const (
	MetricRequests        = "otelcol_correlateapi_requests"
	MetricRequestDuration = "otelcol_correlateapi_request_duration"
)

// TelemetryBuilder holds the instruments of the extension's self-telemetry.
type TelemetryBuilder struct {
	// Requests counts answered HTTP requests by route and status code.
	Requests metric.Int64Counter
	// RequestDuration records request latency in seconds by route and
	// status code.
	RequestDuration metric.Float64Histogram
}

// NewTelemetryBuilder creates the instruments from the settings' meter
// provider under ScopeName.
func NewTelemetryBuilder(settings component.TelemetrySettings) (*TelemetryBuilder, error) {
	meter := settings.MeterProvider.Meter(ScopeName)
	requests, err := meter.Int64Counter(MetricRequests,
		metric.WithDescription("Number of correlate API requests answered, by route and HTTP status code."),
		metric.WithUnit("{request}"))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", MetricRequests, err)
	}
	duration, err := meter.Float64Histogram(MetricRequestDuration,
		metric.WithDescription("Latency of correlate API requests, by route and HTTP status code."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", MetricRequestDuration, err)
	}
	return &TelemetryBuilder{Requests: requests, RequestDuration: duration}, nil
}
