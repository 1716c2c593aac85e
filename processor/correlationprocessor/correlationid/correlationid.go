// Package correlationid defines the correlation id format shared by the
// correlation processor (which writes ids) and the components that read them
// (the correlate API, the stores): the charset and length every id respects,
// and the reversible id derived from a trace id.
//
// A derived id has the form
//
//	{prefix}-t-{trace id as 32 lowercase hex digits}
//
// e.g. "olly-t-4bf92f3577b34da6a3ce929d0e0e4736". The trace id is the last 32
// characters, so a reader turns a derived id back into its trace id without any
// index and without knowing which prefix the writer was configured with.
// The package has no dependencies so that any module can import it.
package correlationid // import "github.com/ollystack/ollystack/processor/correlationprocessor/correlationid"

// MaxLength is the longest id accepted from untrusted input, in bytes.
const MaxLength = 128

// derivedMarker separates the prefix from the hex trace id in derived ids.
const derivedMarker = "-t-"

// derivedSuffixLen is the length of "-t-" followed by 32 hex digits.
const derivedSuffixLen = len(derivedMarker) + 32

// MaxPrefixLength keeps every derived id within MaxLength.
const MaxPrefixLength = MaxLength - derivedSuffixLen

const hexDigits = "0123456789abcdef"

// allowed lists the bytes an id may contain: ASCII letters and digits and
// - _ . : @ + = ~. These cover UUIDs, ULIDs, base64 and the seed format
// olly-{timestamp_base36}-{random}, and nothing that needs escaping in a URL
// path segment, a SQL literal, a log line or a header.
var allowed = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-_.:@+=~" {
		t[c] = true
	}
	return t
}()

// Verdict is the result of checking an untrusted candidate id.
type Verdict uint8

const (
	// Absent means the candidate was empty (after trimming blanks).
	Absent Verdict = iota
	// Accepted means the returned id is safe to store.
	Accepted
	// Rejected means the candidate is too long or contains a byte outside the
	// allowed set; it must be ignored.
	Rejected
)

// Check trims surrounding blanks from an untrusted candidate and reports
// whether it is an acceptable id. The returned id is a substring of raw (no
// allocation); callers that keep it beyond the life of raw must clone it.
func Check(raw string) (string, Verdict) {
	id := trimBlanks(raw)
	if id == "" {
		return "", Absent
	}
	if len(id) > MaxLength {
		return "", Rejected
	}
	for i := 0; i < len(id); i++ {
		if !allowed[id[i]] {
			return "", Rejected
		}
	}
	return id, Accepted
}

// Valid reports whether id is non-empty, at most MaxLength bytes and made only
// of allowed bytes, without trimming.
func Valid(id string) bool {
	checked, verdict := Check(id)
	return verdict == Accepted && len(checked) == len(id)
}

func trimBlanks(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// Derive returns the id derived from traceID with the given prefix. The result
// is the same on every replica and in every batch.
func Derive(prefix string, traceID [16]byte) string {
	buf := make([]byte, 0, len(prefix)+derivedSuffixLen)
	return string(AppendDerived(buf, prefix, traceID))
}

// AppendDerived appends the id derived from traceID to dst; it lets callers
// build many ids in one buffer.
func AppendDerived(dst []byte, prefix string, traceID [16]byte) []byte {
	dst = append(dst, prefix...)
	dst = append(dst, derivedMarker...)
	for _, b := range traceID {
		dst = append(dst, hexDigits[b>>4], hexDigits[b&0x0f])
	}
	return dst
}

// DerivedLength is the length of a derived id for a prefix of prefixLen bytes.
func DerivedLength(prefixLen int) int {
	return prefixLen + derivedSuffixLen
}

// TraceID returns the trace id a derived id was made from, whatever its
// prefix. ok is false when id does not have the derived form. An explicit id
// that happens to end in "-t-" and 32 lowercase hex digits is indistinguishable
// from a derived one; readers then also look the id up as an explicit id.
func TraceID(id string) (traceID [16]byte, ok bool) {
	if len(id) < derivedSuffixLen || len(id) > MaxLength {
		return traceID, false
	}
	suffix := id[len(id)-derivedSuffixLen:]
	if suffix[:len(derivedMarker)] != derivedMarker {
		return traceID, false
	}
	digits := suffix[len(derivedMarker):]
	for i := range traceID {
		hi, okHi := fromHex(digits[2*i])
		lo, okLo := fromHex(digits[2*i+1])
		if !okHi || !okLo {
			return [16]byte{}, false
		}
		traceID[i] = hi<<4 | lo
	}
	return traceID, true
}

// IsDerivedFrom reports whether id is a derived id (any prefix) of traceID.
func IsDerivedFrom(id string, traceID [16]byte) bool {
	if len(id) < derivedSuffixLen {
		return false
	}
	got, ok := TraceID(id)
	return ok && got == traceID
}

// fromHex accepts only lowercase digits so that each trace id has exactly one
// derived form.
func fromHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
