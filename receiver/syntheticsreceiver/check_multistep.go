package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// multistepRunner runs an ordered journey of requests; values extracted
// from one response feed the placeholders of later requests.
type multistepRunner struct {
	client    *http.Client
	variables map[string]string
	steps     []compiledStep
}

type compiledStep struct {
	name       string
	method     string
	url        template
	headers    map[string]template
	body       template
	assertions []assertion
	extract    []extractor
}

func newMultistepRunner(cfg *MultistepCheckConfig) (*multistepRunner, error) {
	client, err := newHTTPClient(cfg.TLS, cfg.MaxRedirects)
	if err != nil {
		return nil, err
	}
	m := &multistepRunner{client: client, variables: cfg.Variables}
	for i := range cfg.Steps {
		s, err := compileStep(&cfg.Steps[i])
		if err != nil {
			return nil, fmt.Errorf("step %q: %w", cfg.Steps[i].Name, err)
		}
		m.steps = append(m.steps, s)
	}
	return m, nil
}

func compileStep(cfg *StepConfig) (compiledStep, error) {
	s := compiledStep{name: cfg.Name, method: cfg.requestMethod(), headers: make(map[string]template, len(cfg.Headers))}
	var errs []error
	var err error
	if s.url, err = parseTemplate(cfg.URL); err != nil {
		errs = append(errs, fmt.Errorf("url: %w", err))
	}
	if s.body, err = parseTemplate(cfg.Body); err != nil {
		errs = append(errs, fmt.Errorf("body: %w", err))
	}
	for k, v := range cfg.Headers {
		t, err := parseTemplate(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("headers.%s: %w", k, err))
		}
		s.headers[k] = t
	}
	var assertErrs []error
	s.assertions, assertErrs = compileAssertions(cfg.Assertions)
	errs = append(errs, assertErrs...)
	for i := range cfg.Extract {
		x, err := cfg.Extract[i].compile()
		if err != nil {
			errs = append(errs, fmt.Errorf("extract[%d]: %w", i, err))
		}
		s.extract = append(s.extract, x)
	}
	return s, errors.Join(errs...)
}

// journeyVars holds the variables of one run. Configured values are
// trusted; extracted ones come from responses and are escaped when they
// land in a URL, so a hostile response cannot redirect the journey to
// another host or inject query parameters.
type journeyVars struct {
	configured map[string]string
	extracted  map[string]string
}

func (v *journeyVars) lookup(name string) (string, bool) {
	if x, ok := v.extracted[name]; ok {
		return x, true
	}
	x, ok := v.configured[name]
	return x, ok
}

func (v *journeyVars) lookupForURL(name string) (string, bool) {
	if x, ok := v.extracted[name]; ok {
		return url.QueryEscape(x), true
	}
	x, ok := v.configured[name]
	return x, ok
}

func (m *multistepRunner) run(ctx context.Context, r *run) *assertionFailure {
	vars := &journeyVars{configured: m.variables, extracted: map[string]string{}}
	for i := range m.steps {
		if f := m.runStep(ctx, r, &m.steps[i], vars); f != nil {
			return f
		}
	}
	return nil
}

func (m *multistepRunner) runStep(ctx context.Context, r *run, cs *compiledStep, vars *journeyVars) *assertionFailure {
	out, f := cs.render(vars)
	if f != nil {
		s := r.startStep(cs.name, ptrace.SpanKindClient)
		s.attrs.PutStr(attrStepName, cs.name)
		return s.finish(f)
	}
	res, s, f := doHTTP(ctx, m.client, r, cs.name, out)
	s.attrs.PutStr(attrStepName, cs.name)
	if f != nil {
		return s.finish(f)
	}
	if f := assertAll(cs.assertions, res); f != nil {
		return s.finish(f)
	}
	for _, x := range cs.extract {
		value, f := x.extract(res)
		if f != nil {
			return s.finish(f)
		}
		vars.extracted[x.variable] = value
	}
	return s.finish(nil)
}

// render fills the step's placeholders; a value that makes the request
// invalid fails the step with an assertion saying which.
func (cs *compiledStep) render(vars *journeyVars) (outgoingRequest, *assertionFailure) {
	undefined := func(field string, err error) *assertionFailure {
		return &assertionFailure{assertion: "template", expected: "every placeholder defined", actual: field + ": " + err.Error()}
	}
	out := outgoingRequest{method: cs.method, headers: make(map[string]string, len(cs.headers))}
	var err error
	if out.url, err = cs.url.render(vars.lookupForURL); err != nil {
		return out, undefined("url", err)
	}
	if err := validHTTPURL(out.url); err != nil {
		return out, &assertionFailure{assertion: "url", expected: "an http or https URL", actual: truncate(err.Error())}
	}
	if out.body, err = cs.body.render(vars.lookup); err != nil {
		return out, undefined("body", err)
	}
	for k, t := range cs.headers {
		v, err := t.render(vars.lookup)
		if err != nil {
			return out, undefined("headers."+k, err)
		}
		// A value with a line break would be refused by net/http anyway;
		// say so clearly instead.
		if strings.ContainsAny(v, "\r\n\x00") {
			return out, &assertionFailure{assertion: "headers." + k, expected: "a value without line breaks", actual: "a value with one"}
		}
		out.headers[k] = v
	}
	return out, nil
}

// extract reads the extractor's value from a response; a missing value
// fails the step, since later steps depend on it.
func (x *extractor) extract(res *response) (string, *assertionFailure) {
	fail := func(expected, actual string) *assertionFailure {
		return &assertionFailure{assertion: "extract " + x.variable, expected: expected, actual: truncate(actual)}
	}
	switch {
	case x.jsonPath != nil:
		doc, err := res.json()
		if err != nil {
			return "", fail("a JSON body", err.Error())
		}
		results, err := jsonPathGet(x.jsonPath, doc)
		if err != nil {
			return "", fail("a match for "+x.jsonPath.String(), err.Error())
		}
		if len(results) == 0 {
			return "", fail("a match for "+x.jsonPath.String(), "no match")
		}
		return jsonText(results[0]), nil
	case x.regex != nil:
		m := x.regex.FindSubmatch(res.body)
		if m == nil {
			return "", fail("a match for "+x.regex.String(), string(res.body))
		}
		if len(m) > 1 {
			return string(m[1]), nil
		}
		return string(m[0]), nil
	default:
		v := res.header.Get(x.header)
		if v == "" {
			return "", fail("header "+x.header, "header absent")
		}
		return v, nil
	}
}

func (m *multistepRunner) close() { m.client.CloseIdleConnections() }
