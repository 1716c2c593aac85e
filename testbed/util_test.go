package testbed

import (
	"os"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }

// setFlag overrides one key of a shipped config on the collector's command line.
func setFlag(key, value string) string { return "--set=" + key + "=" + value }

// attrString returns an attribute as a string, "" when absent.
func attrString(m pcommon.Map, key string) string {
	if v, ok := m.Get(key); ok {
		return v.AsString()
	}
	return ""
}
