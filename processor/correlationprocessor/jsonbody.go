package correlationprocessor // import "github.com/ollystack/ollystack/processor/correlationprocessor"

import (
	"strings"

	"github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"
)

// maxJSONBodyScan bounds how much of a log body is scanned for an id field,
// keeping the cost of hostile bodies predictable.
const maxJSONBodyScan = 64 << 10

// lookupJSONBody returns the best-ranked explicit id among the top-level
// string fields of a JSON object body. It does not allocate: fields are
// scanned in place and nested values are skipped, not decoded. Bodies that are
// not JSON objects give Absent; a matching field whose value needs unescaping
// cannot be a valid id and gives Rejected. An id derived from traceID was
// written by an earlier hop that knew no explicit id: it is skipped, so that a
// lower-ranked explicit id still counts.
func lookupJSONBody(body string, keys []source, traceID [16]byte) (string, correlationid.Verdict) {
	if len(body) > maxJSONBodyScan {
		body = body[:maxJSONBodyScan]
	}
	s := jsonScanner{data: body}
	s.skipSpace()
	if !s.consume('{') {
		return "", correlationid.Absent
	}
	bestRank, bestID, rejected := noRank, "", false
	for bestRank != 0 {
		s.skipSpace()
		key, keyEscaped, ok := s.readString()
		if !ok {
			break
		}
		s.skipSpace()
		if !s.consume(':') {
			break
		}
		s.skipSpace()
		rank := noRank
		if !keyEscaped {
			rank = rankOf(key, keys)
		}
		if s.peek() == '"' {
			value, valueEscaped, ok := s.readString()
			if !ok {
				break
			}
			if rank < bestRank {
				if valueEscaped {
					rejected = true
				} else {
					switch id, verdict := correlationid.Check(value); verdict {
					case correlationid.Accepted:
						if !correlationid.IsDerivedFrom(id, traceID) {
							bestRank, bestID = rank, id
						}
					case correlationid.Rejected:
						rejected = true
					}
				}
			}
		} else if !s.skipValue() {
			break
		}
		s.skipSpace()
		if !s.consume(',') {
			break
		}
	}
	switch {
	case bestID != "":
		return bestID, correlationid.Accepted
	case rejected:
		return "", correlationid.Rejected
	}
	return "", correlationid.Absent
}

// looksLikeJSONObject is the cheap test done before scanning a string body.
func looksLikeJSONObject(body string) bool {
	body = strings.TrimLeft(body, " \t\r\n")
	return body != "" && body[0] == '{'
}

type jsonScanner struct {
	data string
	pos  int
}

func (s *jsonScanner) peek() byte {
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

func (s *jsonScanner) consume(c byte) bool {
	if s.peek() == c && s.pos < len(s.data) {
		s.pos++
		return true
	}
	return false
}

func (s *jsonScanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// readString reads a quoted string and returns its raw content and whether it
// contains escapes.
func (s *jsonScanner) readString() (content string, escaped, ok bool) {
	if !s.consume('"') {
		return "", false, false
	}
	start := s.pos
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case '"':
			content = s.data[start:s.pos]
			s.pos++
			return content, escaped, true
		case '\\':
			escaped = true
			s.pos += 2
		default:
			s.pos++
		}
	}
	return "", false, false
}

// skipValue skips a number, literal, object or array. Nesting is tracked by
// depth only; strings inside are skipped so their brackets do not count.
func (s *jsonScanner) skipValue() bool {
	switch s.peek() {
	case '{', '[':
	case 0:
		return false
	default:
		for s.pos < len(s.data) && strings.IndexByte(",}] \t\r\n", s.data[s.pos]) < 0 {
			s.pos++
		}
		return true
	}
	depth := 0
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case '"':
			if _, _, ok := s.readString(); !ok {
				return false
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				s.pos++
				return true
			}
		}
		s.pos++
	}
	return false
}
