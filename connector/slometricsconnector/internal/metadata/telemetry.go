package metadata // import "github.com/ollystack/ollystack/connector/slometricsconnector/internal/metadata"

import (
	"errors"

	"go.opentelemetry.io/otel/metric"

	"go.opentelemetry.io/collector/component"
)

// Metric names, prefixed like the collector's own telemetry.
const (
	MetricEvents           = "otelcol_connector_slometrics_events"
	MetricAlertTransitions = "otelcol_connector_slometrics_alert_transitions"
	MetricStateErrors      = "otelcol_connector_slometrics_state_errors"
)

// Attribute keys of the self-telemetry.
const (
	AttributeSLO       = "slo"
	AttributeOutcome   = "outcome"
	AttributeAlert     = "alert"
	AttributeState     = "state"
	AttributeOperation = "operation"
)

// TelemetryBuilder holds the instruments of the connector's self-telemetry.
type TelemetryBuilder struct {
	// ConnectorSlometricsEvents counts spans classified by an SLO, by SLO and
	// outcome (good, bad).
	ConnectorSlometricsEvents metric.Int64Counter
	// ConnectorSlometricsAlertTransitions counts alert transitions by SLO,
	// alert and new state (firing, resolved).
	ConnectorSlometricsAlertTransitions metric.Int64Counter
	// ConnectorSlometricsStateErrors counts failures to save or restore the
	// persisted state, by operation (save, restore).
	ConnectorSlometricsStateErrors metric.Int64Counter
}

// NewTelemetryBuilder creates every instrument from the settings' meter provider.
func NewTelemetryBuilder(settings component.TelemetrySettings) (*TelemetryBuilder, error) {
	meter := settings.MeterProvider.Meter(ScopeName)
	var builder TelemetryBuilder
	var err, errs error
	builder.ConnectorSlometricsEvents, err = meter.Int64Counter(
		MetricEvents,
		metric.WithDescription("Number of spans counted by an SLO, by SLO and outcome (good, bad) [Alpha]"),
		metric.WithUnit("{span}"),
	)
	errs = errors.Join(errs, err)
	builder.ConnectorSlometricsAlertTransitions, err = meter.Int64Counter(
		MetricAlertTransitions,
		metric.WithDescription("Number of SLO alert transitions, by SLO, alert and new state (firing, resolved) [Alpha]"),
		metric.WithUnit("{transition}"),
	)
	errs = errors.Join(errs, err)
	builder.ConnectorSlometricsStateErrors, err = meter.Int64Counter(
		MetricStateErrors,
		metric.WithDescription("Number of failures to save or restore the SLO state in the storage extension, by operation [Alpha]"),
		metric.WithUnit("{error}"),
	)
	errs = errors.Join(errs, err)
	return &builder, errs
}
