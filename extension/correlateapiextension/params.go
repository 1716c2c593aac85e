package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ollystack/ollystack/internal/httpapi"
	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
)

// Parameter names as they appear in URLs and in error answers.
const (
	paramCorrelationID = "correlation_id"
	paramTraceID       = "trace_id"
	paramService       = "service"
	paramErrors        = "errors"
	paramMinDuration   = "min_duration"
	paramSince         = "since"
	paramUntil         = "until"
	paramLimit         = "limit"
)

const (
	// maxParamLength bounds every query parameter value; real values (a
	// service name, a timestamp) are far shorter.
	maxParamLength = 256
	// maxLookback bounds relative `since` values and time windows.
	maxLookback = 366 * 24 * time.Hour
	// defaultServicesWindow is the topology window when `since` is absent.
	defaultServicesWindow = 15 * time.Minute
)

// parseCorrelationID validates the raw (still percent-encoded) path segment.
// Ids use a charset that never needs escaping, so an escaped slash or dot
// is a path trick, and "." / ".." are refused outright.
func parseCorrelationID(raw string) (string, *httpapi.Error) {
	if len(raw) > 3*correlationid.MaxLength {
		return "", httpapi.ParamError(paramCorrelationID, "too long")
	}
	id, err := url.PathUnescape(raw)
	if err != nil {
		return "", httpapi.ParamError(paramCorrelationID, "malformed percent-encoding")
	}
	if id == "." || id == ".." {
		return "", httpapi.ParamError(paramCorrelationID, "not an id")
	}
	if len(id) > correlationid.MaxLength {
		return "", httpapi.ParamError(paramCorrelationID, "longer than "+strconv.Itoa(correlationid.MaxLength)+" bytes")
	}
	if !correlationid.Valid(id) {
		return "", httpapi.ParamError(paramCorrelationID, "must be 1 to "+strconv.Itoa(correlationid.MaxLength)+" characters of A-Z a-z 0-9 - _ . : @ + = ~")
	}
	return id, nil
}

// parseTraceID accepts 32 hex digits naming a non-zero trace.
func parseTraceID(raw string) (signalstore.TraceID, *httpapi.Error) {
	if len(raw) != 32 {
		return signalstore.TraceID{}, httpapi.ParamError(paramTraceID, "must be 32 hex digits")
	}
	id, err := signalstore.ParseTraceID(raw)
	if err != nil || id.IsEmpty() {
		return signalstore.TraceID{}, httpapi.ParamError(paramTraceID, "must be 32 hex digits, not all zero")
	}
	return id, nil
}

// parseQuery parses a raw query string strictly. url.URL.Query drops
// malformed pairs (a bad escape, a semicolon) silently, which turns a typo
// in a filter into an unfiltered answer; here any malformed pair is a 400,
// naming its parameter when the name itself is readable.
func parseQuery(raw string) (url.Values, *httpapi.Error) {
	q, err := url.ParseQuery(raw)
	if err == nil {
		return q, nil
	}
	// ParseQuery says what is wrong, not where: find the first bad pair.
	for pair := range strings.SplitSeq(raw, "&") {
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, nameErr := url.QueryUnescape(rawName)
		if nameErr != nil || strings.Contains(rawName, ";") {
			break
		}
		if _, valueErr := url.QueryUnescape(rawValue); valueErr == nil && !strings.Contains(rawValue, ";") {
			continue
		}
		if len(name) <= maxParamLength && printable(name) {
			return nil, httpapi.ParamError(name, "malformed value: an invalid percent-escape or an unescaped semicolon (write %3B)")
		}
		break
	}
	return nil, httpapi.BadRequest("malformed query string: " + err.Error())
}

// queryValue returns the single value of a query parameter, refusing
// repeated or oversized ones so that no value is silently ignored.
func queryValue(q url.Values, name string) (string, bool, *httpapi.Error) {
	values, ok := q[name]
	if !ok {
		return "", false, nil
	}
	if len(values) != 1 {
		return "", false, httpapi.ParamError(name, "given more than once")
	}
	v := values[0]
	if len(v) > maxParamLength {
		return "", false, httpapi.ParamError(name, "longer than "+strconv.Itoa(maxParamLength)+" bytes")
	}
	return v, true, nil
}

