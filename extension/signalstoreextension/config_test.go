package signalstoreextension

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

	"github.com/ollystack/ollystack/extension/signalstoreextension/internal/metadata"
	"github.com/ollystack/ollystack/pkg/signalstore/clickhouse"
	"github.com/ollystack/ollystack/pkg/signalstore/embedded"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	full := embedded.NewDefaultConfig()
	full.Path = "/var/lib/otelcol-ollystack/signals.db"
	full.Retention = 168 * time.Hour
	full.MaxSizeMiB = 2048
	full.CorrelationAttribute = "request_id"
	full.Sync = embedded.SyncNormal
	full.ReadConnections = 8
	full.MaxBatchRows = 20_000
	full.CacheSizeMiB = 128
	full.MaintenanceInterval = 30 * time.Second

	chTables := clickhouse.NewDefaultConfig()
	chTables.Endpoint = "tcp://clickhouse:9000?dial_timeout=10s"
	chTables.Database = "otel"
	chTables.ClusterName = "prod"
	chTables.Replicated = true

	tests := []struct {
		id        component.ID
		want      *Config
		wantErr   []string
		unmarshal string // an error expected already while decoding
	}{
		{id: component.NewID(metadata.Type), want: &Config{Embedded: newDefaultEmbeddedConfig()}},
		{id: component.NewIDWithName(metadata.Type, "embedded"), want: &Config{Embedded: newDefaultEmbeddedConfig()}},
		{id: component.NewIDWithName(metadata.Type, "full"), want: &Config{Embedded: full}},
		{id: component.NewIDWithName(metadata.Type, "invalid-embedded"), wantErr: []string{"retention 1s", `sync "sometimes"`}},
		{id: component.NewIDWithName(metadata.Type, "invalid-unknown-backend"), unmarshal: "cassandra"},
		{id: component.NewIDWithName(metadata.Type, "clickhouse"), want: &Config{ClickHouse: clickhouse.NewDefaultConfig()}},
		{id: component.NewIDWithName(metadata.Type, "clickhouse-exporter-tables"), want: &Config{ClickHouse: chTables}},
		{id: component.NewIDWithName(metadata.Type, "invalid-two-backends"), wantErr: []string{"set exactly one"}},
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

func TestValidateNeedsOneBackend(t *testing.T) {
	err := (&Config{}).Validate()
	assert.ErrorContains(t, err, "no backend configured")
}

// TestReadmeExample loads the YAML example of README.md, so the docs cannot
// drift from the code.
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
		exts, err := cm.Sub("extensions")
		require.NoError(t, err)
		found := 0
		for key := range exts.ToStringMap() {
			var id component.ID
			require.NoError(t, id.UnmarshalText([]byte(key)))
			if id.Type() != metadata.Type {
				continue
			}
			found++
			sub, err := exts.Sub(key)
			require.NoError(t, err)
			cfg := NewFactory().CreateDefaultConfig()
			require.NoError(t, sub.Unmarshal(cfg), "example %d, %s", i, key)
			require.NoError(t, confmap.Validate(cfg), "example %d, %s", i, key)
		}
		assert.Positive(t, found, "example %d configures no signalstore extension", i)
	}
}
