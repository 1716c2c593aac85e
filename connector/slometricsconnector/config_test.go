package slometricsconnector

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

	"github.com/ollystack/ollystack/connector/slometricsconnector/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	storageID := component.MustNewIDWithName("file_storage", "slo")

	tests := []struct {
		id      component.ID
		want    *Config
		wantErr []string
	}{
		{
			id: component.NewID(metadata.Type),
			want: &Config{FlushInterval: 15 * time.Second, MaxExemplars: 5, SLOs: []SLOConfig{
				{Name: "checkout-availability", Service: "checkout", SLI: SLIConfig{Kind: SLIAvailability}, Target: 99.9},
			}},
		},
		{
			id: component.NewIDWithName(metadata.Type, "full"),
			want: &Config{FlushInterval: 30 * time.Second, Storage: &storageID, MaxExemplars: 3, SLOs: []SLOConfig{
				{
					Name: "checkout-availability", Description: "Checkout requests succeed", Service: "checkout",
					SpanKinds: []string{"server"}, SpanNames: []string{"POST /checkout", "GET /cart"},
					SLI:    SLIConfig{Kind: SLIAvailability, HTTPServerErrors: true},
					Target: 99.9, Window: "28d", MinEvents: 100, Synthetic: SyntheticExclude,
				},
				{
					Name: "checkout-latency", Service: "checkout", Condition: `attributes["http.route"] == "/checkout"`,
					SLI:    SLIConfig{Kind: SLILatency, Threshold: 300 * time.Millisecond},
					Target: 99, Window: windowCalendarMonth,
					Alerts: []AlertConfig{
						{Name: "fast", Severity: "page", LongWindow: "1h", ShortWindow: "5m", BurnRate: 14.4},
						{Name: "slow", Severity: "ticket", LongWindow: "3d", ShortWindow: "6h", BurnRate: 1},
					},
				},
				{
					Name: "synthetic-checks", Service: "checkout", SLI: SLIConfig{Kind: SLIErrorRate},
					Target: 95, Window: "7d", Synthetic: SyntheticOnly,
					Alerts: []AlertConfig{{Name: "page", Severity: "page", LongWindow: "1h", ShortWindow: "5m", BurnRate: 10}},
				},
			}},
		},
		{id: component.NewIDWithName(metadata.Type, "invalid-no-slos"), wantErr: []string{"at least one SLO"}},
		{id: component.NewIDWithName(metadata.Type, "invalid-flush-interval"), wantErr: []string{"flush_interval must be positive"}},
		{id: component.NewIDWithName(metadata.Type, "invalid-target"), wantErr: []string{
			`slos[0] "zero": target must be a percentage in (0, 100), got 0`,
			`slos[1] "hundred": target must be a percentage in (0, 100), got 100`,
		}},
		{id: component.NewIDWithName(metadata.Type, "invalid-duplicate-name"), wantErr: []string{`slos[1]: duplicate name "same"`}},
		{id: component.NewIDWithName(metadata.Type, "invalid-sli-kind"), wantErr: []string{`unknown sli.kind "throughput"`}},
		{id: component.NewIDWithName(metadata.Type, "invalid-latency-threshold"), wantErr: []string{"sli.threshold must be positive for the latency SLI"}},
		{id: component.NewIDWithName(metadata.Type, "invalid-window"), wantErr: []string{`window: window "30x"`}},
		{id: component.NewIDWithName(metadata.Type, "invalid-alert-does-not-fit"), wantErr: []string{
			`alerts[3] "ticket-3d": long_window 3d does not fit in the SLO window 2d`,
		}},
		{id: component.NewIDWithName(metadata.Type, "invalid-alert-windows"), wantErr: []string{
			"short_window 1h must be shorter than long_window 5m",
			`short_window: window "90s" must be whole minutes`,
		}},
		{id: component.NewIDWithName(metadata.Type, "invalid-unreachable-burn-rate"), wantErr: []string{
			`alerts[0] "page-1h": burn_rate 14.4 can never be reached with target 90%: the highest burn rate is 10`,
		}},
		{id: component.NewIDWithName(metadata.Type, "invalid-synthetic"), wantErr: []string{`unknown synthetic mode "sometimes"`}},
		{id: component.NewIDWithName(metadata.Type, "invalid-condition"), wantErr: []string{`slos[0] "a": condition:`}},
		{id: component.NewIDWithName(metadata.Type, "invalid-span-kind"), wantErr: []string{`unknown span kind "rpc"`}},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
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

func TestValidateJoinsEveryProblem(t *testing.T) {
	cfg := &Config{FlushInterval: -1, MaxExemplars: -1, SLOs: []SLOConfig{{
		SLI:       SLIConfig{Kind: SLIAvailability, Threshold: time.Second},
		Target:    150,
		MinEvents: -1,
		Alerts:    []AlertConfig{{LongWindow: "1h", ShortWindow: "5m", BurnRate: -1}},
	}}}
	err := cfg.Validate()
	require.Error(t, err)
	for _, want := range []string{
		"flush_interval must be positive",
		"max_exemplars must not be negative",
		"name is required",
		"service is required",
		"sli.threshold applies only to the latency SLI",
		"target must be a percentage in (0, 100), got 150",
		"min_events must not be negative",
		"burn_rate must be positive",
	} {
		assert.ErrorContains(t, err, want)
	}
}

// TestREADMEExample loads the YAML example of the README, so the documented
// configuration cannot drift from the code.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	require.NotEmpty(t, blocks)
	path := filepath.Join(t.TempDir(), "example.yaml")
	require.NoError(t, os.WriteFile(path, blocks[0][1], 0o600))
	cm, err := confmaptest.LoadConf(path)
	require.NoError(t, err)
	connectors, err := cm.Sub("connectors")
	require.NoError(t, err)
	sub, err := connectors.Sub(metadata.Type.String())
	require.NoError(t, err)
	cfg := createDefaultConfig()
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.NotEmpty(t, cfg.(*Config).SLOs)
}

// TestHighestBurnRateIsReachable: a burn rate of exactly 1/(1 - target),
// i.e. every event bad, can be reached and fires at runtime, so Validate must
// accept it; float rounding of 1 - 0.99 must not make it "unreachable".
func TestHighestBurnRateIsReachable(t *testing.T) {
	for _, tt := range []struct{ target, burnRate float64 }{
		{99, 100}, {95, 20}, {98, 50}, {99.5, 200}, {90, 10}, {80, 5},
	} {
		slo := testSLO()
		slo.Target = tt.target
		slo.Window = "7d"
		slo.Alerts = []AlertConfig{{Name: "all-bad", Severity: "page", LongWindow: "1h", ShortWindow: "5m", BurnRate: tt.burnRate}}
		cfg := testConfig(slo)
		require.NoError(t, cfg.Validate(), "target %v, burn rate %v", tt.target, tt.burnRate)

		te := newTestEngine(t, cfg)
		te.feed("checkout", 0, 10)
		reports, _ := te.evaluateNow()
		assert.True(t, alertOf(t, reports[0], "all-bad").firing, "target %v: every event bad reaches %v", tt.target, tt.burnRate)
	}
	slo := testSLO()
	slo.Target = 99
	slo.Alerts = []AlertConfig{{Name: "too-fast", LongWindow: "1h", ShortWindow: "5m", BurnRate: 100.5}}
	assert.ErrorContains(t, testConfig(slo).Validate(), "burn_rate 100.5 can never be reached with target 99%")
}
