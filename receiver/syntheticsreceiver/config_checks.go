package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/miekg/dns"
	"github.com/ohler55/ojg/jp"
)

// defaultMaxRedirects matches net/http's own limit.
const defaultMaxRedirects = 10

// ClientTLSConfig configures how checks verify servers.
type ClientTLSConfig struct {
	// CAFile is a PEM bundle trusted instead of the system roots.
	CAFile string `mapstructure:"ca_file"`
	// InsecureSkipVerify disables certificate verification; the receiver
	// logs a warning at start for every check that sets it.
	InsecureSkipVerify bool `mapstructure:"insecure_skip_verify"`
	// ServerName overrides the name used for SNI and verification.
	ServerName string `mapstructure:"server_name"`
}

// HTTPRequestConfig is one outgoing HTTP request. In multistep checks every
// field but method may hold ${var} placeholders.
type HTTPRequestConfig struct {
	Method  string            `mapstructure:"method"`
	URL     string            `mapstructure:"url"`
	Headers map[string]string `mapstructure:"headers"`
	Body    string            `mapstructure:"body"`
}

// HTTPCheckConfig is a single request with assertions on its response.
type HTTPCheckConfig struct {
	HTTPRequestConfig `mapstructure:",squash"`
	TLS               ClientTLSConfig `mapstructure:"tls"`
	// MaxRedirects is how many redirects are followed; unset means 10 and
	// 0 means the redirect response itself is asserted on.
	MaxRedirects *int              `mapstructure:"max_redirects"`
	Assertions   []AssertionConfig `mapstructure:"assertions"`
}

// MultistepCheckConfig is an ordered journey of HTTP requests.
type MultistepCheckConfig struct {
	// Variables are the initial values for ${var} placeholders.
	Variables    map[string]string `mapstructure:"variables"`
	TLS          ClientTLSConfig   `mapstructure:"tls"`
	MaxRedirects *int              `mapstructure:"max_redirects"`
	Steps        []StepConfig      `mapstructure:"steps"`
}

// StepConfig is one request of a multistep check.
type StepConfig struct {
	Name              string `mapstructure:"name"`
	HTTPRequestConfig `mapstructure:",squash"`
	Assertions        []AssertionConfig `mapstructure:"assertions"`
	Extract           []ExtractConfig   `mapstructure:"extract"`
}

// ExtractConfig stores one value of a step's response in a variable. Exactly
// one source is set: json_path (first match), regex (first capture group,
// or the whole match without groups, over the body) or header.
type ExtractConfig struct {
	Var      string `mapstructure:"var"`
	JSONPath string `mapstructure:"json_path"`
	Regex    string `mapstructure:"regex"`
	Header   string `mapstructure:"header"`
}

// TCPCheckConfig connects, optionally sends a payload and expects a reply.
type TCPCheckConfig struct {
	Address string `mapstructure:"address"`
	Send    string `mapstructure:"send"`
	// Expect must appear in what the server sends back; reading stops as
	// soon as it does.
	Expect string `mapstructure:"expect"`
}

// DNSCheckConfig resolves a name against a given server.
type DNSCheckConfig struct {
	Server     string `mapstructure:"server"`
	Name       string `mapstructure:"name"`
	RecordType string `mapstructure:"record_type"`
	// Protocol is udp or tcp.
	Protocol string `mapstructure:"protocol"`
	// Expect lists values (an address, a CNAME target, a TXT string…) that
	// must all be among the answers.
	Expect []string `mapstructure:"expect"`
}

// TLSCheckConfig checks a server certificate's chain and expiry.
type TLSCheckConfig struct {
	Address            string `mapstructure:"address"`
	ServerName         string `mapstructure:"server_name"`
	CAFile             string `mapstructure:"ca_file"`
	InsecureSkipVerify bool   `mapstructure:"insecure_skip_verify"`
	// MinDaysLeft fails the check when the leaf certificate expires sooner.
	MinDaysLeft int `mapstructure:"min_days_left"`
}

