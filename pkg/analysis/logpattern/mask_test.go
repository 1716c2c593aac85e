package logpattern

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestMasking(t *testing.T) {
	cases := map[string]string{
		"user=42 took 15ms from 10.0.0.1:8080":                       "user=<*> took <*> from <*>",
		"request 550e8400-e29b-41d4-a716-446655440000 done":          "request <*> done",
		"block blk_-6952295868487656571 stored":                      "block <*> stored",
		"open /var/log/app.log and ./cfg/x.yaml":                     "open <*> and <*>",
		"fetch https://example.com/a?b=1 ok":                         "fetch <*> ok",
		"path C:\\Windows\\system32 missing":                         "path <*> missing",
		"mail bob@example.com bounced":                               "mail <*> bounced",
		"ptr 0x1f3 and deadbeef":                                     "ptr <*> and <*>",
		"addr fe80::1 and 2001:db8::ff00:42:8329":                    "addr <*> and <*>",
		"iface ipv6 on en0":                                          "iface <*> on <*>",
		"at 2026-01-05T10:00:00Z took 1.5s on v1.2.3":                "at <*> took <*> on <*>",
		"peer (10.0.0.1:80), slot [core.114] broadcast_39":           "peer (<*>), slot [core.<*>] broadcast_<*>",
		`said "hello there big world" then "ok"`:                     `said "<*>" then "ok"`,
		`"GET /v2/servers/detail HTTP/1.1" status: 200`:              `"GET <*> HTTP/<*>" status: <*>`,
		"plain words stay as they are":                               "plain words stay as they are",
		"  spaces\tand\ttabs  ":                                      "spaces and tabs",
		"already <*> masked":                                         "already <*> masked",
		`"unterminated quote here`:                                   `"unterminated quote here`,
		"Connection reset by peer: rhost=5.36.59.76.dynamic-dsl.net": "Connection reset by peer: rhost=<*>.<*>.<*>.<*>.dynamic-dsl.net",
	}
	tk := newTokenizer()
	for line, want := range cases {
		if got := strings.Join(tk.tokenize(line, 128), " "); got != want {
			t.Errorf("tokenize(%q)\n got  %q\n want %q", line, got, want)
		}
	}
}

func TestTokenizeBoundsTokens(t *testing.T) {
	tk := newTokenizer()
	got := tk.tokenize(strings.Repeat("word ", 100), 10)
	if len(got) != 10 || got[9] != Wildcard {
		t.Fatalf("got %d tokens ending %q, want 10 ending in a wildcard", len(got), got[len(got)-1])
	}
}

// internedBytes is what the intern table's entries cost against internBudget.
func internedBytes(tk *tokenizer) int {
	n := 0
	for s := range tk.intern {
		n += len(s) + internEntryOverhead
	}
	return n
}

func TestInternTableIsBounded(t *testing.T) {
	tk := newTokenizer()
	for i := range 20000 {
		tk.tokenize("key"+strings.Repeat("x", i%50)+"=1 id_"+strings.Repeat("y", i/50)+"7", 8)
		if got := internedBytes(tk); got > internBudget || got != tk.internBytes {
			t.Fatalf("after %d lines the intern table costs %d bytes (counted %d), budget %d", i+1, got, tk.internBytes, internBudget)
		}
	}
}

// letterWord returns a distinct word of letters for each i: i in base 26.
func letterWord(i int) string {
	w := []byte{byte('a' + i%26)}
	for i /= 26; i > 0; i /= 26 {
		w = append(w, byte('a'+i%26))
	}
	return string(w)
}

// TestInternTableBoundedByBytes feeds a miner distinct long words with one
// digit, each masked to a distinct token ("kkkk…abc_<*>"): the intern table
// must not keep them, whatever their number and length.
func TestInternTableBoundedByBytes(t *testing.T) {
	m := mustMiner(t, Config{MaxClusters: 10})
	pad := strings.Repeat("k", 4000)
	for i := range 1000 {
		m.Add(pad + letterWord(i) + "_1")
	}
	held := 0
	for s := range m.tok.intern {
		held += len(s)
	}
	if held > internBudget {
		t.Fatalf("intern table holds %d bytes of text, budget %d", held, internBudget)
	}
}

