package correlationprocessor // import "github.com/ollystack/ollystack/processor/correlationprocessor"

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/confmap"

	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
	"github.com/ollystack/ollystack/processor/correlationprocessor/internal/idcache"
)

// maxNameLength bounds configured attribute and header names; the attribute
// matcher indexes candidates by key length.
const maxNameLength = 256

// Config configures the correlation processor.
type Config struct {
	// Attribute is the attribute that receives the correlation id on spans,
	// log records and exemplars.
	Attribute string `mapstructure:"attribute"`
	// IDPrefix starts every derived id: {id_prefix}-t-{32 hex trace id}.
	IDPrefix string `mapstructure:"id_prefix"`
	// GenerateIfMissing derives an id from the trace id when no explicit id is
	// known for the trace.
	GenerateIfMissing bool `mapstructure:"generate_if_missing"`
	// ExtractFromHeaders names request headers holding an explicit id, looked up
	// case-insensitively in the request metadata (receivers with
	// include_metadata: true) and in http.request.header.<name> attributes.
	ExtractFromHeaders []string `mapstructure:"extract_from_headers"`
	// ExtractFromAttributes names attributes (and log body fields) holding an
	// explicit id, in order of preference.
	ExtractFromAttributes []string `mapstructure:"extract_from_attributes"`
	// ExtractFromBaggage also reads W3C baggage: the baggage header of the
	// request metadata and the http.request.header.baggage attribute.
	ExtractFromBaggage bool `mapstructure:"extract_from_baggage"`
	// EnrichSpans, EnrichLogs and EnrichMetrics choose which signals get the
	// attribute. Spans are always read, so their explicit ids reach logs and
	// exemplars even when spans are not enriched.
	EnrichSpans   bool `mapstructure:"enrich_spans"`
	EnrichLogs    bool `mapstructure:"enrich_logs"`
	EnrichMetrics bool `mapstructure:"enrich_metrics"`
	// Cache bounds the trace id → explicit id cache.
	Cache CacheConfig `mapstructure:"cache"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// CacheConfig bounds the trace id → explicit correlation id cache.
type CacheConfig struct {
	// MaxTraces is the number of traces remembered; memory is preallocated and
	// bounded by max_traces × idcache.BytesPerEntry.
	MaxTraces int `mapstructure:"max_traces"`
	// TTL is how long an entry lives after it was last written or read.
	TTL time.Duration `mapstructure:"ttl"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ confmap.Validator = (*Config)(nil)

// Validate checks each option and reports every problem at once.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.Attribute == "" {
		errs = append(errs, errors.New("attribute must not be empty"))
	} else if len(cfg.Attribute) > maxNameLength {
		errs = append(errs, fmt.Errorf("attribute must be at most %d bytes", maxNameLength))
	}
	errs = append(errs, cfg.validatePrefix()...)
	errs = append(errs, validateNames("extract_from_headers", cfg.ExtractFromHeaders, baggageHeader, isHeaderName, strings.ToLower)...)
	errs = append(errs, validateNames("extract_from_attributes", cfg.ExtractFromAttributes, headerAttributePrefix+baggageHeader, func(string) bool { return true }, nil)...)
	if !cfg.EnrichSpans && !cfg.EnrichLogs && !cfg.EnrichMetrics {
		errs = append(errs, errors.New("enrich_spans, enrich_logs and enrich_metrics are all false: the processor would change nothing"))
	}
	if cfg.Cache.MaxTraces < 1 || cfg.Cache.MaxTraces > idcache.MaxTraces {
		errs = append(errs, fmt.Errorf("cache.max_traces must be between 1 and %d, got %d", idcache.MaxTraces, cfg.Cache.MaxTraces))
	}
	if cfg.Cache.TTL <= 0 {
		errs = append(errs, fmt.Errorf("cache.ttl must be positive, got %s", cfg.Cache.TTL))
	} else if cfg.Cache.TTL > idcache.MaxTTL {
		errs = append(errs, fmt.Errorf("cache.ttl must be at most %s, got %s", idcache.MaxTTL, cfg.Cache.TTL))
	}
	return errors.Join(errs...)
}

func (cfg *Config) validatePrefix() []error {
	switch {
	case cfg.IDPrefix == "" && cfg.GenerateIfMissing:
		return []error{errors.New("id_prefix must not be empty when generate_if_missing is true")}
	case cfg.IDPrefix == "":
		return nil
	case len(cfg.IDPrefix) > correlationid.MaxPrefixLength:
		return []error{fmt.Errorf("id_prefix must be at most %d bytes so derived ids stay within %d", correlationid.MaxPrefixLength, correlationid.MaxLength)}
	case !correlationid.Valid(cfg.IDPrefix):
		return []error{fmt.Errorf("id_prefix %q may contain only ASCII letters, digits and - _ . : @ + = ~", cfg.IDPrefix)}
	}
	return nil
}

// validateNames rejects empty, overlong, malformed and duplicate names, and
// the name of the baggage header (any case): read as one id, a whole baggage
// header such as "correlation_id=abc" passes as an id, and it would hide the
// member lookup of extract_from_baggage. normalize (may be nil) defines which
// names count as duplicates.
func validateNames(option string, names []string, baggage string, wellFormed func(string) bool, normalize func(string) string) []error {
	var errs []error
	seen := make(map[string]bool, len(names))
	for i, name := range names {
		key := name
		if normalize != nil {
			key = normalize(name)
		}
		switch {
		case name == "":
			errs = append(errs, fmt.Errorf("%s[%d] must not be empty", option, i))
		case len(name) > maxNameLength:
			errs = append(errs, fmt.Errorf("%s[%d] must be at most %d bytes", option, i, maxNameLength))
		case !wellFormed(name):
			errs = append(errs, fmt.Errorf("%s[%d] %q is not a valid name", option, i, name))
		case strings.EqualFold(name, baggage):
			errs = append(errs, fmt.Errorf("%s[%d] %q is the W3C baggage header, whose members extract_from_baggage reads", option, i, name))
		case seen[key]:
			errs = append(errs, fmt.Errorf("%s[%d] %q is listed twice", option, i, name))
		}
		seen[key] = true
	}
	return errs
}

// isHeaderName accepts RFC 9110 token characters.
func isHeaderName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