func (c *HTTPRequestConfig) validate(allowPlaceholders bool) []error {
	var errs []error
	if c.Method != "" && !isToken(c.Method) {
		errs = append(errs, fmt.Errorf("method: %q is not an HTTP method token", c.Method))
	}
	for name, value := range c.Headers {
		if !isToken(name) {
			errs = append(errs, fmt.Errorf("headers: %q is not a valid header name", name))
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			errs = append(errs, fmt.Errorf("headers.%s: value contains a line break or NUL", name))
		}
	}
	if c.URL == "" {
		return append(errs, errors.New("url: must not be empty"))
	}
	if allowPlaceholders && strings.Contains(c.URL, "${") {
		return errs // checked once the placeholders are known
	}
	if err := validHTTPURL(c.URL); err != nil {
		errs = append(errs, fmt.Errorf("url: %w", err))
	}
	return errs
}

// isToken reports whether s is an HTTP token (RFC 9110), as methods and
// header names must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < '!' || b > '~' || strings.IndexByte(`"(),/:;<=>?@[\]{}`, b) >= 0 {
			return false
		}
	}
	return true
}

// validHTTPURL's errors never quote a password the URL may carry: a journey's
// rendered URL fails a run, and the failure goes into telemetry.
func validHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL field is raw
		}
		return fmt.Errorf("not a valid URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: scheme must be http or https", redactURL(raw))
	}
	if u.Host == "" {
		return fmt.Errorf("%q: host is missing", redactURL(raw))
	}
	return nil
}

func validateMaxRedirects(n *int) []error {
	if n != nil && *n < 0 {
		return []error{fmt.Errorf("max_redirects: must not be negative, got %d", *n)}
	}
	return nil
}

func (c *HTTPCheckConfig) validate() []error {
	errs := c.HTTPRequestConfig.validate(false)
	errs = append(errs, validateMaxRedirects(c.MaxRedirects)...)
	_, assertErrs := compileAssertions(c.Assertions)
	return append(errs, assertErrs...)
}

func (c *MultistepCheckConfig) validate() []error {
	errs := validateMaxRedirects(c.MaxRedirects)
	if len(c.Steps) == 0 {
		errs = append(errs, errors.New("steps: at least one step is required"))
	}
	defined := make(map[string]bool, len(c.Variables))
	extracted := map[string]bool{}
	for name := range c.Variables {
		if err := validVarName(name); err != nil {
			errs = append(errs, fmt.Errorf("variables: %w", err))
		}
		defined[name] = true
	}
	names := make(map[string]bool, len(c.Steps))
	for i := range c.Steps {
		s := &c.Steps[i]
		label := fmt.Sprintf("steps[%d]", i)
		if s.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: must not be empty", label))
		} else {
			label = fmt.Sprintf("steps[%q]", s.Name)
			if names[s.Name] {
				errs = append(errs, fmt.Errorf("%s.name: used by another step", label))
			}
			names[s.Name] = true
		}
		for _, err := range s.validate(defined) {
			errs = append(errs, fmt.Errorf("%s.%w", label, err))
		}
		if err := s.validateStaticURL(c.Variables, extracted); err != nil {
			errs = append(errs, fmt.Errorf("%s.%w", label, err))
		}
		for _, e := range s.Extract {
			defined[e.Var] = true
			extracted[e.Var] = true
		}
	}
	return errs
}

// validate checks a step given the variables defined before it, so a
// placeholder that no earlier step extracts is caught at startup.
func (s *StepConfig) validate(defined map[string]bool) []error {
	errs := s.HTTPRequestConfig.validate(true)
	for field, text := range s.templatedFields() {
		t, err := parseTemplate(text)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
			continue
		}
		for _, name := range t.variables() {
			if !defined[name] {
				errs = append(errs, fmt.Errorf("%s: variable %q is neither in variables nor extracted by an earlier step", field, name))
			}
		}
	}
	_, assertErrs := compileAssertions(s.Assertions)
	errs = append(errs, assertErrs...)
	for i := range s.Extract {
		if _, err := s.Extract[i].compile(); err != nil {
			errs = append(errs, fmt.Errorf("extract[%d]: %w", i, err))
		}
	}
	return errs
}

