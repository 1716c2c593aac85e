package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"fmt"
	"strings"
)

// template is a string with ${name} placeholders. It is deliberately not
// text/template: values extracted from untrusted responses are substituted,
// never evaluated, and the only syntax is ${name} and $$ for a literal $.
type template struct {
	parts []templatePart
}

type templatePart struct {
	literal  string
	variable string // set for a placeholder; literal is then empty
}

func isVarStart(b byte) bool {
	return b == '_' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')
}

func isVarByte(b byte) bool {
	return isVarStart(b) || (b >= '0' && b <= '9')
}

// parseTemplate splits s into literals and placeholders. A $ not followed
// by { or $ is kept as it is, so URLs and bodies rarely need escaping.
func parseTemplate(s string) (template, error) {
	var t template
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			lit.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			lit.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return template{}, fmt.Errorf("unterminated ${ at offset %d", i)
			}
			name := s[i+2 : i+2+end]
			if err := validVarName(name); err != nil {
				return template{}, fmt.Errorf("placeholder at offset %d: %w", i, err)
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, templatePart{literal: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, templatePart{variable: name})
			i += 2 + end
		default:
			lit.WriteByte('$')
		}
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, templatePart{literal: lit.String()})
	}
	return t, nil
}

func validVarName(name string) error {
	if name == "" || !isVarStart(name[0]) {
		return fmt.Errorf("variable name %q must start with a letter or _", name)
	}
	for i := 1; i < len(name); i++ {
		if !isVarByte(name[i]) {
			return fmt.Errorf("variable name %q may contain only letters, digits and _", name)
		}
	}
	return nil
}

// variables lists the placeholders of t in order of appearance.
func (t template) variables() []string {
	var names []string
	for _, p := range t.parts {
		if p.variable != "" {
			names = append(names, p.variable)
		}
	}
	return names
}

// render substitutes every placeholder with lookup's value; a name lookup
// does not know is an error rather than an empty string, so a broken
// journey fails loudly at the step that needs the value.
func (t template) render(lookup func(name string) (string, bool)) (string, error) {
	if len(t.parts) == 1 && t.parts[0].variable == "" {
		return t.parts[0].literal, nil
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.variable == "" {
			b.WriteString(p.literal)
			continue
		}
		v, ok := lookup(p.variable)
		if !ok {
			return "", fmt.Errorf("variable %q is not defined", p.variable)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}
