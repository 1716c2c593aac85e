package slometricsconnector

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
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
	sel := `slo_name="checkout-availability",service_name="checkout"`
	assert.Equal(t, `sum(rate(slo_sli_events_total{`+sel+`,slo_sli_outcome="bad"}[1h])) / sum(rate(slo_sli_events_total{`+sel+`}[1h]))`, rules[0].Expr)
	assert.Equal(t, map[string]string{"slo_name": "checkout-availability", "service_name": "checkout"}, rules[0].Labels)
	assert.Equal(t, "slo:sli_error:ratio_rate5m", rules[1].Record)
	assert.Equal(t, `slo:sli_error:ratio_rate1h{`+sel+`} >= 0.0144
and
slo:sli_error:ratio_rate5m{`+sel+`} >= 0.0144
and
sum by (slo_name, service_name) (increase(slo_sli_events_total{`+sel+`}[5m])) >= 20`, rules[2].Expr)
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

// TestPrometheusRulesOfSeveralConnectors: SLO names are unique per
// connector; the same name for two services, in two connectors, is valid
// and gets rules of its own; the same name and service would make the same
// series, and is refused.
func TestPrometheusRulesOfSeveralConnectors(t *testing.T) {
	const twoServices = `connectors:
  slometrics/eu:
    slos:
      - {name: availability, service: checkout-eu, sli: {kind: availability}, target: 99.9}
  slometrics/us:
    slos:
      - {name: availability, service: checkout-us, sli: {kind: availability}, target: 99.5}
`
	out, err := PrometheusRulesFromCollectorConfig([]byte(twoServices))
	require.NoError(t, err)
	var parsed promRuleFile
	require.NoError(t, yaml.Unmarshal(out, &parsed))
	require.Len(t, parsed.Groups, 2)
	assert.Equal(t, "slo-checkout-eu/availability", parsed.Groups[0].Name)
	assert.Equal(t, "slo-checkout-us/availability", parsed.Groups[1].Name)
	assert.Contains(t, parsed.Groups[1].Rules[0].Expr, `slo_name="availability",service_name="checkout-us"`)

	sameService := strings.ReplaceAll(twoServices, "checkout-us", "checkout-eu")
	_, err = PrometheusRulesFromCollectorConfig([]byte(sameService))
	assert.ErrorContains(t, err, `connectors "slometrics/eu" and "slometrics/us" both define SLO "availability" of service "checkout-eu"`)
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
