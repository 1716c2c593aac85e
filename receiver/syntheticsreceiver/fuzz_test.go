package syntheticsreceiver

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzParseTemplate: parsing never panics, and rendering a parsed template
// with every variable set to its own name in brackets gives back the input
// with placeholders replaced and $$ unescaped.
func FuzzParseTemplate(f *testing.F) {
	for _, seed := range []string{"", "plain", "${base}/users/${id}", "$$5", "cost $10", "${", "${}", "${1x}", "a${b}c$$", "$", "${a}}"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tmpl, err := parseTemplate(s)
		if err != nil {
			return
		}
		out, err := tmpl.render(func(name string) (string, bool) { return "<" + name + ">", true })
		if err != nil {
			t.Fatalf("render of a parsed template failed: %v", err)
		}
		if !strings.Contains(s, "$") && out != s {
			t.Fatalf("a template without $ must render to itself: %q -> %q", s, out)
		}
		for _, name := range tmpl.variables() {
			if validVarName(name) != nil {
				t.Fatalf("parsed an invalid variable name %q", name)
			}
		}
	})
}

// FuzzParseStatusSpec: the parser never panics and only returns ranges of
// real status codes.
func FuzzParseStatusSpec(f *testing.F) {
	for _, seed := range []string{"200", "2xx", "5XX", "600", "0", "", "20", "2x0", "abc"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, err := parseStatusSpec(s)
		if err != nil {
			return
		}
		if lo < 100 || hi > 599 || lo > hi {
			t.Fatalf("%q parsed to [%d, %d]", s, lo, hi)
		}
	})
}

// FuzzAssertions compiles assertion and extraction expressions from fuzzed
// input and evaluates them against a fuzzed response body, as a hostile
// target would send: nothing may panic.
func FuzzAssertions(f *testing.F) {
	f.Add("$.status", `"up"`, `{"status":"up"}`)
	f.Add("$..a[*]", `^\d+$`, `{"a":[1,2,{"a":3}]}`)
	f.Add("$[?(@.x > 1)].y", `(`, `[{"x":2,"y":"z"}]`)
	f.Add("$", ".*", "not json")
	f.Add("$.a[-1:]", "a|b", `{"a":[1,2,3]}`)
	f.Fuzz(func(t *testing.T, path, pattern, body string) {
		res := &response{status: 200, header: http.Header{"X": {body}}, body: []byte(body)}
		cfgs := []AssertionConfig{
			{JSONPath: path},
			{JSONPath: path, Matches: pattern},
			{JSONPath: path, Equals: &body},
			{BodyMatches: pattern},
			{Header: "X", Contains: pattern},
			{Status: pattern},
		}
		for i := range cfgs {
			a, err := cfgs[i].compile()
			if err != nil {
				continue
			}
			if f := a.evaluate(res); f != nil && len(f.actual) > maxActualLen+len("…") {
				t.Fatalf("actual value not truncated: %d bytes", len(f.actual))
			}
		}
		for _, x := range []ExtractConfig{{Var: "v", JSONPath: path}, {Var: "v", Regex: pattern}} {
			e, err := x.compile()
			if err != nil {
				continue
			}
			_, _ = e.extract(res)
		}
	})
}
