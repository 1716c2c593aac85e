package metadata // import "github.com/ollystack/ollystack/exporter/signalstoreexporter/internal/metadata"

import (
	"go.opentelemetry.io/otel/metric"

	"go.opentelemetry.io/collector/component"
)

// MetricWriteFailures counts items of failed writes. exporterhelper's own
// otelcol_exporter_send_failed_* count what was finally given up; this one
// tells, per attempt, whether the pipeline is backing off (retryable) or
// dropping (permanent).
const MetricWriteFailures = "otelcol_exporter_signalstore_write_failures"

// Attribute keys and values of the self-telemetry.
const (
	AttributeSignal = "signal"
	AttributeKind   = "kind"

	KindRetryable = "retryable"
	KindPermanent = "permanent"
)

// TelemetryBuilder holds the instruments of the exporter's self-telemetry.
type TelemetryBuilder struct {
	// WriteFailures counts the items of failed write attempts by signal and
	// kind (retryable, permanent).
	WriteFailures metric.Int64Counter
}

// NewTelemetryBuilder creates every instrument from the settings' meter provider.
func NewTelemetryBuilder(settings component.TelemetrySettings) (*TelemetryBuilder, error) {
	meter := settings.MeterProvider.Meter(ScopeName)
	var b TelemetryBuilder
	var err error
	b.WriteFailures, err = meter.Int64Counter(MetricWriteFailures,
		metric.WithDescription("Number of spans, log records and data points in write attempts the signal store failed, by signal and kind (retryable: retried with backoff; permanent: dropped) [Alpha]"),
		metric.WithUnit("{item}"))
	return &b, err
}
