package slometricsconnector // import "github.com/ollystack/ollystack/connector/slometricsconnector"

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
)

// SLI kinds.
const (
	SLIAvailability = "availability"
	SLIErrorRate    = "error_rate"
	SLILatency      = "latency"
)

// Synthetic traffic modes.
const (
	SyntheticInclude = "include"
	SyntheticExclude = "exclude"
	SyntheticOnly    = "only"
)

const (
	defaultWindow = "30d"
	// maxSLOWindow bounds the hourly buckets kept per SLO.
	maxSLOWindow = 90 * day
	// maxAlertWindow bounds the per-minute buckets kept per SLO: 7 days are
	// 10,080 buckets of 24 bytes.
	maxAlertWindow = 7 * day
	// minMonthLength is the shortest calendar month, which every alert window
	// of a calendar-month SLO must fit in.
	minMonthLength = 28 * day
)

// Config configures the slometrics connector.
type Config struct {
	// FlushInterval is how often metrics are emitted, alerts evaluated and the
	// state saved.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	// Storage names a storage extension (e.g. file_storage) that keeps the
	// SLO state across restarts. Without it a restart starts every budget anew.
	Storage *component.ID `mapstructure:"storage"`
	// MaxExemplars bounds the exemplars per data point and the correlation
	// ids and trace ids of an alert log record.
	MaxExemplars int `mapstructure:"max_exemplars"`
	// SLOs are the objectives to track.
	SLOs []SLOConfig `mapstructure:"slos"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// SLOConfig declares one service level objective.
type SLOConfig struct {
	// Name identifies the SLO in metrics, logs and persisted state.
	Name        string `mapstructure:"name"`
	Description string `mapstructure:"description"`
	// Service is the service.name resource attribute of the spans counted.
	Service string `mapstructure:"service"`
	// SpanKinds selects the span kinds counted; default server and consumer,
	// the spans where a request enters the service.
	SpanKinds []string `mapstructure:"span_kinds"`
	// SpanNames, when set, restricts the SLO to spans with one of these names.
	SpanNames []string `mapstructure:"span_names"`
	// Condition, when set, is an OTTL condition in the span context that a
	// span must meet to count, e.g. `attributes["http.route"] == "/checkout"`.
	// It is evaluated last, only for spans that pass the other filters.
	Condition string `mapstructure:"condition"`
	// SLI says what makes a span bad.
	SLI SLIConfig `mapstructure:"sli"`
	// Target is the objective in percent of good events, e.g. 99.9.
	Target float64 `mapstructure:"target"`
	// Window is the rolling SLO window ("30d", "28d", "7d") or
	// "calendar_month"; default 30d.
	Window string `mapstructure:"window"`
	// Alerts are the multi-window burn-rate alerts; default the SRE workbook
	// table (page 1h/5m ×14.4 and 6h/30m ×6, ticket 1d/2h ×3 and 3d/6h ×1).
	Alerts []AlertConfig `mapstructure:"alerts"`
	// MinEvents is the least number of events in an alert's short window for
	// it to fire, so three failures out of five requests at night do not page.
	MinEvents int64 `mapstructure:"min_events"`
	// Synthetic says what to do with spans marked synthetic=true: include
	// (default), exclude, or only count them.
	Synthetic string `mapstructure:"synthetic"`
}

// SLIConfig defines the service level indicator.
type SLIConfig struct {
	// Kind is availability, error_rate or latency.
	Kind string `mapstructure:"kind"`
	// Threshold is the latency above which a span is bad (latency only).
	Threshold time.Duration `mapstructure:"threshold"`
	// HTTPServerErrors also counts spans whose HTTP status code is 5xx as bad
	// even when their status is not error (availability and error_rate only).
	HTTPServerErrors bool `mapstructure:"http_server_errors"`
}

// AlertConfig is one multi-window burn-rate alert: it fires when the burn rate
// over both windows reaches BurnRate.
type AlertConfig struct {
	Name string `mapstructure:"name"`
	// Severity is carried to alert logs and metrics, e.g. page or ticket.
	Severity    string  `mapstructure:"severity"`
	LongWindow  string  `mapstructure:"long_window"`
	ShortWindow string  `mapstructure:"short_window"`
	BurnRate    float64 `mapstructure:"burn_rate"`
}

var _ confmap.Validator = (*Config)(nil)

// defaultAlerts is the multi-window multi-burn-rate table of the Google SRE
// workbook ("Alerting on SLOs"), tuned for a 30-day window.
func defaultAlerts() []AlertConfig {
	return []AlertConfig{
		{Name: "page-1h", Severity: "page", LongWindow: "1h", ShortWindow: "5m", BurnRate: 14.4},
		{Name: "page-6h", Severity: "page", LongWindow: "6h", ShortWindow: "30m", BurnRate: 6},
		{Name: "ticket-1d", Severity: "ticket", LongWindow: "1d", ShortWindow: "2h", BurnRate: 3},
		{Name: "ticket-3d", Severity: "ticket", LongWindow: "3d", ShortWindow: "6h", BurnRate: 1},
	}
}

// Validate checks the configuration; every problem is its own error.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.FlushInterval <= 0 {
		errs = append(errs, fmt.Errorf("flush_interval must be positive, got %v", cfg.FlushInterval))
	}
	if cfg.MaxExemplars < 0 {
		errs = append(errs, fmt.Errorf("max_exemplars must not be negative, got %d", cfg.MaxExemplars))
	}
	if len(cfg.SLOs) == 0 {
		errs = append(errs, errors.New("slos: at least one SLO is required"))
	}
	names := make(map[string]bool, len(cfg.SLOs))
	for i := range cfg.SLOs {
		slo := &cfg.SLOs[i]
		if slo.Name != "" && names[slo.Name] {
			errs = append(errs, fmt.Errorf("slos[%d]: duplicate name %q", i, slo.Name))
		}
		names[slo.Name] = true
		if _, err := compileSLO(slo); err != nil {
			errs = append(errs, fmt.Errorf("slos[%d] %q: %w", i, slo.Name, err))
		}
	}
	return errors.Join(errs...)
}
