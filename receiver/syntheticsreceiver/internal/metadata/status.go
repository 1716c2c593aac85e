// Package metadata holds what mdatagen would generate for the synthetics
// receiver (mdatagen is not available in this build environment).
package metadata // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver/internal/metadata"

import "go.opentelemetry.io/collector/component"

var (
	// Type is the component type used in collector configuration.
	Type = component.MustNewType("synthetics")
	// ScopeName is the instrumentation scope of the receiver's emitted
	// telemetry and of its self-metrics.
	ScopeName = "github.com/ollystack/ollystack/receiver/syntheticsreceiver"
)

// Stability levels of the receiver's signals.
const (
	TracesStability  = component.StabilityLevelAlpha
	MetricsStability = component.StabilityLevelAlpha
	LogsStability    = component.StabilityLevelAlpha
)