// parseCorrelationFilter reads the query of GET /api/v1/correlations.
func parseCorrelationFilter(q url.Values, now time.Time, maxLimit int) (signalstore.CorrelationFilter, *httpapi.Error) {
	var f signalstore.CorrelationFilter
	if v, ok, aerr := queryValue(q, paramService); aerr != nil {
		return f, aerr
	} else if ok {
		if !printable(v) {
			return f, httpapi.ParamError(paramService, "must be printable UTF-8")
		}
		f.Service = v
	}
	if v, ok, aerr := queryValue(q, paramErrors); aerr != nil {
		return f, aerr
	} else if ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, httpapi.ParamError(paramErrors, "must be true or false")
		}
		f.ErrorsOnly = b
	}
	if v, ok, aerr := queryValue(q, paramMinDuration); aerr != nil {
		return f, aerr
	} else if ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > maxLookback {
			return f, httpapi.ParamError(paramMinDuration, "must be a non-negative duration such as 250ms or 2s")
		}
		f.MinDuration = d
	}
	if v, ok, aerr := queryValue(q, paramSince); aerr != nil {
		return f, aerr
	} else if ok {
		t, aerr := parseSince(v, now)
		if aerr != nil {
			return f, aerr
		}
		f.Since = t
	}
	if v, ok, aerr := queryValue(q, paramUntil); aerr != nil {
		return f, aerr
	} else if ok {
		t, aerr := parseUntil(v)
		if aerr != nil {
			return f, aerr
		}
		if !f.Since.IsZero() && !f.Since.Before(t) {
			return f, httpapi.ParamError(paramSince, "must be before until")
		}
		f.Until = t
	}
	f.Limit = signalstore.DefaultCorrelationLimit
	if f.Limit > maxLimit {
		f.Limit = maxLimit
	}
	if v, ok, aerr := queryValue(q, paramLimit); aerr != nil {
		return f, aerr
	} else if ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return f, httpapi.ParamError(paramLimit, "must be an integer between 1 and "+strconv.Itoa(maxLimit))
		}
		f.Limit = n
	}
	return f, nil
}

// parseTimeWindow reads `since` and `until` (GET /api/v1/services). Both
// are optional: the window defaults to the last 15 minutes.
func parseTimeWindow(q url.Values, now time.Time) (signalstore.TimeRange, *httpapi.Error) {
	tr := signalstore.TimeRange{Start: now.Add(-defaultServicesWindow), End: now}
	if v, ok, aerr := queryValue(q, paramSince); aerr != nil {
		return tr, aerr
	} else if ok {
		t, aerr := parseSince(v, now)
		if aerr != nil {
			return tr, aerr
		}
		tr.Start = t
	}
	if v, ok, aerr := queryValue(q, paramUntil); aerr != nil {
		return tr, aerr
	} else if ok {
		t, aerr := parseUntil(v)
		if aerr != nil {
			return tr, aerr
		}
		tr.End = t
	}
	if !tr.Start.Before(tr.End) {
		return tr, httpapi.ParamError(paramSince, "must be before until")
	}
	if tr.End.Sub(tr.Start) > maxLookback {
		return tr, httpapi.ParamError(paramSince, "window longer than 366 days")
	}
	return tr, nil
}

// parseSince accepts a lookback duration ("15m", meaning 15 minutes before
// now) or an RFC 3339 timestamp.
func parseSince(v string, now time.Time) (time.Time, *httpapi.Error) {
	if d, err := time.ParseDuration(v); err == nil {
		if d <= 0 || d > maxLookback {
			return time.Time{}, httpapi.ParamError(paramSince, "lookback must be positive and at most 366 days")
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, httpapi.ParamError(paramSince, "must be a duration such as 15m or an RFC 3339 timestamp")
	}
	return t, checkStorable(paramSince, t)
}

// parseUntil accepts an RFC 3339 timestamp.
func parseUntil(v string) (time.Time, *httpapi.Error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, httpapi.ParamError(paramUntil, "must be an RFC 3339 timestamp")
	}
	return t, checkStorable(paramUntil, t)
}

// checkStorable refuses a bound that stores cannot compare: outside
// signalstore's MinTime..MaxTime it would wrap around (and year 1 is the zero
// time, meaning no bound), so the answer would silently be wrong.
func checkStorable(param string, t time.Time) *httpapi.Error {
	if !signalstore.Storable(t) {
		return httpapi.ParamError(param, "must lie between the years 1678 and 2262")
	}
	return nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