// validateStaticURL checks a URL whose placeholders all take configured
// values, which no earlier step's extraction overrides: it is the same on
// every run, so a wrong one is a config error, not a failure of every run.
func (s *StepConfig) validateStaticURL(variables map[string]string, extracted map[string]bool) error {
	t, err := parseTemplate(s.URL)
	if err != nil || len(t.variables()) == 0 {
		return nil // reported by validate, or checked by HTTPRequestConfig.validate
	}
	rendered, err := t.render(func(name string) (string, bool) {
		v, ok := variables[name]
		return v, ok && !extracted[name]
	})
	if err != nil {
		return nil // it depends on an extracted value
	}
	if err := validHTTPURL(rendered); err != nil {
		return fmt.Errorf("url: with its variables: %w", err)
	}
	return nil
}

// templatedFields names every field of a step that may hold placeholders.
func (s *StepConfig) templatedFields() map[string]string {
	fields := map[string]string{"url": s.URL, "body": s.Body}
	for k, v := range s.Headers {
		fields["headers."+k] = v
	}
	return fields
}

// extractor is a compiled ExtractConfig.
type extractor struct {
	variable string
	jsonPath jp.Expr
	regex    *regexp.Regexp
	header   string
}

func (e *ExtractConfig) compile() (extractor, error) {
	if err := validVarName(e.Var); err != nil {
		return extractor{}, fmt.Errorf("var: %w", err)
	}
	n := 0
	for _, set := range []bool{e.JSONPath != "", e.Regex != "", e.Header != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return extractor{}, fmt.Errorf("exactly one of json_path, regex, header is required, got %d", n)
	}
	x := extractor{variable: e.Var, header: e.Header}
	var err error
	switch {
	case e.JSONPath != "":
		if x.jsonPath, err = jp.ParseString(e.JSONPath); err != nil {
			return extractor{}, fmt.Errorf("json_path: %w", err)
		}
	case e.Regex != "":
		if x.regex, err = regexp.Compile(e.Regex); err != nil {
			return extractor{}, fmt.Errorf("regex: %w", err)
		}
	}
	return x, nil
}

func validHostPort(field, addr string) []error {
	if addr == "" {
		return []error{fmt.Errorf("%s: must not be empty", field)}
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return []error{fmt.Errorf("%s: %w", field, err)}
	}
	return nil
}

func (c *TCPCheckConfig) validate() []error {
	return validHostPort("address", c.Address)
}

func (c *DNSCheckConfig) validate() []error {
	errs := validHostPort("server", c.Server)
	if c.Name == "" {
		errs = append(errs, errors.New("name: must not be empty"))
	} else if _, ok := dns.IsDomainName(c.Name); !ok {
		errs = append(errs, fmt.Errorf("name: %q is not a domain name", c.Name))
	}
	if _, ok := dns.StringToType[c.recordType()]; !ok {
		errs = append(errs, fmt.Errorf("record_type: unknown record type %q", c.RecordType))
	}
	if p := c.protocol(); p != "udp" && p != "tcp" {
		errs = append(errs, fmt.Errorf("protocol: must be udp or tcp, got %q", c.Protocol))
	}
	return errs
}

func (c *TLSCheckConfig) validate() []error {
	errs := validHostPort("address", c.Address)
	if c.MinDaysLeft < 0 {
		errs = append(errs, fmt.Errorf("min_days_left: must not be negative, got %d", c.MinDaysLeft))
	}
	return errs
}

// requestMethod returns the configured method or GET.
func (c *HTTPRequestConfig) requestMethod() string {
	if c.Method == "" {
		return http.MethodGet
	}
	return strings.ToUpper(c.Method)
}

// recordType returns the configured record type, A when unset.
func (c *DNSCheckConfig) recordType() string {
	if c.RecordType == "" {
		return "A"
	}
	return strings.ToUpper(c.RecordType)
}

// protocol returns the configured protocol, udp when unset.
func (c *DNSCheckConfig) protocol() string {
	if c.Protocol == "" {
		return "udp"
	}
	return c.Protocol
}
