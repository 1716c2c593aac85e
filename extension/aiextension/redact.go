package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"regexp"
	"strings"
)

const redacted = "[REDACTED]"

// secretPatterns find secrets in free text (log bodies, status messages)
// before any of it leaves the process. They err on the side of redacting:
// a narration loses little when an id is masked, a leaked key is lost.
var secretPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	// PEM private keys, whole.
	{regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)`), redacted},
	// Authorization headers and bearer tokens.
	{regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*`), "$1 " + redacted},
	// Credentials in URLs: scheme://user:password@host.
	{regexp.MustCompile(`://[^/\s:@]+:[^/\s@]+@`), "://" + redacted + "@"},
	// name=value / name: value / "name":"value" for secret-sounding names.
	{regexp.MustCompile(`(?i)\b((?:[a-z0-9]+[_-])*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|auth)(?:[_-][a-z0-9]+)*)("?\s*[:=]\s*"?)[^\s"'&,;}]+`), "$1$2" + redacted},
	// Well-known key formats: OpenAI/Anthropic, AWS, GitHub, Slack, JWTs.
	{regexp.MustCompile(`\b(sk-(?:ant-)?[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[baprs]-[A-Za-z0-9-]{10,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})`), redacted},
	// E-mail addresses (personal data).
	{regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`), redacted},
}

// secretName matches attribute names whose values are secrets whatever
// they look like.
var secretName = regexp.MustCompile(`(?i)(password|passwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|authorization|cookie|session)`)

// redactor removes secrets and configured attributes from what is sent to
// a model.
type redactor struct {
	attributes map[string]struct{} // lower-cased configured names
}

func newRedactor(names []string) *redactor {
	r := &redactor{attributes: make(map[string]struct{}, len(names))}
	for _, n := range names {
		r.attributes[strings.ToLower(n)] = struct{}{}
	}
	return r
}

// text masks secrets in free text.
func (r *redactor) text(s string) string {
	for _, p := range secretPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

// Log bodies are quoted up to maxPromptLogBody bytes, masked on a window
// larger by maxSecretLength: a secret that the cut would split is masked
// whole, not left with a prefix that no longer matches its pattern.
const (
	maxPromptLogBody = 1024
	maxSecretLength  = 1024
)

func (r *redactor) logBody(body string) string {
	return truncate(r.text(truncate(body, maxPromptLogBody+maxSecretLength)), maxPromptLogBody)
}

// attributes returns a copy of attrs with configured and secret-named
// attributes masked and the other values scrubbed.
func (r *redactor) attrs(attrs map[string]string) map[string]string {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		if _, ok := r.attributes[strings.ToLower(k)]; ok || secretName.MatchString(k) {
			out[k] = redacted
			continue
		}
		out[k] = r.text(v)
	}
	return out
}
