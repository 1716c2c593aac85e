package slometricsconnector // import "github.com/ollystack/ollystack/connector/slometricsconnector"

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// sloWindow is a rolling window, or the current calendar month.
type sloWindow struct {
	rolling       time.Duration
	calendarMonth bool
}

func (w sloWindow) String() string {
	if w.calendarMonth {
		return windowCalendarMonth
	}
	return formatWindow(w.rolling)
}

// alertDef is a validated AlertConfig.
type alertDef struct {
	name, severity string
	long, short    time.Duration
	burnRate       float64
}

// sloDef is a validated SLOConfig, shaped for classifying spans quickly.
type sloDef struct {
	name, description, service string
	// kinds is indexed by ptrace.SpanKind.
	kinds     [ptrace.SpanKindConsumer + 1]bool
	spanNames map[string]struct{}
	condition *spanCondition
	sliKind   string
	threshold time.Duration
	http5xx   bool
	// objective is the target as a fraction, e.g. 0.999.
	objective float64
	window    sloWindow
	alerts    []alertDef
	minEvents int64
	synthetic string
}

var spanKindsByName = map[string]ptrace.SpanKind{
	"internal": ptrace.SpanKindInternal,
	"server":   ptrace.SpanKindServer,
	"client":   ptrace.SpanKindClient,
	"producer": ptrace.SpanKindProducer,
	"consumer": ptrace.SpanKindConsumer,
}

