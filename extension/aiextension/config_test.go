package aiextension

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/ollystack/ollystack/extension/aiextension/internal/metadata"
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
	full.ServerConfig.NetAddr.Endpoint = "0.0.0.0:9091"
	full.Store = component.MustNewIDWithName("signalstore", "primary")
	full.RequestTimeout = 10 * time.Second
	full.Baseline = BaselineConfig{Lookback: 30 * time.Minute, MaxRequests: 20}
	full.LLM = configoptional.Some(LLMConfig{
		Provider: ProviderAnthropic, BaseURL: "https://api.anthropic.com", Model: "claude-sonnet-4-5",
		APIKeyEnv: "ANTHROPIC_API_KEY", Timeout: 15 * time.Second, MaxRetries: 3, MaxTokens: 800, MaxInputTokens: 4000,
		RedactAttributes: []string{"user.email", "enduser.id"},
	})
	full.Investigations = InvestigationsConfig{
		MaxConcurrent: 4, QueueSize: 50, Timeout: time.Minute, Lookback: 30 * time.Minute, MaxRequests: 3,
		ServiceLabels: []string{"app"},
		SLOAlerts:     configoptional.Some(SLOAlertsConfig{PollInterval: time.Minute}),
		LinkBaseURL:   "https://ollystack.example.com",
	}
	webhook := defaultWebhookConfig()
	webhook.Endpoint = "https://hooks.slack.com/services/T000/B000/XXXX"
	full.Investigations.Webhook = configoptional.Some(webhook)
	full.Investigations.WebhookRetry = configretry.NewDefaultBackOffConfig()
	full.Investigations.WebhookRetry.InitialInterval = time.Second
	full.Investigations.WebhookRetry.RandomizationFactor = 0.2
	full.Investigations.WebhookRetry.Multiplier = 2
	full.Investigations.WebhookRetry.MaxInterval = time.Minute
	full.Investigations.WebhookRetry.MaxElapsedTime = 15 * time.Minute
	full.Runbooks = []RunbookConfig{{
		Name: "db-pool", Kinds: []string{"resource_saturation", "error_origin"}, Services: []string{"payments"},
		Steps: []string{"Check the pool's active connections", "Raise max_open_conns"}, URL: "https://runbooks.example.com/db-pool",
	}}

	ollama := createDefaultConfig().(*Config)
	l := defaultLLMConfig()
	l.BaseURL, l.Model = "http://localhost:11434/v1", "llama3.1"
	ollama.LLM = configoptional.Some(l)

	tests := []struct {
		id      component.ID
		want    *Config
		wantErr []string
	}{
		{id: component.NewID(metadata.Type), want: createDefaultConfig().(*Config)},
		{id: component.NewIDWithName(metadata.Type, "full"), want: full},
		{id: component.NewIDWithName(metadata.Type, "ollama"), want: ollama},
		{id: component.NewIDWithName(metadata.Type, "invalid-investigations"), wantErr: []string{
			"investigations::max_concurrent 0: must be between 1 and 64",
			"investigations::queue_size 0: must be between 1 and 10000",
			"investigations::timeout 0s: must be positive",
			"investigations::lookback 0s: must be positive",
			"investigations::max_requests 51: must be between 1 and 50",
			"investigations::service_labels: names must not be empty",
			"investigations::slo_alerts::poll_interval 10ms: must be between 1s and 30m0s",
			`investigations::webhook::endpoint: "not a url" must be an http(s) URL`,
			`investigations::link_base_url: "ftp://x" must be an http(s) URL`,
			"runbooks[0]::name must be set",
			`runbooks[0]::kinds: unknown kind "cosmic_rays"`,
			"runbooks[0]: needs steps or a url",
			`runbooks[1] (no-steps)::url: "mailto:x" must be an http(s) URL`,
		}},
		// configretry's own Validate, called by confmap.Validate with the
		// key path in front (of the first of its joined errors).
		{id: component.NewIDWithName(metadata.Type, "invalid-webhook-retry"), wantErr: []string{
			"investigations::webhook_retry: 'max_elapsed_time' must not be less than 'initial_interval'",
			"multiplier value must be greater than or equal to 0",
			"randomization_factor value must be less than or equal to 1",
		}},
		{id: component.NewIDWithName(metadata.Type, "invalid-slo-alerts"), wantErr: []string{
			"investigations::slo_alerts::poll_interval 1h0m0s: must be between 1s and 30m0s: the first poll reads four intervals back, and a poll reads at most 2h46m40s",
		}},
		{id: component.NewIDWithName(metadata.Type, "invalid-store"), wantErr: []string{"id must not be empty"}},
		{id: component.NewIDWithName(metadata.Type, "invalid-baseline"), wantErr: []string{
			"request_timeout 0s: must be positive",
			"baseline::lookback 0s: must be positive",
			"baseline::max_requests 5000: must be between 1 and 1000",
		}},
		{id: component.NewIDWithName(metadata.Type, "invalid-llm"), wantErr: []string{
			`llm::provider "gemini": must be openai or anthropic`,
			`llm::base_url: "ftp://example.com" must be an http(s) URL`,
			"llm::model must be set",
			`llm::api_key_env "sk-live-1234": must be the name of an environment variable, not a key`,
			"llm::timeout 0s: must be positive",
			"llm::max_retries 11: must be between 0 and 10",
			"llm::max_tokens 0: must be between 1 and 200000",
			"llm::max_input_tokens 10: must be between 500 and 200000",
		}},
		{id: component.NewIDWithName(metadata.Type, "invalid-llm-url"), wantErr: []string{"llm::base_url must not carry credentials"}},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg, err := loadConfig(t, cm, tt.id)
			if len(tt.wantErr) > 0 {
				require.Error(t, err)
				for _, want := range tt.wantErr {
					assert.ErrorContains(t, err, want)
					assert.Equal(t, 1, strings.Count(err.Error(), want), "reported once: %s", want)
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
	assert.Empty(t, cfg.ServerConfig.NetAddr.Endpoint, "mounted on the correlate API by default")
	assert.Nil(t, cfg.LLM.Get(), "no llm block: deterministic only")
	assert.Nil(t, cfg.Investigations.SLOAlerts.Get(), "no slo_alerts block: no polling")
	assert.Nil(t, cfg.Investigations.Webhook.Get(), "no webhook block: no notification")
	assert.Equal(t, configretry.NewDefaultBackOffConfig(), cfg.Investigations.WebhookRetry, "the collector's retry defaults")
	assert.Equal(t, []component.ID{component.MustNewID("signalstore"), component.MustNewID("correlateapi")}, (&aiExtension{cfg: cfg}).Dependencies())
	cfg.ServerConfig.NetAddr.Endpoint = "localhost:8081"
	assert.Equal(t, []component.ID{component.MustNewID("signalstore")}, (&aiExtension{cfg: cfg}).Dependencies(), "own server")
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
	for _, id := range []component.ID{component.NewID(metadata.Type), component.NewIDWithName(metadata.Type, "ollama")} {
		cfg, err := loadConfig(t, extensions, id)
		require.NoError(t, err, id.String())
		require.NotNil(t, cfg.LLM.Get(), id.String())
	}
}

// TestLinkBaseURLIsBounded: a link longer than a chat message's limit left
// no room for its text (and cut it at a negative length).
func TestLinkBaseURLIsBounded(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Investigations.LinkBaseURL = "https://ollystack.example.com/" + strings.Repeat("a", 3000)
	assert.ErrorContains(t, cfg.Validate(), "investigations::link_base_url: at most 1024 bytes, got 3030")
}
