package embedded

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// appendAttributesJSON appends attrs as a JSON object of strings, the way the
// ClickHouse exporter flattens attributes into Map(String, String): each value
// is pcommon.Value.AsString (maps and slices become their JSON text).
// Hand-written because encoding/json would first build a map[string]string
// per span, which dominates ingest CPU.
func appendAttributesJSON(dst []byte, attrs pcommon.Map) []byte {
	dst = append(dst, '{')
	first := true
	for k, v := range attrs.All() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		if v.Type() == pcommon.ValueTypeStr {
			dst = appendJSONString(dst, v.Str())
		} else {
			dst = appendJSONString(dst, v.AsString())
		}
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD
// so that SQLite's JSON functions and json.Unmarshal accept every row.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// sanitizeUTF8 replaces invalid UTF-8 so that text columns compare and
// decode consistently.
func sanitizeUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string([]rune(s))
}

// decodeAttributes parses a JSON object of strings written by
// appendAttributesJSON. An empty object yields nil so that model values
// compare equal whatever the backend.
func decodeAttributes(text string) (map[string]string, error) {
	if text == "" || text == "{}" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return nil, fmt.Errorf("decode attributes: %w", err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

func appendInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

func appendFloat(dst []byte, v float64) []byte {
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}
