package syntheticsreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/ollystack/ollystack/receiver/syntheticsreceiver/internal/metadata"
)

func loadConfig(t *testing.T, file, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(file)
	require.NoError(t, err)
	sub, err := cm.Sub(component.MustNewIDWithName(metadata.Type.String(), name).String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg, confmap.Validate(cfg)
}

func ptr[T any](v T) *T { return &v }

func TestLoadConfigMinimal(t *testing.T) {
	cfg, err := loadConfig(t, filepath.Join("testdata", "config.yaml"), "")
	require.NoError(t, err)
	assert.Equal(t, defaultConcurrency, cfg.Concurrency)
	require.Len(t, cfg.Checks, 1)
	assert.Equal(t, "health", cfg.Checks[0].Name)
	assert.Equal(t, time.Minute, cfg.Checks[0].Interval)
	assert.Equal(t, "https://api.example.com/health", cfg.Checks[0].HTTP.URL)
}

func TestLoadConfigFull(t *testing.T) {
	cfg, err := loadConfig(t, filepath.Join("testdata", "config.yaml"), "full")
	require.NoError(t, err)
	assert.Equal(t, "eu-west-1", cfg.Location)
	assert.Equal(t, 4, cfg.Concurrency)
	assert.Equal(t, "/usr/bin/chromium", cfg.ChromiumPath)
	require.Len(t, cfg.Checks, 6)

	api := cfg.Checks[0]
	assert.Equal(t, 5*time.Second, api.Jitter)
	assert.Equal(t, HTTPRequestConfig{
		Method:  "POST",
		URL:     "https://api.example.com/health",
		Headers: map[string]string{"Accept": "application/json"},
		Body:    `{"deep":true}`,
	}, api.HTTP.HTTPRequestConfig)
	assert.Equal(t, ptr(0), api.HTTP.MaxRedirects)
	assert.True(t, api.HTTP.TLS.InsecureSkipVerify)
	require.Len(t, api.HTTP.Assertions, 7)
	assert.Equal(t, "2xx", api.HTTP.Assertions[0].Status)
	assert.Equal(t, 500*time.Millisecond, api.HTTP.Assertions[1].MaxLatency)
	assert.Equal(t, ptr("up"), api.HTTP.Assertions[5].Equals)
	assert.Equal(t, 14, api.HTTP.Assertions[6].MinTLSDaysLeft)

	journey := cfg.Checks[1]
	assert.Equal(t, "*/5 * * * *", journey.Cron)
	require.Len(t, journey.Multistep.Steps, 2)
	assert.Equal(t, ExtractConfig{Var: "token", JSONPath: "$.token"}, journey.Multistep.Steps[0].Extract[0])
	assert.Equal(t, "Bearer ${token}", journey.Multistep.Steps[1].Headers["Authorization"])

	assert.Equal(t, TCPCheckConfig{Address: "redis.internal:6379", Send: "PING\r\n", Expect: "+PONG"}, *cfg.Checks[2].TCP)
	assert.Equal(t, []string{"203.0.113.10"}, cfg.Checks[3].DNS.Expect)
	assert.Equal(t, 21, cfg.Checks[4].TLS.MinDaysLeft)
	browser := cfg.Checks[5].Browser
	assert.Equal(t, "https://shop.example.com/", browser.URL)
	require.Len(t, browser.Steps, 5)
	assert.Equal(t, BrowserStepConfig{Action: "type", Selector: "#q", Text: "shoes"}, browser.Steps[1])
	assert.Equal(t, "search", browser.Steps[2].stepName())
	assert.Equal(t, "assert_text #result", browser.Steps[3].stepName())
}

func TestLoadConfigInvalid(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"invalid-empty", []string{"checks: at least one check is required"}},
		{"invalid-concurrency", []string{"concurrency must be at least 1, got 0"}},
		{"invalid-schedule", []string{
			`check "both": interval and cron: set only one`,
			`check "neither": interval or cron: one is required`,
			`check "bad-cron": cron:`,
			`check "never": cron: "0 0 30 2 *" matches no date in the next five years`,
			`check "no-timeout": timeout: must be positive`,
		}},
		{"invalid-type", []string{
			`check "mystery": type: must be one of`,
			`check "mismatch": http: block is required for type http`,
			`check "mismatch": tcp: block does not belong to a check of type http`,
		}},
		{"invalid-http", []string{
			`check "broken": http.method: "GE T" is not an HTTP method token`,
			`check "broken": http.url: "ftp://example.com": scheme must be http or https`,
			`check "broken": http.headers: "Bad Header" is not a valid header name`,
			`check "broken": http.assertions[0]: status: "7xx"`,
			`check "broken": http.assertions[1]: body_matches:`,
			`check "broken": http.assertions[2]: json_path:`,
			`check "broken": http.assertions[3]: exactly one of`,
			`check "broken": http.assertions[4]: equals, contains and matches apply only to header and json_path`,
		}},
		{"invalid-multistep", []string{
			`check "journey": multistep.steps["first"].url: variable "token" is neither in variables nor extracted by an earlier step`,
			`check "journey": multistep.steps["first"].name: used by another step`,
			`check "journey": multistep.steps["first"].extract[0]: var: variable name "1bad"`,
			`check "journey": multistep.steps["no-scheme"].url: with its variables: "shop.example.com/cart": scheme must be http or https`,
		}},
		{"invalid-dns", []string{
			`check "dns": dns.server:`,
			`check "dns": dns.name: must not be empty`,
			`check "dns": dns.record_type: unknown record type "BOGUS"`,
			`check "dns": dns.protocol: must be udp or tcp, got "quic"`,
		}},
		{"invalid-browser", []string{
			`check "page": browser.url: "not a url": scheme must be http or https`,
			`check "page": browser.steps[0].action: must be one of navigate, wait_visible, click, type, assert_text, got "hover"`,
			`check "page": browser.steps[1].text: required by type`,
			`check "page": browser.steps[1].selector: required by type`,
			`check "page": browser.steps[2].url:`,
		}},
		{"invalid-duplicate", []string{`checks[1]: name "same" is used by another check`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(t, filepath.Join("testdata", "config.yaml"), tt.name)
			require.Error(t, err)
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
			// A URL built from an extracted value is only checked at run time.
			assert.NotContains(t, err.Error(), `steps["extracted"]`)
		})
	}
}

// TestURLErrorsHideCredentials: a journey's rendered URL that fails
// validation fails the run, and its error goes into telemetry.
func TestURLErrorsHideCredentials(t *testing.T) {
	for _, raw := range []string{"https://user:s3cret@example.com/%zz", "ftp://user:s3cret@example.com/", "https://user:s3cret@/path"} {
		err := validHTTPURL(raw)
		require.Error(t, err, raw)
		assert.NotContains(t, err.Error(), "s3cret", raw)
	}
}
