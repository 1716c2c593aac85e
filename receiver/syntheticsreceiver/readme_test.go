package syntheticsreceiver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
)

// readmeExample returns the first ```yaml block of the README.
func readmeExample(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(data), "```yaml\n")
	require.True(t, ok, "README has a yaml example")
	block, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)
	return block
}

// TestREADMEExample resolves the README's example as otelcol-ollystack
// does (file and env providers, env as the default scheme), so the docs
// cannot drift from the code, and proves that $${var} reaches the receiver
// as a ${var} placeholder.
func TestREADMEExample(t *testing.T) {
	t.Setenv("CANARY_PASSWORD", "s3cret")
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(readmeExample(t)), 0o600))

	resolver, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              []string{"file:" + path},
		ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory()},
		DefaultScheme:     "env",
	})
	require.NoError(t, err)
	conf, err := resolver.Resolve(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, resolver.Shutdown(context.Background())) })

	sub, err := conf.Sub("receivers::synthetics")
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))

	require.Len(t, cfg.Checks, 6)
	journey := cfg.Checks[1].Multistep
	assert.Equal(t, "s3cret", journey.Variables["password"])
	assert.Equal(t, "${base}/api/login", journey.Steps[0].URL)
	assert.Equal(t, `{"user":"canary","password":"${password}"}`, journey.Steps[0].Body)
	assert.Equal(t, "Bearer ${token}", journey.Steps[1].Headers["Authorization"])
}
