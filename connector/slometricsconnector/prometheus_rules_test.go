package slometricsconnector

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of testdata")

// TestPrometheusRulesGolden renders the rules of testdata/collector.yaml, the
// way the documented command does, and compares them with the golden file.
func TestPrometheusRulesGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "collector.yaml"))
	require.NoError(t, err)
	got, err := PrometheusRulesFromCollectorConfig(in)
	require.NoError(t, err)
	golden := filepath.Join("testdata", "prometheus_rules.golden.yaml")
	if *updateGolden {
		require.NoError(t, os.WriteFile(golden, got, 0o600))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "run go test -run TestPrometheusRulesGolden -update . to accept")

	var parsed promRuleFile
	require.NoError(t, yaml.Unmarshal(got, &parsed))
	require.Len(t, parsed.Groups, 2)
	var alerts int
	for _, r := range parsed.Groups[0].Rules {
		if r.Alert != "" {
			alerts++
		}
	}
	assert.Equal(t, 4, alerts, "the default table")
}

func TestPrometheusRulesExpressions(t *testing.T) {
	slo := testSLO()
	slo.MinEvents = 20
	slo.Alerts = []AlertConfig{{Name: "fast", Severity: "page", LongWindow: "1h", ShortWindow: "5m", BurnRate: 14.4}}
	out, err := PrometheusRules(testConfig(slo))
	require.NoError(t, err)
	var parsed promRuleFile
	require.NoError(t, yaml.Unmarshal(out, &parsed))
	rules := parsed.Groups[0].Rules
	require.Len(t, rules, 3)
	assert.Equal(t, "slo:sli_error:ratio_rate1h", rules[0].Record)
	assert.Equal(t, `sum(rate(slo_sli_events_total{slo_name="checkout-availability",slo_sli_outcome="bad"}[1h])) / sum(rate(slo_sli_events_total{slo_name="checkout-availability"}[1h]))`, rules[0].Expr)
	assert.Equal(t, "slo:sli_error:ratio_rate5m", rules[1].Record)
	assert.Equal(t, `slo:sli_error:ratio_rate1h{slo_name="checkout-availability"} >= 0.0144
and
slo:sli_error:ratio_rate5m{slo_name="checkout-availability"} >= 0.0144
and
sum by (slo_name) (increase(slo_sli_events_total{slo_name="checkout-availability"}[5m])) >= 20`, rules[2].Expr)
	assert.Equal(t, "page", rules[2].Labels["severity"])
}

func TestPrometheusRulesErrors(t *testing.T) {
	_, err := PrometheusRulesFromCollectorConfig([]byte("connectors:\n  forward:\n"))
	assert.ErrorIs(t, err, errNoSLOConnector)
	_, err = PrometheusRulesFromCollectorConfig([]byte("connectors: ["))
	assert.ErrorContains(t, err, "parse collector configuration")
	_, err = PrometheusRulesFromCollectorConfig([]byte("connectors:\n  slometrics:\n    slos:\n      - name: a\n        target: 120\n"))
	assert.ErrorContains(t, err, "target must be a percentage")
	_, err = PrometheusRulesFromCollectorConfig([]byte("connectors:\n  slometrics:\n    flush_interval: soon\n"))
	assert.ErrorContains(t, err, `connector "slometrics"`)
}

// TestShippedRulesMatchShippedConfig keeps distributions/otelcol-ollystack/slo/rules.yaml what the
// documented command generates from the shipped config (`make slo-rules` rewrites it).
func TestShippedRulesMatchShippedConfig(t *testing.T) {
	dist := filepath.Join("..", "..", "distributions", "otelcol-ollystack")
	in, err := os.ReadFile(filepath.Join(dist, "config.yaml"))
	require.NoError(t, err)
	got, err := PrometheusRulesFromCollectorConfig(in)
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(dist, "slo", "rules.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "run `make slo-rules` to regenerate")
}
