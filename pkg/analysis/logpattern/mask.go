package logpattern

import (
	"bytes"
	"strings"
)

// Wildcard is the token that stands for a variable part of a template.
const Wildcard = "<*>"

var wildcardBytes = []byte(Wildcard)

// Partially masked tokens (such as "blk_<*>") are interned, so that a line
// of known tokens allocates nothing. The table is bounded by bytes: an entry
// costs its length plus internEntryOverhead (about what its map slot and
// allocation take), and the table is cleared when the next entry would take
// it past internBudget. Tokens longer than maxInternedLen are not interned:
// they are rare, mostly distinct, and would crowd out the common short ones.
const (
	internBudget        = 256 << 10
	internEntryOverhead = 64
	maxInternedLen      = 256
)

// tokenizer splits a line into tokens and masks the variable ones. It reuses its
// buffers between lines, so it must not be shared between goroutines.
type tokenizer struct {
	tokens []string
	buf    []byte
	intern map[string]string
	// internBytes is the cost of the intern table's entries, at most
	// internBudget.
	internBytes int
}

func newTokenizer() *tokenizer {
	return &tokenizer{intern: make(map[string]string, 256)}
}

// tokenize splits line on white space and masks variables. Quoted strings that
// contain white space become a single masked token, so that free text inside
// quotes does not change the token count that the parse tree is keyed on.
// At most maxTokens tokens are returned; the rest of a longer line collapses
// into one trailing wildcard. The returned slice is reused by the next call.
func (t *tokenizer) tokenize(line string, maxTokens int) []string {
	t.tokens = t.tokens[:0]
	closing := closingQuotes{next: -1}
	i, n := 0, len(line)
	for i < n {
		for i < n && isSpace(line[i]) {
			i++
		}
		if i >= n {
			break
		}
		if len(t.tokens) == maxTokens-1 {
			t.tokens = append(t.tokens, Wildcard)
			break
		}
		start := i
		if end, ok := quotedSpan(line, i, &closing); ok {
			t.tokens = append(t.tokens, t.maskQuoted(line[start:end]))
			i = end
			continue
		}
		for i < n && !isSpace(line[i]) {
			i++
		}
		t.tokens = append(t.tokens, t.mask(line[start:i]))
	}
	return t.tokens
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// minQuotedGaps is the number of word gaps from which a quoted string counts
// as free text and is masked whole. Shorter quoted strings are usually
// structured (`"GET /path HTTP/1.1"`), and their first word tells events apart.
const minQuotedGaps = 3

// quotedSpan reports the end of a double-quoted string that starts at i and
// holds at least minQuotedGaps word gaps before its closing quote (the closing
// quote must end a token). Other quoted strings are left to the ordinary
// masking rules. Calls for one line must come in increasing order of i with
// the same closing, which makes the cost of a line linear: an unclosed quote
// at the start of each token would otherwise scan the rest of the line for
// every token.
func quotedSpan(line string, i int, closing *closingQuotes) (int, bool) {
	if line[i] != '"' {
		return 0, false
	}
	j := closing.after(line, i+1)
	if j == len(line) {
		return 0, false
	}
	// Count the gaps up to the closing quote, stopping at the number needed:
	// the scan then covers at most the next minQuotedGaps tokens.
	gaps := 0
	for k := i + 1; k < j && gaps < minQuotedGaps; k++ {
		if isSpace(line[k]) && !isSpace(line[k-1]) {
			gaps++
		}
	}
	if gaps < minQuotedGaps {
		return 0, false
	}
	return closingEnd(line, j), true
}

// closingQuotes finds the quotes of a line that can close a quoted string,
// in one pass from left to right over the calls for that line.
type closingQuotes struct {
	// next is the first closing quote at or after the position of the last
	// search, len(line) when there is none; -1 before the first search.
	next int
}

// after returns the position of the first closing quote at or after from,
// or len(line). from must not decrease between calls for one line.
func (c *closingQuotes) after(line string, from int) int {
	if c.next >= from {
		return c.next
	}
	j := from
	for {
		k := strings.IndexByte(line[j:], '"')
		if k < 0 {
			j = len(line)
			break
		}
		j += k
		if end := closingEnd(line, j); end == len(line) || isSpace(line[end]) {
			break
		}
		j++ // an inner quote: keep looking for the closing one
	}
	c.next = j
	return j
}

// closingEnd returns the end of the token a quote at j closes: trailing
// punctuation such as `",` stays part of it.
func closingEnd(line string, j int) int {
	end := j + 1
	for end < len(line) && isTrailingPunct(line[end]) {
		end++
	}
	return end
}

func isTrailingPunct(c byte) bool {
	switch c {
	case ',', '.', ';', ':', ')', ']', '}', '>':
		return true
	}
	return false
}

// maskQuoted keeps the quotes and trailing punctuation of a multi-word quoted
// string and masks its content.
func (t *tokenizer) maskQuoted(tok string) string {
	closing := strings.LastIndexByte(tok, '"')
	if closing <= 0 {
		return Wildcard
	}
	t.buf = append(t.buf[:0], '"')
	t.buf = append(t.buf, Wildcard...)
	t.buf = append(t.buf, tok[closing:]...)
	return t.internBuf()
}

// mask returns tok with its variable parts replaced by Wildcard. Tokens without
// variables are returned unchanged (no allocation).
//
// A token is masked whole when it is a path, URL, e-mail address or long hex
// word, or when it holds at least as many digits as letters (numbers, hex,
// IPs, UUIDs, durations, timestamps, versions). Otherwise a token with digits
// is split on structural delimiters such as '=' and ':' so that "user=42"
// keeps its key ("user=<*>"); a part that looks like a number is masked
// whole, otherwise only its digit-bearing pieces between '.', '_' and '-' are
// masked ("broadcast_<*>").
func (t *tokenizer) mask(tok string) string {
	if tok == Wildcard {
		return Wildcard
	}
	lead, core, trail := trimPunct(tok)
	if core == "" {
		return tok
	}
	if isPathLike(core) || isEmail(core) || isHexWord(core) {
		return t.wrap(tok, lead, trail)
	}
	digits, letters := countAlnum(core)
	if digits == 0 {
		return tok
	}
	// Mostly digits: a number, timestamp, version or id in any notation.
	if digits >= letters || isNumberLike(core) {
		return t.wrap(tok, lead, trail)
	}
	t.buf = append(t.buf[:0], tok[:lead]...)
	t.appendMaskedParts(core)
	t.buf = append(t.buf, tok[len(tok)-trail:]...)
	return t.internBuf()
}

// wrap masks the core of tok and keeps its leading and trailing punctuation.
func (t *tokenizer) wrap(tok string, lead, trail int) string {
	if lead == 0 && trail == 0 {
		return Wildcard
	}
	t.buf = append(t.buf[:0], tok[:lead]...)
	t.buf = append(t.buf, Wildcard...)
	t.buf = append(t.buf, tok[len(tok)-trail:]...)
	return t.internBuf()
}

// appendMaskedParts splits core on structural delimiters and masks each part.
func (t *tokenizer) appendMaskedParts(core string) {
	start := 0
	for i := 0; i <= len(core); i++ {
		if i < len(core) && !isStrongDelim(core[i]) {
			continue
		}
		t.appendMaskedPart(core[start:i])
		if i < len(core) {
			t.buf = append(t.buf, core[i])
		}
		start = i + 1
	}
}

func (t *tokenizer) appendMaskedPart(part string) {
	switch {
	case part == "" || !hasDigit(part):
		t.buf = append(t.buf, part...)
	case isNumberLike(part):
		t.buf = append(t.buf, Wildcard...)
	default:
		t.appendMaskedPieces(part)
	}
}

// appendMaskedPieces masks the digit-bearing pieces of a word such as
// "broadcast_39" or "sn-i3beln7k" and merges adjacent wildcards.
func (t *tokenizer) appendMaskedPieces(part string) {
	start := 0
	for i := 0; i <= len(part); i++ {
		if i < len(part) && !isWeakDelim(part[i]) {
			continue
		}
		piece := part[start:i]
		if hasDigit(piece) {
			if !bytes.HasSuffix(t.buf, wildcardBytes) {
				t.buf = append(t.buf, Wildcard...)
			}
		} else {
			t.buf = append(t.buf, piece...)
		}
		if i < len(part) {
			t.buf = append(t.buf, part[i])
		}
		start = i + 1
	}
}

// internBuf returns the buffer as a string, sharing one copy per distinct
// value up to maxInternedLen bytes; the map lookup with a converted []byte
// key does not allocate.
func (t *tokenizer) internBuf() string {
	if len(t.buf) > maxInternedLen {
		return string(t.buf)
	}
	if s, ok := t.intern[string(t.buf)]; ok {
		return s
	}
	cost := len(t.buf) + internEntryOverhead
	if t.internBytes+cost > internBudget {
		clear(t.intern)
		t.internBytes = 0
	}
	s := string(t.buf)
	t.intern[s] = s
	t.internBytes += cost
	return s
}

// trimPunct returns how many leading and trailing bytes of tok are brackets,
// quotes or punctuation, and the core between them.
func trimPunct(tok string) (lead int, core string, trail int) {
	for lead < len(tok) && isLeadPunct(tok[lead]) {
		lead++
	}
	end := len(tok)
	for end > lead && (isTrailingPunct(tok[end-1]) || tok[end-1] == '"' || tok[end-1] == '\'') {
		end--
	}
	return lead, tok[lead:end], len(tok) - end
}

func isLeadPunct(c byte) bool {
	switch c {
	case '(', '[', '{', '<', '"', '\'', ',', ';':
		return true
	}
	return false
}

func isStrongDelim(c byte) bool {
	switch c {
	case '=', ':', ',', ';', '(', ')', '[', ']', '{', '}', '<', '>', '|', '/', '@', '"', '\'', '#', '&', '?':
		return true
	}
	return false
}

func isWeakDelim(c byte) bool {
	return c == '.' || c == '_' || c == '-' || c == '+' || c == '~' || c == '$'
}

func countAlnum(s string) (digits, letters int) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case isLetter(c):
			letters++
		}
	}
	return digits, letters
}

