package testbed

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/ollystack/ollystack/testbed/harness"
)

// wantComponents is what an operator replacing otelcol-contrib for this use expects, plus ours.
// The collector reports the current type names: the otlp/otlphttp/prometheusremotewrite exporters
// are listed as otlp_grpc/otlp_http/prometheus_remote_write and still accept their old names.
var wantComponents = map[string][]string{
	"receivers":  {"otlp", "prometheus", "fluent_forward", "jaeger", "zipkin", "synthetics"},
	"processors": {"batch", "memory_limiter", "resource", "attributes", "transform", "filter", "tail_sampling", "probabilistic_sampler", "groupbytrace", "correlation", "logpattern"},
	"exporters":  {"debug", "otlp_grpc", "otlp_http", "clickhouse", "prometheus_remote_write", "prometheus", "file", "signalstore"},
	"extensions": {"health_check", "pprof", "zpages", "file_storage", "bearertokenauth", "signalstore", "correlateapi", "ai"},
	"connectors": {"forward", "slometrics"},
}

func TestComponentsListsEverything(t *testing.T) {
	out, err := harness.Run(t, "components")
	require.NoError(t, err, out)

	var listed map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(out), &listed), out)
	for kind, want := range wantComponents {
		var names []string
		entries, _ := listed[kind].([]any)
		for _, e := range entries {
			if m, ok := e.(map[string]any); ok {
				names = append(names, fmt.Sprint(m["name"]))
			}
		}
		for _, name := range want {
			assert.Contains(t, names, name, "%s", kind)
		}
	}
}
