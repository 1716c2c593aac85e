package logpatternprocessor // import "github.com/ollystack/ollystack/processor/logpatternprocessor"

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
)

// Bounds of the options; they keep memory and per-record work bounded.
const (
	maxNameLength   = 256
	maxBodyBytesCap = 1 << 20
	maxClustersCap  = 1_000_000
	maxServicesCap  = 100_000
	maxTrackedCap   = 10_000_000
)

// Config configures the logpattern processor.
type Config struct {
	// BodyFields names the fields of a map body holding the message, in order
	// of preference. Records with a map body and none of these string fields
	// are skipped, as are records whose body is neither a string nor a map.
	BodyFields []string `mapstructure:"body_fields"`
	// MaxBodyBytes truncates longer messages before mining: templates come
	// from the start of a line, and the cost per record stays bounded.
	MaxBodyBytes int `mapstructure:"max_body_bytes"`
	// TemplateAttribute receives the template text.
	TemplateAttribute AttributeConfig `mapstructure:"template_attribute"`
	// TemplateIDAttribute receives the template id.
	TemplateIDAttribute AttributeConfig `mapstructure:"template_id_attribute"`
	// Miner tunes the template miner (one per service).
	Miner MinerConfig `mapstructure:"miner"`
	// NewTemplate configures the log.template.new event.
	NewTemplate NewTemplateConfig `mapstructure:"new_template"`
	// RateJump configures the log.template.rate_jump event.
	RateJump RateJumpConfig `mapstructure:"rate_jump"`
	// Storage names a storage extension (e.g. file_storage) that keeps the
	// miner's state across restarts, so template ids stay stable. Without it
	// the processor starts with no templates.
	Storage *component.ID `mapstructure:"storage"`
	// SnapshotInterval is how often the state is saved to Storage; it is also
	// saved on shutdown.
	SnapshotInterval time.Duration `mapstructure:"snapshot_interval"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// AttributeConfig enables and names one log record attribute.
type AttributeConfig struct {
	Enabled bool   `mapstructure:"enabled"`
	Name    string `mapstructure:"name"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// MinerConfig tunes the template miner; see pkg/analysis/logpattern.
type MinerConfig struct {
	// Similarity is the share of matching tokens (0..1] a line needs to join
	// an existing template.
	Similarity float64 `mapstructure:"similarity"`
	// Depth is the number of leading tokens the parse tree routes on.
	Depth int `mapstructure:"depth"`
	// MaxClusters bounds the templates held per service (LRU eviction).
	MaxClusters int `mapstructure:"max_clusters"`
	// MaxServices bounds the services with their own miner (LRU eviction).
	MaxServices int `mapstructure:"max_services"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// NewTemplateConfig configures the event emitted when a template is born.
type NewTemplateConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// Warmup after start during which births emit no event: at startup every
	// template is new, and the events would say nothing.
	Warmup time.Duration `mapstructure:"warmup"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// RateJumpConfig configures the event emitted when a template's rate jumps
// against its own baseline.
type RateJumpConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// Interval is the counting window; the baseline is an EWMA of the counts
	// of past windows.
	Interval time.Duration `mapstructure:"interval"`
	// Smoothing is the EWMA weight (0..1] of the newest window.
	Smoothing float64 `mapstructure:"smoothing"`
	// Factor: a jump is a window count above factor × baseline.
	Factor float64 `mapstructure:"factor"`
	// MinCount: a window needs at least this many records to be a jump, so
	// that rare templates (1 → 4 a minute) do not alert.
	MinCount int `mapstructure:"min_count"`
	// BaselineWindows is the number of complete windows a template must have
	// been seen for before it can jump: a young template has no baseline.
	BaselineWindows int `mapstructure:"baseline_windows"`
	// Cooldown is the least time between two jump events of one template.
	Cooldown time.Duration `mapstructure:"cooldown"`
	// MaxTemplates bounds the per-template rate table over all services
	// (LRU eviction).
	MaxTemplates int `mapstructure:"max_templates"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ confmap.Validator = (*Config)(nil)

// Validate checks each option and reports every problem at once.
func (cfg *Config) Validate() error {
	var errs []error
	seen := make(map[string]bool, len(cfg.BodyFields))
	for i, f := range cfg.BodyFields {
		switch {
		case f == "":
			errs = append(errs, fmt.Errorf("body_fields[%d] must not be empty", i))
		case len(f) > maxNameLength:
			errs = append(errs, fmt.Errorf("body_fields[%d] must be at most %d bytes", i, maxNameLength))
		case seen[f]:
			errs = append(errs, fmt.Errorf("body_fields: %q is listed twice", f))
		}
		seen[f] = true
	}
	if cfg.MaxBodyBytes < 1 || cfg.MaxBodyBytes > maxBodyBytesCap {
		errs = append(errs, fmt.Errorf("max_body_bytes must be between 1 and %d, got %d", maxBodyBytesCap, cfg.MaxBodyBytes))
	}
	errs = append(errs, cfg.TemplateAttribute.validate("template_attribute")...)
	errs = append(errs, cfg.TemplateIDAttribute.validate("template_id_attribute")...)
	if cfg.TemplateAttribute.Enabled && cfg.TemplateIDAttribute.Enabled && cfg.TemplateAttribute.Name == cfg.TemplateIDAttribute.Name {
		errs = append(errs, fmt.Errorf("template_attribute.name and template_id_attribute.name are both %q", cfg.TemplateAttribute.Name))
	}
	if !cfg.TemplateAttribute.Enabled && !cfg.TemplateIDAttribute.Enabled && !cfg.NewTemplate.Enabled && !cfg.RateJump.Enabled {
		errs = append(errs, errors.New("template_attribute, template_id_attribute, new_template and rate_jump are all disabled: the processor would do nothing"))
	}
	errs = append(errs, cfg.Miner.validate()...)
	if cfg.NewTemplate.Warmup < 0 {
		errs = append(errs, fmt.Errorf("new_template.warmup must not be negative, got %s", cfg.NewTemplate.Warmup))
	}
	errs = append(errs, cfg.RateJump.validate()...)
	if cfg.Storage != nil && cfg.SnapshotInterval <= 0 {
		errs = append(errs, fmt.Errorf("snapshot_interval must be positive when storage is set, got %s", cfg.SnapshotInterval))
	}
	return errors.Join(errs...)
}

func (a *AttributeConfig) validate(option string) []error {
	switch {
	case !a.Enabled:
		return nil
	case a.Name == "":
		return []error{fmt.Errorf("%s.name must not be empty", option)}
	case len(a.Name) > maxNameLength:
		return []error{fmt.Errorf("%s.name must be at most %d bytes", option, maxNameLength)}
	}
	return nil
}

func (m *MinerConfig) validate() []error {
	var errs []error
	if m.Similarity <= 0 || m.Similarity > 1 {
		errs = append(errs, fmt.Errorf("miner.similarity must be in (0, 1], got %v", m.Similarity))
	}
	if m.Depth < 1 || m.Depth > 16 {
		errs = append(errs, fmt.Errorf("miner.depth must be between 1 and 16, got %d", m.Depth))
	}
	if m.MaxClusters < 1 || m.MaxClusters > maxClustersCap {
		errs = append(errs, fmt.Errorf("miner.max_clusters must be between 1 and %d, got %d", maxClustersCap, m.MaxClusters))
	}
	if m.MaxServices < 1 || m.MaxServices > maxServicesCap {
		errs = append(errs, fmt.Errorf("miner.max_services must be between 1 and %d, got %d", maxServicesCap, m.MaxServices))
	}
	return errs
}

func (r *RateJumpConfig) validate() []error {
	if !r.Enabled {
		return nil
	}
	var errs []error
	if r.Interval < time.Second {
		errs = append(errs, fmt.Errorf("rate_jump.interval must be at least 1s, got %s", r.Interval))
	}
	if r.Smoothing <= 0 || r.Smoothing > 1 {
		errs = append(errs, fmt.Errorf("rate_jump.smoothing must be in (0, 1], got %v", r.Smoothing))
	}
	if r.Factor <= 1 {
		errs = append(errs, fmt.Errorf("rate_jump.factor must be greater than 1, got %v", r.Factor))
	}
	if r.MinCount < 1 {
		errs = append(errs, fmt.Errorf("rate_jump.min_count must be at least 1, got %d", r.MinCount))
	}
	if r.BaselineWindows < 1 {
		errs = append(errs, fmt.Errorf("rate_jump.baseline_windows must be at least 1, got %d", r.BaselineWindows))
	}
	if r.Cooldown < 0 {
		errs = append(errs, fmt.Errorf("rate_jump.cooldown must not be negative, got %s", r.Cooldown))
	}
	if r.MaxTemplates < 1 || r.MaxTemplates > maxTrackedCap {
		errs = append(errs, fmt.Errorf("rate_jump.max_templates must be between 1 and %d, got %d", maxTrackedCap, r.MaxTemplates))
	}
	return errs
}