// isHexWord reports long words of hex letters only, such as "deadbeef",
// which are ids even without a digit. Eight letters keep English words out.
func isHexWord(s string) bool {
	if len(s) < 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}

// isNumberLike reports whether s is made of hex digits and numeric
// punctuation only, with at least one decimal digit: integers, floats, hex
// (0x1f, deadbeef01), IPv4/IPv6 with ports, UUIDs, times and versions.
func isNumberLike(s string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		case c == '.', c == ':', c == '-', c == '+', c == 'x', c == 'X', c == ',', c == '_':
		default:
			return false
		}
	}
	return digits > 0
}

// isPathLike reports file system paths and URLs: "/var/log/x", "./a", "~/a",
// "C:\dir", "http://host/x".
func isPathLike(s string) bool {
	if len(s) < 2 {
		return false
	}
	switch {
	case s[0] == '/' && s[1] != '/' && strings.IndexByte(s[1:], '/') >= 0:
		return true
	case strings.HasPrefix(s, "./"), strings.HasPrefix(s, "../"), strings.HasPrefix(s, "~/"):
		return true
	case strings.Contains(s, "://"):
		return true
	case len(s) > 3 && s[1] == ':' && s[2] == '\\' && isLetter(s[0]):
		return true
	}
	return false
}

func isEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	return strings.IndexByte(s[at+1:], '.') > 0
}

func isLetter(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
