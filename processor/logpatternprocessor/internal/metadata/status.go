// Package metadata holds what mdatagen would generate for this component: its
// type, instrumentation scope, stability and self-telemetry. mdatagen is not
// available in this build environment, so it is written by hand.
package metadata // import "github.com/ollystack/ollystack/processor/logpatternprocessor/internal/metadata"

import (
	"go.opentelemetry.io/collector/component"
)

var (
	// Type is the component type used in collector configuration.
	Type = component.MustNewType("logpattern")
	// ScopeName is the instrumentation scope of the self-telemetry.
	ScopeName = "github.com/ollystack/ollystack/processor/logpatternprocessor"
)

const (
	LogsStability = component.StabilityLevelAlpha
)