// TestInternSharesShortTokens: partially masked tokens of ordinary length are
// still interned, so a line of known tokens allocates nothing.
func TestInternSharesShortTokens(t *testing.T) {
	tk := newTokenizer()
	line := "slot [core.114] broadcast_39 user=42 at java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:1149)"
	tk.tokenize(line, 128)
	if allocs := testing.AllocsPerRun(100, func() { tk.tokenize(line, 128) }); allocs != 0 {
		t.Fatalf("%v allocations per line of known tokens, want 0", allocs)
	}
}

// quotedSpanReference is the first implementation of quotedSpan: it scans
// from the opening quote to the closing one, or to the end of the line when
// there is none, for every token, which is quadratic in the tokens of a line.
// quotedSpan must give the same results.
func quotedSpanReference(line string, i int) (int, bool) {
	if line[i] != '"' {
		return 0, false
	}
	gaps := 0
	for j := i + 1; j < len(line); j++ {
		c := line[j]
		if isSpace(c) {
			if !isSpace(line[j-1]) {
				gaps++
			}
			continue
		}
		if c != '"' {
			continue
		}
		end := j + 1
		for end < len(line) && !isSpace(line[end]) && isTrailingPunct(line[end]) {
			end++
		}
		if end < len(line) && !isSpace(line[end]) {
			continue
		}
		return end, gaps >= minQuotedGaps
	}
	return 0, false
}

// tokenizeReference is tokenize with quotedSpanReference.
func tokenizeReference(t *tokenizer, line string, maxTokens int) []string {
	var tokens []string
	i, n := 0, len(line)
	for i < n {
		for i < n && isSpace(line[i]) {
			i++
		}
		if i >= n {
			break
		}
		if len(tokens) == maxTokens-1 {
			tokens = append(tokens, Wildcard)
			break
		}
		start := i
		if end, ok := quotedSpanReference(line, i); ok {
			tokens = append(tokens, t.maskQuoted(line[start:end]))
			i = end
			continue
		}
		for i < n && !isSpace(line[i]) {
			i++
		}
		tokens = append(tokens, t.mask(line[start:i]))
	}
	return tokens
}

// checkQuotedSpan compares quotedSpan with the reference at every position of
// the line, in increasing order as tokenize calls it, and the tokens of the
// line. It returns how many quoted strings were found.
func checkQuotedSpan(t *testing.T, line string, maxTokens int) (spans int) {
	t.Helper()
	closing := closingQuotes{next: -1}
	for i := range len(line) {
		end, ok := quotedSpan(line, i, &closing)
		wantEnd, wantOK := quotedSpanReference(line, i)
		if ok != wantOK || ok && end != wantEnd {
			t.Fatalf("quotedSpan(%q, %d) = %d, %t; reference %d, %t", line, i, end, ok, wantEnd, wantOK)
		}
		if ok {
			spans++
		}
	}
	tk := newTokenizer()
	want := tokenizeReference(tk, line, maxTokens)
	if got := tk.tokenize(line, maxTokens); !slices.Equal(got, want) {
		t.Fatalf("tokenize(%q) = %q, reference %q", line, got, want)
	}
	return spans
}

func TestQuotedSpanMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const alphabet = "\"\"\"  \t,.)a1='"
	spans := 0
	for range 20000 {
		line := make([]byte, rng.IntN(200))
		for i := range line {
			line[i] = alphabet[rng.IntN(len(alphabet))]
		}
		spans += checkQuotedSpan(t, string(line), 2+rng.IntN(40))
	}
	// The comparison means little unless quoted strings were found often.
	if spans < 20000 {
		t.Fatalf("only %d quoted strings found", spans)
	}
}

func FuzzQuotedSpan(f *testing.F) {
	for _, seed := range []string{
		`said "hello there big world" then "ok"`,
		`"a "a "a "a "a "a`,
		`"x" y "z w", "q r s t". "u v w x"),`,
		`"unterminated quote here`,
		"\"a\tb \"c\" d e\" f",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		checkQuotedSpan(t, line, 32)
	})
}
