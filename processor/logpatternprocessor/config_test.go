package logpatternprocessor

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

	"github.com/ollystack/ollystack/processor/logpatternprocessor/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	storage := component.MustNewIDWithName("file_storage", "templates")
	tests := []struct {
		id       component.ID
		expected *Config
		errors   []string
	}{
		{
			id:       component.NewID(metadata.Type),
			expected: defaultConfig(),
		},
		{
			id: component.NewIDWithName(metadata.Type, "full"),
			expected: &Config{
				BodyFields:          []string{"message", "log", "text"},
				MaxBodyBytes:        2048,
				TemplateAttribute:   AttributeConfig{Enabled: true, Name: "pattern"},
				TemplateIDAttribute: AttributeConfig{Enabled: false, Name: "pattern.id"},
				Miner:               MinerConfig{Similarity: 0.5, Depth: 3, MaxClusters: 500, MaxServices: 20},
				NewTemplate:         NewTemplateConfig{Enabled: true, Warmup: 0},
				RateJump: RateJumpConfig{Enabled: true, Interval: 30 * time.Second, Smoothing: 0.5, Factor: 10,
					MinCount: 5, BaselineWindows: 2, Cooldown: time.Hour, MaxTemplates: 1000},
				Storage:          &storage,
				SnapshotInterval: 5 * time.Minute,
			},
		},
		{
			id: component.NewIDWithName(metadata.Type, "invalid-body"),
			errors: []string{
				"body_fields[1] must not be empty",
				`body_fields: "message" is listed twice`,
				"max_body_bytes must be between 1 and 1048576, got 0",
			},
		},
		{
			id: component.NewIDWithName(metadata.Type, "invalid-attributes"),
			errors: []string{
				"template_attribute.name must not be empty",
				"template_id_attribute.name must not be empty",
			},
		},
		{
			id:     component.NewIDWithName(metadata.Type, "invalid-same-names"),
			errors: []string{`template_attribute.name and template_id_attribute.name are both "log.record.template"`},
		},
		{
			id:     component.NewIDWithName(metadata.Type, "invalid-nothing-to-do"),
			errors: []string{"are all disabled: the processor would do nothing"},
		},
		{
			id: component.NewIDWithName(metadata.Type, "invalid-miner"),
			errors: []string{
				"miner.similarity must be in (0, 1], got 1.5",
				"miner.depth must be between 1 and 16, got 0",
				"miner.max_clusters must be between 1 and 1000000, got 0",
				"miner.max_services must be between 1 and 100000, got 0",
			},
		},
		{
			id: component.NewIDWithName(metadata.Type, "invalid-rate-jump"),
			errors: []string{
				"new_template.warmup must not be negative, got -1s",
				"rate_jump.interval must be at least 1s, got 100ms",
				"rate_jump.smoothing must be in (0, 1], got 0",
				"rate_jump.factor must be greater than 1, got 1",
				"rate_jump.min_count must be at least 1, got 0",
				"rate_jump.baseline_windows must be at least 1, got 0",
				"rate_jump.cooldown must not be negative, got -1s",
				"rate_jump.max_templates must be between 1 and 10000000, got 0",
			},
		},
		{
			id:     component.NewIDWithName(metadata.Type, "invalid-snapshot-interval"),
			errors: []string{"snapshot_interval must be positive when storage is set, got 0s"},
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

func TestValidateIgnoresDisabledParts(t *testing.T) {
	cfg := defaultConfig()
	cfg.RateJump = RateJumpConfig{Enabled: false}
	cfg.TemplateAttribute = AttributeConfig{Enabled: false}
	assert.NoError(t, cfg.Validate(), "settings of disabled parts are not checked")

	cfg.BodyFields = []string{strings.Repeat("x", 300)}
	assert.ErrorContains(t, cfg.Validate(), "body_fields[0] must be at most 256 bytes")
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
	want := defaultConfig()
	storage := component.MustNewID("file_storage")
	want.Storage = &storage
	assert.Equal(t, want, cfg, "the example spells out the defaults, with storage")

	pipelines, err := cm.Sub("service::pipelines::logs")
	require.NoError(t, err)
	assert.Contains(t, pipelines.Get("processors"), "logpattern")
	assert.Contains(t, cm.Get("service::extensions"), "file_storage")
}
