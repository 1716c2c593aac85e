package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
	"go.opentelemetry.io/collector/confmap"
)

// Check types.
const (
	typeHTTP      = "http"
	typeMultistep = "multistep"
	typeTCP       = "tcp"
	typeDNS       = "dns"
	typeTLS       = "tls"
	typeBrowser   = "browser"
)

// Config configures the synthetics receiver.
type Config struct {
	// Location labels every run, so the same checks run from many places
	// can be told apart.
	Location string `mapstructure:"location"`
	// Concurrency caps the number of checks running at the same time.
	Concurrency int `mapstructure:"concurrency"`
	// ChromiumPath is the Chromium binary of browser checks; empty means
	// the first of chromium, chromium-browser, google-chrome on PATH.
	ChromiumPath string `mapstructure:"chromium_path"`
	// Checks are the scheduled checks.
	Checks []CheckConfig `mapstructure:"checks"`
}

// CheckConfig is one scheduled check. Type names which one of the
// type-specific blocks is set, Jaeger-style: a struct of optional pointers.
type CheckConfig struct {
	Name string `mapstructure:"name"`
	Type string `mapstructure:"type"`
	// Interval runs the check every Interval plus a random delay of up to
	// Jitter, which spreads checks that share an interval. Cron is the
	// alternative: a standard five-field expression or a descriptor such
	// as @every 1m.
	Interval time.Duration `mapstructure:"interval"`
	Jitter   time.Duration `mapstructure:"jitter"`
	Cron     string        `mapstructure:"cron"`
	// Timeout bounds one run. Waiting for a concurrency slot is bounded by
	// the same duration separately; a run that gets no slot is skipped.
	Timeout time.Duration `mapstructure:"timeout"`

	HTTP      *HTTPCheckConfig      `mapstructure:"http"`
	Multistep *MultistepCheckConfig `mapstructure:"multistep"`
	TCP       *TCPCheckConfig       `mapstructure:"tcp"`
	DNS       *DNSCheckConfig       `mapstructure:"dns"`
	TLS       *TLSCheckConfig       `mapstructure:"tls"`
	Browser   *BrowserCheckConfig   `mapstructure:"browser"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ confmap.Validator = (*Config)(nil)

// cronParser accepts the standard five fields and descriptors (@hourly,
// @every 5m); seconds are not offered because checks that frequent should
// use interval.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// parseCron parses expr and checks that it fires: one that matches no date
// (30 February) would otherwise make its schedule return the zero time, and
// the check run back to back.
func parseCron(expr string, now time.Time) (cron.Schedule, error) {
	sched, err := cronParser.Parse(expr)
	if err != nil {
		return nil, err
	}
	if sched.Next(now).IsZero() {
		return nil, fmt.Errorf("%q matches no date in the next five years", expr)
	}
	return sched, nil
}

// Validate checks the receiver settings and every check. Check errors are
// prefixed with the check's name and the field, so a bad definition among
// many is easy to find.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("concurrency must be at least 1, got %d", cfg.Concurrency))
	}
	if len(cfg.Checks) == 0 {
		errs = append(errs, errors.New("checks: at least one check is required"))
	}
	seen := make(map[string]bool, len(cfg.Checks))
	for i := range cfg.Checks {
		c := &cfg.Checks[i]
		if c.Name != "" && seen[c.Name] {
			errs = append(errs, fmt.Errorf("checks[%d]: name %q is used by another check", i, c.Name))
		}
		seen[c.Name] = true
		label := c.Name
		if label == "" {
			label = fmt.Sprintf("#%d", i)
		}
		for _, err := range c.validate() {
			errs = append(errs, fmt.Errorf("check %q: %w", label, err))
		}
	}
	return errors.Join(errs...)
}

func (c *CheckConfig) validate() []error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("name: must not be empty"))
	}
	errs = append(errs, c.validateSchedule()...)
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout: must be positive, got %s", c.Timeout))
	}
	return append(errs, c.validateBody()...)
}

func (c *CheckConfig) validateSchedule() []error {
	var errs []error
	switch {
	case c.Interval == 0 && c.Cron == "":
		errs = append(errs, errors.New("interval or cron: one is required"))
	case c.Interval != 0 && c.Cron != "":
		errs = append(errs, errors.New("interval and cron: set only one"))
	case c.Cron != "":
		if _, err := parseCron(c.Cron, time.Now()); err != nil {
			errs = append(errs, fmt.Errorf("cron: %w", err))
		}
		if c.Jitter != 0 {
			errs = append(errs, errors.New("jitter: only applies to interval"))
		}
	case c.Interval < 0:
		errs = append(errs, fmt.Errorf("interval: must be positive, got %s", c.Interval))
	}
	if c.Jitter < 0 {
		errs = append(errs, fmt.Errorf("jitter: must not be negative, got %s", c.Jitter))
	}
	return errs
}

// validateBody requires exactly the block named by Type and validates it.
func (c *CheckConfig) validateBody() []error {
	blocks := map[string]bool{
		typeHTTP:      c.HTTP != nil,
		typeMultistep: c.Multistep != nil,
		typeTCP:       c.TCP != nil,
		typeDNS:       c.DNS != nil,
		typeTLS:       c.TLS != nil,
		typeBrowser:   c.Browser != nil,
	}
	present, known := blocks[c.Type]
	if !known {
		return []error{fmt.Errorf("type: must be one of http, multistep, tcp, dns, tls, browser, got %q", c.Type)}
	}
	var errs []error
	if !present {
		errs = append(errs, fmt.Errorf("%s: block is required for type %s", c.Type, c.Type))
	}
	for _, name := range []string{typeHTTP, typeMultistep, typeTCP, typeDNS, typeTLS, typeBrowser} {
		if name != c.Type && blocks[name] {
			errs = append(errs, fmt.Errorf("%s: block does not belong to a check of type %s", name, c.Type))
		}
	}
	if !present {
		return errs
	}
	var bodyErrs []error
	switch c.Type {
	case typeHTTP:
		bodyErrs = c.HTTP.validate()
	case typeMultistep:
		bodyErrs = c.Multistep.validate()
	case typeTCP:
		bodyErrs = c.TCP.validate()
	case typeDNS:
		bodyErrs = c.DNS.validate()
	case typeTLS:
		bodyErrs = c.TLS.validate()
	case typeBrowser:
		bodyErrs = c.Browser.validate()
	}
	for _, err := range bodyErrs {
		errs = append(errs, fmt.Errorf("%s.%w", c.Type, err))
	}
	return errs
}
