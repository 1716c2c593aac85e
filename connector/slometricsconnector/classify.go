package slometricsconnector // import "github.com/ollystack/ollystack/connector/slometricsconnector"

import (
	"context"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

const (
	attrSynthetic     = "synthetic"
	attrCorrelationID = "correlation_id"
	// Current and legacy semantic conventions for the HTTP response status.
	attrHTTPResponseStatusCode = "http.response.status_code"
	attrHTTPStatusCode         = "http.status_code"
)

// spanFacts caches what SLOs ask of a span, so ten SLOs on one service look
// its attributes up once, not ten times.
type spanFacts struct {
	resourceSpans     ptrace.ResourceSpans
	scopeSpans        ptrace.ScopeSpans
	span              ptrace.Span
	resourceSynthetic bool
	synthetic         lazyBool
	serverError       lazyBool
	// badEvent is built once for all the SLOs that find the span bad.
	badEvent    badEvent
	hasBadEvent bool
}

func (f *spanFacts) asBadEvent(at pcommon.Timestamp) badEvent {
	if !f.hasBadEvent {
		f.badEvent = newBadEvent(at, f.span)
		f.hasBadEvent = true
	}
	return f.badEvent
}

type lazyBool uint8

const (
	unknown lazyBool = iota
	no
	yes
)

func (f *spanFacts) isSynthetic() bool {
	if f.synthetic == unknown {
		f.synthetic = no
		if f.resourceSynthetic || isSynthetic(f.span.Attributes()) {
			f.synthetic = yes
		}
	}
	return f.synthetic == yes
}

func (f *spanFacts) isServerError() bool {
	if f.serverError == unknown {
		f.serverError = no
		if isServerError(f.span.Attributes()) {
			f.serverError = yes
		}
	}
	return f.serverError == yes
}

// classify reports whether the SLO counts the span and, if so, whether it is a
// bad event.
func (def *sloDef) classify(ctx context.Context, f *spanFacts) (counted, bad bool) {
	span := f.span
	kind := span.Kind()
	if kind < 0 || int(kind) >= len(def.kinds) || !def.kinds[kind] {
		return false, false
	}
	if def.spanNames != nil {
		if _, ok := def.spanNames[span.Name()]; !ok {
			return false, false
		}
	}
	if def.synthetic != SyntheticInclude && f.isSynthetic() != (def.synthetic == SyntheticOnly) {
		return false, false
	}
	if def.condition != nil && !def.condition.matches(ctx, f) {
		return false, false
	}
	if def.sliKind == SLILatency {
		return true, spanDuration(span) > int64(def.threshold)
	}
	if span.Status().Code() == ptrace.StatusCodeError {
		return true, true
	}
	return true, def.http5xx && f.isServerError()
}

func spanDuration(span ptrace.Span) int64 {
	start, end := span.StartTimestamp(), span.EndTimestamp()
	if end < start {
		return 0
	}
	return int64(end - start)
}

// isSynthetic reports whether the attributes mark synthetic traffic, as the
// synthetics receiver does with synthetic=true (bool or string).
func isSynthetic(attrs pcommon.Map) bool {
	v, ok := attrs.Get(attrSynthetic)
	if !ok {
		return false
	}
	switch v.Type() {
	case pcommon.ValueTypeBool:
		return v.Bool()
	case pcommon.ValueTypeStr:
		return strings.EqualFold(v.Str(), "true")
	default:
		return false
	}
}

// isServerError reports a 5xx HTTP status under either semantic convention,
// whether recorded as an int or a string.
func isServerError(attrs pcommon.Map) bool {
	v, ok := attrs.Get(attrHTTPResponseStatusCode)
	if !ok {
		if v, ok = attrs.Get(attrHTTPStatusCode); !ok {
			return false
		}
	}
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int() >= 500 && v.Int() <= 599
	case pcommon.ValueTypeStr:
		s := v.Str()
		return len(s) == 3 && s[0] == '5' && isDigit(s[1]) && isDigit(s[2])
	default:
		return false
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func sortedKeys(m map[string]struct{}) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
