package logpatternprocessor // import "github.com/ollystack/ollystack/processor/logpatternprocessor"

import (
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// messageOf returns the text to mine from a log body: a string body, or the
// first of fields holding a string in a map body, cut to at most maxBytes on
// a rune boundary. ok is false when there is nothing to mine, including an
// empty or blank message: every empty line would otherwise share one
// meaningless template.
func messageOf(body pcommon.Value, fields []string, maxBytes int) (msg string, ok bool) {
	switch body.Type() {
	case pcommon.ValueTypeStr:
		msg = body.Str()
	case pcommon.ValueTypeMap:
		m := body.Map()
		for _, f := range fields {
			if v, found := m.Get(f); found && v.Type() == pcommon.ValueTypeStr {
				msg = v.Str()
				break
			}
		}
	default:
		return "", false
	}
	msg = truncate(msg, maxBytes)
	if isBlank(msg) {
		return "", false
	}
	return msg, true
}

// truncate cuts s to at most maxBytes, backing up to a rune start so that a
// valid UTF-8 message stays valid.
func truncate(s string, maxBytes int) string {
	if len(s) <= maxBytes {
		return s
	}
	cut := maxBytes
	for cut > 0 && cut > maxBytes-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\v', '\f':
		default:
			return false
		}
	}
	return true
}
