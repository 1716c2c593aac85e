package logpattern

import (
	"slices"
	"strings"
	"testing"
)

// FuzzTokenize checks that tokenizing and masking never panic, are
// deterministic, respect the token bound and never return empty tokens.
func FuzzTokenize(f *testing.F) {
	for _, seed := range []string{
		"user=42 took 15ms from 10.0.0.1:8080",
		`said "hello there big world" then "ok"`,
		`"unterminated quote here`,
		`"a" "b c d e" "`,
		"(10.0.0.1:80), [core.114] broadcast_39",
		"C:\\x\\y https://a/b?c=d bob@example.com deadbeefcafe",
		"\x00\xff\t\n <*> <*><*> ((((",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		first := slices.Clone(newTokenizer().tokenize(line, 32))
		tk := newTokenizer()
		tk.tokenize("warm the buffers with another line 123", 32)
		second := tk.tokenize(line, 32)
		if !slices.Equal(first, second) {
			t.Fatalf("not deterministic: %q vs %q", first, second)
		}
		if len(first) > 32 {
			t.Fatalf("%d tokens, bound 32", len(first))
		}
		for _, tok := range first {
			if tok == "" || strings.ContainsAny(tok, " \t\n") && !strings.HasPrefix(tok, `"`) {
				t.Fatalf("bad token %q in %q", tok, first)
			}
		}
	})
}

// FuzzMiner checks that any sequence of lines keeps the miner consistent:
// no panic, Match agrees with the following Add, and a snapshot round trip
// keeps ids.
func FuzzMiner(f *testing.F) {
	f.Add("a b c\na b d\n\"x y z w\" 1\n")
	f.Add("GET /a 200\nGET /b 500\nPUT /a 200 slowly\n")
	f.Fuzz(func(t *testing.T, text string) {
		m, _ := New(Config{MaxClusters: 4, Depth: 2, MaxChildren: 3})
		lines := strings.Split(text, "\n")
		for _, l := range lines {
			predicted, ok := m.Match(l)
			got := m.Add(l)
			if ok && (got.New || got.ID != predicted.ID) {
				t.Fatalf("Match said %+v, Add gave %+v", predicted, got)
			}
		}
		data, err := m.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		r, _ := New(Config{})
		if err := r.Restore(data); err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if a, b := m.Add(l), r.Add(l); a != b {
				t.Fatalf("after restore %+v vs %+v", b, a)
			}
		}
	})
}
