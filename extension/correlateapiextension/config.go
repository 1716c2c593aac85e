package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/confmap"
)

// Config configures the correlate API extension.
type Config struct {
	// ServerConfig is the HTTP server: endpoint, TLS, CORS, auth.
	ServerConfig confighttp.ServerConfig `mapstructure:",squash"`
	// Store names the signalstore extension the API reads from.
	Store component.ID `mapstructure:"store"`
	// RequestTimeout bounds the store reads of one request; past it the
	// API answers 504.
	RequestTimeout time.Duration `mapstructure:"request_timeout"`
	// Limits cap the size of answers.
	Limits LimitsConfig `mapstructure:"limits"`
	// Cache keeps answers for correlations that have gone quiet.
	Cache CacheConfig `mapstructure:"cache"`
}

// LimitsConfig caps what one answer holds; anything cut is flagged with a
// `truncated` marker rather than silently dropped.
type LimitsConfig struct {
	// MaxTraces is the number of traces one correlation answer closes over.
	MaxTraces int `mapstructure:"max_traces"`
	// MaxSpans is the number of spans in one answer.
	MaxSpans int `mapstructure:"max_spans"`
	// MaxLogs is the number of log records in one answer.
	MaxLogs int `mapstructure:"max_logs"`
	// MaxMetrics is the number of metric points in one answer.
	MaxMetrics int `mapstructure:"max_metrics"`
	// MaxCorrelations caps the `limit` parameter of /api/v1/correlations.
	MaxCorrelations int `mapstructure:"max_correlations"`
}

// CacheConfig configures the in-process answer cache. Only correlations
// whose newest signal is older than QuietPeriod are cached, so a request
// still in flight is always read fresh.
type CacheConfig struct {
	// MaxEntries is the number of cached answers; 0 disables the cache.
	MaxEntries int `mapstructure:"max_entries"`
	// QuietPeriod is how long a correlation must have received no signal
	// before its answer may be cached.
	QuietPeriod time.Duration `mapstructure:"quiet_period"`
	// TTL bounds how long an answer stays cached, so that very late data
	// (e.g. a delayed batch job joining an old id) shows up eventually.
	TTL time.Duration `mapstructure:"ttl"`
}

var _ confmap.Validator = (*Config)(nil)

// Upper bounds that keep one answer within a sane memory budget even when
// an operator raises the limits.
const (
	maxMaxTraces       = 10_000
	maxMaxItems        = 1_000_000
	maxMaxCorrelations = 10_000
)

// Validate reports every problem of the config.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.ServerConfig.NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("endpoint must be set"))
	}
	if cfg.Store.Type().String() == "" {
		errs = append(errs, errors.New("store must name a signalstore extension"))
	}
	if cfg.RequestTimeout <= 0 {
		errs = append(errs, fmt.Errorf("request_timeout %s: must be positive", cfg.RequestTimeout))
	}
	errs = append(errs, checkRange("limits::max_traces", cfg.Limits.MaxTraces, maxMaxTraces))
	errs = append(errs, checkRange("limits::max_spans", cfg.Limits.MaxSpans, maxMaxItems))
	errs = append(errs, checkRange("limits::max_logs", cfg.Limits.MaxLogs, maxMaxItems))
	errs = append(errs, checkRange("limits::max_metrics", cfg.Limits.MaxMetrics, maxMaxItems))
	errs = append(errs, checkRange("limits::max_correlations", cfg.Limits.MaxCorrelations, maxMaxCorrelations))
	if cfg.Cache.MaxEntries < 0 {
		errs = append(errs, fmt.Errorf("cache::max_entries %d: must not be negative", cfg.Cache.MaxEntries))
	}
	if cfg.Cache.MaxEntries > 0 {
		if cfg.Cache.QuietPeriod <= 0 {
			errs = append(errs, fmt.Errorf("cache::quiet_period %s: must be positive when the cache is enabled", cfg.Cache.QuietPeriod))
		}
		if cfg.Cache.TTL <= 0 {
			errs = append(errs, fmt.Errorf("cache::ttl %s: must be positive when the cache is enabled", cfg.Cache.TTL))
		}
	}
	return errors.Join(errs...)
}

func checkRange(name string, v, maxValue int) error {
	if v < 1 || v > maxValue {
		return fmt.Errorf("%s %d: must be between 1 and %d", name, v, maxValue)
	}
	return nil
}
