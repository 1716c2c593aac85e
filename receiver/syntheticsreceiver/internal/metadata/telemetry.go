package metadata // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver/internal/metadata"

import (
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// Metric names, prefixed like the collector's own self-metrics.
const (
	MetricRuns        = "otelcol_synthetics_runs"
	MetricRunsSkipped = "otelcol_synthetics_runs_skipped"
)

// TelemetryBuilder holds the instruments of the receiver's self-telemetry.
type TelemetryBuilder struct {
	// Runs counts finished check runs by check name and outcome
	// (success or failure).
	Runs metric.Int64Counter
	// RunsSkipped counts scheduled runs dropped because the previous run of
	// the same check was still waiting for a concurrency slot at shutdown
	// or the slot wait outlasted the check's timeout.
	RunsSkipped metric.Int64Counter
}

// NewTelemetryBuilder creates the instruments from the settings' meter
// provider under ScopeName.
func NewTelemetryBuilder(settings component.TelemetrySettings) (*TelemetryBuilder, error) {
	meter := settings.MeterProvider.Meter(ScopeName)
	runs, err := meter.Int64Counter(MetricRuns,
		metric.WithDescription("Number of finished synthetic check runs, by check and outcome."),
		metric.WithUnit("{run}"))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", MetricRuns, err)
	}
	skipped, err := meter.Int64Counter(MetricRunsSkipped,
		metric.WithDescription("Number of scheduled synthetic check runs skipped because no concurrency slot freed up in time."),
		metric.WithUnit("{run}"))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", MetricRunsSkipped, err)
	}
	return &TelemetryBuilder{Runs: runs, RunsSkipped: skipped}, nil
}
