package correlateapiextension

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/ollystack/ollystack/extension/correlateapiextension/internal/metadata"
)

func loadConfig(t *testing.T, cm *confmap.Conf, id component.ID) (*Config, error) {
	t.Helper()
	sub, err := cm.Sub(id.String())
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, confmap.Validate(cfg)
}

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	full := createDefaultConfig().(*Config)
	full.ServerConfig.NetAddr.Endpoint = "0.0.0.0:9090"
	full.Store = component.MustNewIDWithName("signalstore", "primary")
	full.RequestTimeout = 3 * time.Second
	full.Limits = LimitsConfig{MaxTraces: 20, MaxSpans: 5000, MaxLogs: 2000, MaxMetrics: 100, MaxCorrelations: 200}
	full.Cache = CacheConfig{MaxEntries: 50, QuietPeriod: 2 * time.Minute, TTL: 30 * time.Minute}

	nocache := createDefaultConfig().(*Config)
	nocache.Cache.MaxEntries = 0

	tests := []struct {
		id      component.ID
		want    *Config
		wantErr []string
	}{
		{id: component.NewID(metadata.Type), want: createDefaultConfig().(*Config)},
		{id: component.NewIDWithName(metadata.Type, "full"), want: full},
		{id: component.NewIDWithName(metadata.Type, "nocache"), want: nocache},
		{id: component.NewIDWithName(metadata.Type, "invalid-endpoint"), wantErr: []string{"endpoint must be set"}},
		{id: component.NewIDWithName(metadata.Type, "invalid-timeout"), wantErr: []string{"request_timeout 0s: must be positive"}},
		{id: component.NewIDWithName(metadata.Type, "invalid-limits"), wantErr: []string{
			"limits::max_traces 100000: must be between 1 and 10000",
			"limits::max_spans 0: must be between 1 and 1000000",
			"limits::max_logs -1: must be between 1 and 1000000",
		}},
		{id: component.NewIDWithName(metadata.Type, "invalid-cache"), wantErr: []string{
			"cache::quiet_period 0s: must be positive",
			"cache::ttl -1s: must be positive",
		}},
		{id: component.NewIDWithName(metadata.Type, "invalid-store"), wantErr: []string{"id must not be empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg, err := loadConfig(t, cm, tt.id)
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

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, cfg.Validate())
	assert.Equal(t, "localhost:8080", cfg.ServerConfig.NetAddr.Endpoint)
	assert.Equal(t, []component.ID{component.MustNewID("signalstore")}, (&correlateAPI{cfg: cfg}).Dependencies())
}

// TestReadmeExample loads the YAML example of README.md, so the docs
// cannot drift from the config.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	require.NotEmpty(t, blocks)
	path := filepath.Join(t.TempDir(), "example.yaml")
	require.NoError(t, os.WriteFile(path, blocks[0][1], 0o600))
	cm, err := confmaptest.LoadConf(path)
	require.NoError(t, err)
	extensions, err := cm.Sub("extensions")
	require.NoError(t, err)
	_, err = loadConfig(t, extensions, component.NewID(metadata.Type))
	require.NoError(t, err)
}