// compileSLO validates one SLO and fills its defaults.
func compileSLO(cfg *SLOConfig) (*sloDef, error) {
	var errs []error
	def := &sloDef{
		name:        cfg.Name,
		description: cfg.Description,
		service:     cfg.Service,
		sliKind:     cfg.SLI.Kind,
		threshold:   cfg.SLI.Threshold,
		http5xx:     cfg.SLI.HTTPServerErrors,
		objective:   cfg.Target / 100,
		minEvents:   cfg.MinEvents,
		synthetic:   cfg.Synthetic,
	}
	if cfg.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if cfg.Service == "" {
		errs = append(errs, errors.New("service is required"))
	}
	kinds := cfg.SpanKinds
	if len(kinds) == 0 {
		kinds = []string{"server", "consumer"}
	}
	for _, k := range kinds {
		kind, ok := spanKindsByName[strings.ToLower(k)]
		if !ok {
			errs = append(errs, fmt.Errorf("unknown span kind %q (want internal, server, client, producer or consumer)", k))
			continue
		}
		def.kinds[kind] = true
	}
	if len(cfg.SpanNames) > 0 {
		def.spanNames = make(map[string]struct{}, len(cfg.SpanNames))
		for _, n := range cfg.SpanNames {
			def.spanNames[n] = struct{}{}
		}
	}
	if cfg.Condition != "" {
		condition, err := parseSpanCondition(cfg.Condition)
		if err != nil {
			errs = append(errs, err)
		}
		def.condition = condition
	}
	switch cfg.SLI.Kind {
	case SLIAvailability, SLIErrorRate:
		if cfg.SLI.Threshold != 0 {
			errs = append(errs, fmt.Errorf("sli.threshold applies only to the latency SLI, not %q", cfg.SLI.Kind))
		}
	case SLILatency:
		if cfg.SLI.Threshold <= 0 {
			errs = append(errs, fmt.Errorf("sli.threshold must be positive for the latency SLI, got %v", cfg.SLI.Threshold))
		}
		if cfg.SLI.HTTPServerErrors {
			errs = append(errs, errors.New("sli.http_server_errors applies only to the availability and error_rate SLIs"))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown sli.kind %q (want availability, error_rate or latency)", cfg.SLI.Kind))
	}
	if math.IsNaN(cfg.Target) || cfg.Target <= 0 || cfg.Target >= 100 {
		errs = append(errs, fmt.Errorf("target must be a percentage in (0, 100), got %v", cfg.Target))
	}
	switch cfg.Synthetic {
	case "":
		def.synthetic = SyntheticInclude
	case SyntheticInclude, SyntheticExclude, SyntheticOnly:
	default:
		errs = append(errs, fmt.Errorf("unknown synthetic mode %q (want include, exclude or only)", cfg.Synthetic))
	}
	if cfg.MinEvents < 0 {
		errs = append(errs, fmt.Errorf("min_events must not be negative, got %d", cfg.MinEvents))
	}
	window, err := compileSLOWindow(cfg.Window)
	if err != nil {
		errs = append(errs, err)
	} else {
		def.window = window
	}
	alerts := cfg.Alerts
	if len(alerts) == 0 {
		alerts = defaultAlerts()
	}
	alertNames := make(map[string]bool, len(alerts))
	for i := range alerts {
		a, err := compileAlert(&alerts[i], def)
		if err != nil {
			errs = append(errs, fmt.Errorf("alerts[%d] %q: %w", i, alerts[i].Name, err))
			continue
		}
		if alertNames[a.name] {
			errs = append(errs, fmt.Errorf("alerts[%d]: duplicate name %q", i, a.name))
		}
		alertNames[a.name] = true
		def.alerts = append(def.alerts, a)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return def, nil
}

func compileSLOWindow(s string) (sloWindow, error) {
	switch s {
	case "":
		s = defaultWindow
	case windowCalendarMonth:
		return sloWindow{calendarMonth: true}, nil
	}
	d, err := parseWindow(s)
	if err != nil {
		return sloWindow{}, fmt.Errorf("window: %w", err)
	}
	if d%time.Hour != 0 || d > maxSLOWindow {
		return sloWindow{}, fmt.Errorf("window %q must be whole hours up to %s, or %s", s, formatWindow(maxSLOWindow), windowCalendarMonth)
	}
	return sloWindow{rolling: d}, nil
}

// compileAlert validates an alert against its SLO: both windows must be whole
// minutes, the long window must fit in the SLO window and the burn rate must
// be reachable at all with the SLO's target.
func compileAlert(cfg *AlertConfig, slo *sloDef) (alertDef, error) {
	var errs []error
	a := alertDef{name: cfg.Name, severity: cfg.Severity, burnRate: cfg.BurnRate}
	if cfg.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	var err error
	if a.long, err = parseAlertWindow(cfg.LongWindow); err != nil {
		errs = append(errs, fmt.Errorf("long_window: %w", err))
	}
	if a.short, err = parseAlertWindow(cfg.ShortWindow); err != nil {
		errs = append(errs, fmt.Errorf("short_window: %w", err))
	}
	if a.long > 0 && a.short > 0 && a.short >= a.long {
		errs = append(errs, fmt.Errorf("short_window %s must be shorter than long_window %s", cfg.ShortWindow, cfg.LongWindow))
	}
	if sloLength := slo.window.rolling; slo.window.calendarMonth || sloLength > 0 {
		if slo.window.calendarMonth {
			sloLength = minMonthLength
		}
		if a.long > sloLength {
			errs = append(errs, fmt.Errorf("long_window %s does not fit in the SLO window %s", cfg.LongWindow, slo.window))
		}
	}
	if math.IsNaN(cfg.BurnRate) || cfg.BurnRate <= 0 {
		errs = append(errs, fmt.Errorf("burn_rate must be positive, got %v", cfg.BurnRate))
	} else if budget := 1 - slo.objective; slo.objective > 0 && slo.objective < 1 && !reaches(1/budget, cfg.BurnRate) {
		// Compared as the alert compares at runtime: every event bad gives
		// 1/budget, which float rounding may put a hair below the burn rate.
		errs = append(errs, fmt.Errorf("burn_rate %v can never be reached with target %v%%: the highest burn rate is %.4g", cfg.BurnRate, slo.objective*100, 1/budget))
	}
	return a, errors.Join(errs...)
}

func parseAlertWindow(s string) (time.Duration, error) {
	d, err := parseWindow(s)
	if err != nil {
		return 0, err
	}
	if d%time.Minute != 0 || d > maxAlertWindow {
		return 0, fmt.Errorf("window %q must be whole minutes up to %s", s, formatWindow(maxAlertWindow))
	}
	return d, nil
}

// maxLongWindow is the longest alert window, which the per-minute buckets
// must cover.
func (def *sloDef) maxLongWindow() time.Duration {
	var longest time.Duration
	for _, a := range def.alerts {
		longest = max(longest, a.long)
	}
	return longest
}

// fingerprint identifies what the SLO counts, so state persisted under a name
// whose definition has since changed is dropped rather than mixed in.
func (def *sloDef) fingerprint() string {
	condition := ""
	if def.condition != nil {
		condition = def.condition.source
	}
	return fmt.Sprintf("%s|%v|%v|%q|%s|%v|%v|%s", def.service, def.kinds, sortedKeys(def.spanNames), condition, def.sliKind, def.threshold, def.http5xx, def.synthetic)
}
