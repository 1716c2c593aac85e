// Package metadata holds what mdatagen would generate for the ai extension
// (mdatagen is not available in this build environment).
package metadata // import "github.com/ollystack/ollystack/extension/aiextension/internal/metadata"

import "go.opentelemetry.io/collector/component"

var (
	// Type is the component type used in collector configuration.
	Type = component.MustNewType("ai")
	// ScopeName is the instrumentation scope of the extension's self-telemetry.
	ScopeName = "github.com/ollystack/ollystack/extension/aiextension"
)

// ExtensionStability is the stability level of the extension.
const ExtensionStability = component.StabilityLevelDevelopment
