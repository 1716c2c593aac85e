package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ohler55/ojg/jp"
	"github.com/ohler55/ojg/oj"
)

// AssertionConfig is one assertion on an HTTP response. Exactly one subject
// is set: status, max_latency, header, body_contains, body_matches,
// json_path or min_tls_days_left. Header and json_path take at most one
// comparison (equals, contains, matches); without one they assert presence.
type AssertionConfig struct {
	// Status is an exact code ("200") or a class ("2xx").
	Status         string        `mapstructure:"status"`
	MaxLatency     time.Duration `mapstructure:"max_latency"`
	Header         string        `mapstructure:"header"`
	BodyContains   string        `mapstructure:"body_contains"`
	BodyMatches    string        `mapstructure:"body_matches"`
	JSONPath       string        `mapstructure:"json_path"`
	MinTLSDaysLeft int           `mapstructure:"min_tls_days_left"`

	Equals   *string `mapstructure:"equals"`
	Contains string  `mapstructure:"contains"`
	Matches  string  `mapstructure:"matches"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// response is what assertions and extractions look at.
type response struct {
	status  int
	header  http.Header
	body    []byte
	latency time.Duration
	// tlsDaysLeft is the days until the first of the leaf certificates of
	// the servers reached, redirects included, expires; hasTLS is false
	// when none presented one.
	tlsDaysLeft float64
	hasTLS      bool

	parsed    any
	parseErr  error
	parseDone bool
}

// json parses the body once, on first use.
func (r *response) json() (any, error) {
	if !r.parseDone {
		r.parsed, r.parseErr = oj.Parse(r.body)
		r.parseDone = true
	}
	return r.parsed, r.parseErr
}

// assertion is a compiled AssertionConfig.
type assertion struct {
	// name says what is asserted, e.g. `status 2xx` or `json_path $.ok`.
	name     string
	expected string
	actual   func(r *response) (actual string, ok bool)
}

// assertionFailure is the error of a run that failed an assertion or could
// not reach the point of asserting; it is reported in the failure log.
type assertionFailure struct {
	step      string
	assertion string
	expected  string
	actual    string
}

func (f *assertionFailure) Error() string {
	msg := fmt.Sprintf("assertion %s failed: expected %s, actual %s", f.assertion, f.expected, f.actual)
	if f.step != "" {
		return "step " + f.step + ": " + msg
	}
	return msg
}

// maxActualLen bounds the actual value quoted in failures, so a hostile
// or huge response cannot bloat logs.
const maxActualLen = 256

// truncate also makes s valid UTF-8, as string attributes must be: a cut
// never splits a character, and bytes of a body in another encoding become
// U+FFFD.
func truncate(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxActualLen {
		return s
	}
	cut := maxActualLen
	for cut > maxActualLen-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func (a *assertion) evaluate(r *response) *assertionFailure {
	actual, ok := a.actual(r)
	if ok {
		return nil
	}
	return &assertionFailure{assertion: a.name, expected: a.expected, actual: truncate(actual)}
}

func compileAssertions(cfgs []AssertionConfig) ([]assertion, []error) {
	var out []assertion
	var errs []error
	for i := range cfgs {
		a, err := cfgs[i].compile()
		if err != nil {
			errs = append(errs, fmt.Errorf("assertions[%d]: %w", i, err))
			continue
		}
		out = append(out, a)
	}
	return out, errs
}

func (c *AssertionConfig) subjects() int {
	n := 0
	for _, set := range []bool{c.Status != "", c.MaxLatency != 0, c.Header != "", c.BodyContains != "",
		c.BodyMatches != "", c.JSONPath != "", c.MinTLSDaysLeft != 0} {
		if set {
			n++
		}
	}
	return n
}

func (c *AssertionConfig) compile() (assertion, error) {
	if n := c.subjects(); n != 1 {
		return assertion{}, fmt.Errorf("exactly one of status, max_latency, header, body_contains, body_matches, json_path, min_tls_days_left is required, got %d", n)
	}
	hasComparison := c.Equals != nil || c.Contains != "" || c.Matches != ""
	if hasComparison && c.Header == "" && c.JSONPath == "" {
		return assertion{}, errors.New("equals, contains and matches apply only to header and json_path")
	}
	switch {
	case c.Status != "":
		return compileStatus(c.Status)
	case c.MaxLatency != 0:
		return compileMaxLatency(c.MaxLatency)
	case c.BodyContains != "":
		want := c.BodyContains
		return assertion{name: "body_contains", expected: fmt.Sprintf("body containing %q", want),
			actual: func(r *response) (string, bool) {
				return string(r.body), strings.Contains(string(r.body), want)
			}}, nil
	case c.BodyMatches != "":
		re, err := regexp.Compile(c.BodyMatches)
		if err != nil {
			return assertion{}, fmt.Errorf("body_matches: %w", err)
		}
		return assertion{name: "body_matches", expected: fmt.Sprintf("body matching %q", c.BodyMatches),
			actual: func(r *response) (string, bool) { return string(r.body), re.Match(r.body) }}, nil
	case c.MinTLSDaysLeft != 0:
		return compileTLSDays(c.MinTLSDaysLeft)
	case c.Header != "":
		cmp, err := c.comparison()
		if err != nil {
			return assertion{}, err
		}
		name := c.Header
		return assertion{name: "header " + name, expected: cmp.describe(),
			actual: func(r *response) (string, bool) {
				values, ok := r.header[http.CanonicalHeaderKey(name)]
				if !ok {
					return "header absent", false
				}
				v := strings.Join(values, ", ")
				return v, cmp.match(v)
			}}, nil
	default:
		return c.compileJSONPath()
	}
}

func compileStatus(spec string) (assertion, error) {
	lo, hi, err := parseStatusSpec(spec)
	if err != nil {
		return assertion{}, fmt.Errorf("status: %w", err)
	}
	return assertion{name: "status", expected: spec,
		actual: func(r *response) (string, bool) {
			return strconv.Itoa(r.status), r.status >= lo && r.status <= hi
		}}, nil
}

// parseStatusSpec turns "200" into [200, 200] and "2xx" into [200, 299].
func parseStatusSpec(spec string) (lo, hi int, err error) {
	if len(spec) != 3 {
		return 0, 0, fmt.Errorf("%q is neither a status code nor a class such as 2xx", spec)
	}
	if spec[0] < '1' || spec[0] > '5' {
		return 0, 0, fmt.Errorf("%q: status codes range from 100 to 599", spec)
	}
	if strings.EqualFold(spec[1:], "xx") {
		lo = int(spec[0]-'0') * 100
		return lo, lo + 99, nil
	}
	if spec[1] < '0' || spec[1] > '9' || spec[2] < '0' || spec[2] > '9' {
		return 0, 0, fmt.Errorf("%q is neither a status code nor a class such as 2xx", spec)
	}
	code := int(spec[0]-'0')*100 + int(spec[1]-'0')*10 + int(spec[2]-'0')
	return code, code, nil
}

func compileMaxLatency(max time.Duration) (assertion, error) {
	if max < 0 {
		return assertion{}, fmt.Errorf("max_latency: must be positive, got %s", max)
	}
	return assertion{name: "max_latency", expected: "latency <= " + max.String(),
		actual: func(r *response) (string, bool) { return r.latency.String(), r.latency <= max }}, nil
}

func compileTLSDays(days int) (assertion, error) {
	if days < 0 {
		return assertion{}, fmt.Errorf("min_tls_days_left: must be positive, got %d", days)
	}
	return assertion{name: "min_tls_days_left", expected: fmt.Sprintf("at least %d days of certificate validity", days),
		actual: func(r *response) (string, bool) {
			if !r.hasTLS {
				return "no TLS connection", false
			}
			return strconv.FormatFloat(r.tlsDaysLeft, 'f', 1, 64) + " days", r.tlsDaysLeft >= float64(days)
		}}, nil
}

func (c *AssertionConfig) compileJSONPath() (assertion, error) {
	expr, err := jp.ParseString(c.JSONPath)
	if err != nil {
		return assertion{}, fmt.Errorf("json_path: %w", err)
	}
	cmp, err := c.comparison()
	if err != nil {
		return assertion{}, err
	}
	return assertion{name: "json_path " + c.JSONPath, expected: cmp.describe(),
		actual: func(r *response) (string, bool) {
			doc, err := r.json()
			if err != nil {
				return "body is not JSON: " + err.Error(), false
			}
			results, err := jsonPathGet(expr, doc)
			if err != nil {
				return err.Error(), false
			}
			if len(results) == 0 {
				return "no match", false
			}
			v := jsonText(results[0])
			return v, cmp.match(v)
		}}, nil
}

// jsonPathGet evaluates expr on doc. ojg panics on some expressions over
// some documents (fuzzing found a filter over a null body); a target's
// response must never crash the collector, so the panic becomes an error.
func jsonPathGet(expr jp.Expr, doc any) (results []any, err error) {
	defer func() {
		if p := recover(); p != nil {
			results, err = nil, fmt.Errorf("json_path %s cannot be evaluated on this body: %v", expr, p)
		}
	}()
	return expr.Get(doc), nil
}

// jsonText renders a JSONPath result for comparison: strings as they are,
// anything else as compact JSON (so 42, true and {"a":1} compare naturally).
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return oj.JSON(v)
}

// comparison is the optional equals / contains / matches of a header or
// JSONPath assertion.
type comparison struct {
	equals   *string
	contains string
	matches  *regexp.Regexp
}

func (c *AssertionConfig) comparison() (comparison, error) {
	n := 0
	for _, set := range []bool{c.Equals != nil, c.Contains != "", c.Matches != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return comparison{}, errors.New("set at most one of equals, contains, matches")
	}
	cmp := comparison{equals: c.Equals, contains: c.Contains}
	if c.Matches != "" {
		re, err := regexp.Compile(c.Matches)
		if err != nil {
			return comparison{}, fmt.Errorf("matches: %w", err)
		}
		cmp.matches = re
	}
	return cmp, nil
}

func (c comparison) match(v string) bool {
	switch {
	case c.equals != nil:
		return v == *c.equals
	case c.contains != "":
		return strings.Contains(v, c.contains)
	case c.matches != nil:
		return c.matches.MatchString(v)
	default:
		return true
	}
}

func (c comparison) describe() string {
	switch {
	case c.equals != nil:
		return strconv.Quote(*c.equals)
	case c.contains != "":
		return "containing " + strconv.Quote(c.contains)
	case c.matches != nil:
		return "matching " + strconv.Quote(c.matches.String())
	default:
		return "present"
	}
}
