package signalstoreexporter

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/ollystack/ollystack/exporter/signalstoreexporter/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	full := createDefaultConfig().(*Config)
	full.StoreID = component.MustNewIDWithName("signalstore", "archive")
	full.Timeout = 10 * time.Second
	full.QueueConfig.Get().NumConsumers = 4
	full.QueueConfig.Get().QueueSize = 5000
	full.QueueConfig.Get().BlockOnOverflow = false
	full.RetryConfig.InitialInterval = 100 * time.Millisecond
	full.RetryConfig.MaxInterval = 5 * time.Second
	full.RetryConfig.MaxElapsedTime = 10 * time.Minute

	bare := createDefaultConfig().(*Config)
	bare.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	bare.RetryConfig.Enabled = false

	tests := []struct {
		id        component.ID
		want      *Config
		wantErr   []string
		unmarshal string
	}{
		{id: component.NewID(metadata.Type), want: createDefaultConfig().(*Config)},
		{id: component.NewIDWithName(metadata.Type, "full"), want: full},
		{id: component.NewIDWithName(metadata.Type, "no-queue-no-retry"), want: bare},
		{id: component.NewIDWithName(metadata.Type, "invalid-store"), unmarshal: "store"},
		{id: component.NewIDWithName(metadata.Type, "invalid-timeout"), wantErr: []string{"timeout", "num_consumers"}},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			err = sub.Unmarshal(cfg)
			if tt.unmarshal != "" {
				assert.ErrorContains(t, err, tt.unmarshal)
				return
			}
			require.NoError(t, err)
			err = confmap.Validate(cfg)
			if len(tt.wantErr) > 0 {
				require.Error(t, err)
				for _, want := range tt.wantErr {
					assert.ErrorContains(t, err, want)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestDefaultsBackOffInsteadOfDropping(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.True(t, cfg.QueueConfig.HasValue())
	assert.True(t, cfg.QueueConfig.Get().BlockOnOverflow, "a full queue must block the pipeline, not refuse data")
	assert.True(t, cfg.RetryConfig.Enabled)
	assert.Zero(t, cfg.RetryConfig.MaxElapsedTime, "retryable failures are retried until they pass")
	assert.Equal(t, "signalstore", cfg.StoreID.String())
}

func TestValidateNeedsStore(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.StoreID = component.ID{}
	assert.ErrorContains(t, cfg.Validate(), "store must name")
}

// TestReadmeExample loads every YAML example of README.md, so the docs
// cannot drift from the code.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	require.NotEmpty(t, blocks, "README.md has no yaml example")
	for i, block := range blocks {
		path := filepath.Join(t.TempDir(), "example.yaml")
		require.NoError(t, os.WriteFile(path, block[1], 0o600))
		cm, err := confmaptest.LoadConf(path)
		require.NoError(t, err, "example %d", i)
		exporters, err := cm.Sub("exporters")
		require.NoError(t, err)
		found := 0
		for key := range exporters.ToStringMap() {
			var id component.ID
			require.NoError(t, id.UnmarshalText([]byte(key)))
			if id.Type() != metadata.Type {
				continue
			}
			found++
			sub, err := exporters.Sub(key)
			require.NoError(t, err)
			cfg := NewFactory().CreateDefaultConfig()
			require.NoError(t, sub.Unmarshal(cfg), "example %d, %s", i, key)
			require.NoError(t, confmap.Validate(cfg), "example %d, %s", i, key)
			assert.Contains(t, cm.ToStringMap()["extensions"], cfg.(*Config).StoreID.String(),
				"example %d: %s names an extension the example does not configure", i, key)
		}
		assert.Positive(t, found, "example %d configures no signalstore exporter", i)
	}
}
