package correlationprocessor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"

	"github.com/ollystack/ollystack/processor/correlationprocessor/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		id       component.ID
		expected *Config
		errors   []string
	}{
		{
			id:       component.NewID(metadata.Type),
			expected: createDefaultConfig().(*Config),
		},
		{
			id: component.NewIDWithName(metadata.Type, "full"),
			expected: &Config{
				Attribute:             "request.correlation_id",
				IDPrefix:              "shop",
				GenerateIfMissing:     false,
				ExtractFromHeaders:    []string{"X-Correlation-ID", "X-Request-ID", "x-amzn-trace-id"},
				ExtractFromAttributes: []string{"correlation_id", "order_id"},
				ExtractFromBaggage:    false,
				EnrichSpans:           true,
				EnrichLogs:            true,
				EnrichMetrics:         false,
				Cache:                 CacheConfig{MaxTraces: 5000, TTL: 30 * time.Second},
			},
		},
		{
			id:     component.NewIDWithName(metadata.Type, "invalid-empty-attribute"),
			errors: []string{"attribute must not be empty"},
		},
		{
			id:     component.NewIDWithName(metadata.Type, "invalid-prefix"),
			errors: []string{`id_prefix "olly stack/" may contain only`},
		},
		{
			id:     component.NewIDWithName(metadata.Type, "invalid-empty-prefix"),
			errors: []string{"id_prefix must not be empty when generate_if_missing is true"},
		},
		{
			id: component.NewIDWithName(metadata.Type, "invalid-headers"),
			errors: []string{
				"extract_from_headers[1] must not be empty",
				`extract_from_headers[2] "bad header" is not a valid name`,
				`extract_from_headers[3] "x-correlation-id" is listed twice`,
				`extract_from_headers[4] "Baggage" is the W3C baggage header, whose members extract_from_baggage reads`,
			},
		},
		{
			id: component.NewIDWithName(metadata.Type, "invalid-attributes"),
			errors: []string{
				"extract_from_attributes[1] must not be empty",
				`extract_from_attributes[2] "correlation_id" is listed twice`,
				`extract_from_attributes[3] "http.request.header.baggage" is the W3C baggage header, whose members extract_from_baggage reads`,
			},
		},
		{
			id:     component.NewIDWithName(metadata.Type, "invalid-nothing-to-enrich"),
			errors: []string{"enrich_spans, enrich_logs and enrich_metrics are all false"},
		},
		{
			id: component.NewIDWithName(metadata.Type, "invalid-cache"),
			errors: []string{
				"cache.max_traces must be between 1 and 10000000, got 0",
				"cache.ttl must be positive, got 0s",
			},
		},
	}
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := loadConfig(t, cm, tt.id)
			err := confmap.Validate(cfg)
			if len(tt.errors) == 0 {
				require.NoError(t, err)
				assert.Equal(t, tt.expected, cfg)
				return
			}
			require.Error(t, err)
			for _, want := range tt.errors {
				assert.ErrorContains(t, err, want)
			}
		})
	}
}

func TestValidateLimits(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.IDPrefix = string(make([]byte, 200))
	cfg.Cache.MaxTraces = 20_000_000
	// Expiry times are Unix nanoseconds: so long a ttl would overflow them
	// and expire every entry at once.
	cfg.Cache.TTL = 2_500_000 * time.Hour
	err := cfg.Validate()
	assert.ErrorContains(t, err, "id_prefix must be at most 93 bytes")
	assert.ErrorContains(t, err, "cache.max_traces must be between 1 and 10000000, got 20000000")
	assert.ErrorContains(t, err, "cache.ttl must be at most 8760h0m0s, got 2500000h0m0s")

	cfg = createDefaultConfig().(*Config)
	cfg.GenerateIfMissing = false
	cfg.IDPrefix = ""
	assert.NoError(t, cfg.Validate(), "no prefix is needed when nothing is generated")
}

func loadConfig(t *testing.T, cm *confmap.Conf, id component.ID) *Config {
	t.Helper()
	sub, err := cm.Sub(id.String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig()
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg.(*Config)
}

// TestReadmeExample loads the YAML example of README.md, so the documentation
// cannot drift from the code.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, rest, found := strings.Cut(string(readme), "```yaml\n")
	require.True(t, found, "README.md has a yaml example")
	example, _, found := strings.Cut(rest, "```")
	require.True(t, found)
	path := filepath.Join(t.TempDir(), "example.yaml")
	require.NoError(t, os.WriteFile(path, []byte(example), 0o600))
	cm, err := confmaptest.LoadConf(path)
	require.NoError(t, err)

	processors, err := cm.Sub("processors")
	require.NoError(t, err)
	cfg := loadConfig(t, processors, component.NewID(metadata.Type))
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, createDefaultConfig(), cfg, "the example spells out the defaults")

	receivers, err := cm.Sub("receivers")
	require.NoError(t, err)
	otlp, err := receivers.Sub("otlp")
	require.NoError(t, err)
	otlpCfg := otlpreceiver.NewFactory().CreateDefaultConfig()
	require.NoError(t, otlp.Unmarshal(otlpCfg))
	require.NoError(t, confmap.Validate(otlpCfg))
	assert.True(t, otlp.Get("protocols::grpc::include_metadata").(bool))
	assert.True(t, otlp.Get("protocols::http::include_metadata").(bool))
}
