// Package metadata holds what mdatagen would generate for this component: its
// type, instrumentation scope, stability and self-telemetry. mdatagen is not
// available in this build environment, so it is written by hand.
package metadata // import "github.com/ollystack/ollystack/connector/slometricsconnector/internal/metadata"

import (
	"go.opentelemetry.io/collector/component"
)

var (
	// Type is the component type used in collector configuration.
	Type = component.MustNewType("slometrics")
	// ScopeName is the instrumentation scope of the self-telemetry and of the
	// SLO metrics and alert logs the connector emits.
	ScopeName = "github.com/ollystack/ollystack/connector/slometricsconnector"
)

const (
	TracesToMetricsStability = component.StabilityLevelAlpha
	TracesToLogsStability    = component.StabilityLevelAlpha
)
