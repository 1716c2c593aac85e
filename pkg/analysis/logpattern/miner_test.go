package logpattern

import (
	"fmt"
	"strings"
	"testing"
)

func mustMiner(t testing.TB, cfg Config) *Miner {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAddGroupsAndGeneralises(t *testing.T) {
	m := mustMiner(t, Config{})
	first := m.Add("Invalid user admin from 10.0.0.1")
	if !first.New || first.Template != "Invalid user admin from <*>" {
		t.Fatalf("first line: %+v", first)
	}
	second := m.Add("Invalid user oracle from 10.0.0.2")
	if second.New || second.ID != first.ID {
		t.Fatalf("second line not grouped: %+v vs %+v", second, first)
	}
	if second.Template != "Invalid user <*> from <*>" {
		t.Fatalf("template not generalised: %q", second.Template)
	}
	other := m.Add("Accepted password for root from 10.0.0.3 port 22")
	if !other.New || other.ID == first.ID {
		t.Fatalf("different event joined: %+v", other)
	}
	if m.Len() != 2 {
		t.Fatalf("%d templates, want 2", m.Len())
	}
}

func TestIDsDependOnTextNotOrder(t *testing.T) {
	a, b := mustMiner(t, Config{}), mustMiner(t, Config{})
	a.Add("noise before")
	got := a.Add("disk full on /dev/sda1").ID
	want := b.Add("disk full on /dev/sda1").ID
	if got != want {
		t.Fatalf("same first line, ids %s and %s", got, want)
	}
	if len(got) != 16 {
		t.Fatalf("id %q, want 16 hex digits", got)
	}
}

func TestSimilarityThreshold(t *testing.T) {
	m := mustMiner(t, Config{Similarity: 0.6})
	base := m.Add("alpha beta gamma delta epsilon")
	// 3 of 5 tokens equal: 0.6, joins.
	if got := m.Add("alpha beta gamma zeta eta"); got.ID != base.ID {
		t.Fatalf("0.6 similar line did not join: %+v", got)
	}
	// Now "alpha beta gamma <*> <*>": only "alpha" equal among 3 concrete
	// positions, the wildcards give half credit: (1 + 1)/5 = 0.4, too low.
	if got := m.Add("alpha one two three four"); got.ID == base.ID {
		t.Fatalf("dissimilar line joined: %+v", got)
	}
}

func TestSharedVariablesAloneDoNotGroup(t *testing.T) {
	m := mustMiner(t, Config{})
	a := m.Add("[instance: 3f2a9c1e-0b7d-4e55-9a1c-2b3c4d5e6f70] Creating image")
	b := m.Add("[instance: 8d9e0f1a-2b3c-4d5e-6f70-8192a3b4c5d6] Terminating instance")
	if a.ID == b.ID {
		t.Fatalf("lines sharing only a prefix and a masked id were grouped: %q", b.Template)
	}
}

func TestTreeRoutesByLengthAndLeadingTokens(t *testing.T) {
	m := mustMiner(t, Config{Depth: 2})
	a := m.Add("GET /a returned 200")
	b := m.Add("PUT /a returned 200")
	c := m.Add("GET /a returned 200 slowly")
	if a.ID == b.ID || a.ID == c.ID {
		t.Fatalf("routing did not separate lines: %s %s %s", a.ID, b.ID, c.ID)
	}
	leaf := m.tree.find(m.tok.tokenize("GET /a returned 500", 128))
	if leaf == nil || len(leaf.clusters) != 1 || leaf.clusters[0].id != a.ID {
		t.Fatalf("find did not reach the GET leaf: %+v", leaf)
	}
}

func TestMaxChildrenSendsOverflowToWildcard(t *testing.T) {
	m := mustMiner(t, Config{Depth: 1, MaxChildren: 3})
	for i := range 10 {
		m.Add(fmt.Sprintf("host%c connected", 'a'+i))
	}
	root := m.tree.byLength[2]
	if len(root.children) > 3 {
		t.Fatalf("%d children, bound 3", len(root.children))
	}
	if root.children[Wildcard] == nil {
		t.Fatal("no wildcard child after overflow")
	}
}

func TestMatchDoesNotLearn(t *testing.T) {
	m := mustMiner(t, Config{})
	added := m.Add("job 12 finished in 3s")
	got, ok := m.Match("job 13 finished in 4s")
	if !ok || got.ID != added.ID || got.New {
		t.Fatalf("Match = %+v, %v", got, ok)
	}
	if _, ok := m.Match("completely different words here"); ok {
		t.Fatal("Match found a template for an unseen event")
	}
	if m.Len() != 1 {
		t.Fatalf("Match created templates: %d", m.Len())
	}
}

func TestEvictionKeepsMostRecent(t *testing.T) {
	m := mustMiner(t, Config{MaxClusters: 3})
	ids := map[string]string{}
	for _, w := range []string{"alpha", "bravo", "charlie"} {
		ids[w] = m.Add(w + " event happened").ID
	}
	m.Add("alpha event happened") // alpha becomes the most recent
	m.Add("delta event happened") // evicts bravo, the least recent
	if m.Len() != 3 {
		t.Fatalf("%d templates, bound 3", m.Len())
	}
	var held []string
	for _, tp := range m.Templates() {
		held = append(held, tp.Template)
	}
	if strings.Contains(strings.Join(held, "|"), "bravo") {
		t.Fatalf("least recently used template kept: %v", held)
	}
	if got := m.Add("alpha event happened"); got.New || got.ID != ids["alpha"] {
		t.Fatalf("recent template lost: %+v", got)
	}
	// The evicted template's tree branch is pruned.
	if leaf := m.tree.find(m.tok.tokenize("bravo event happened", 128)); leaf != nil && len(leaf.clusters) > 0 {
		for _, c := range leaf.clusters {
			if strings.HasPrefix(c.template, "bravo") {
				t.Fatal("evicted cluster still in the tree")
			}
		}
	}
}

func TestEvictionIntoTheSameLeaf(t *testing.T) {
	m := mustMiner(t, Config{MaxClusters: 1})
	m.Add("alpha beta one two three")
	second := m.Add("alpha beta four five six") // same leaf, evicts the first
	if !second.New {
		t.Fatalf("dissimilar line joined: %+v", second)
	}
	if again := m.Add("alpha beta four five six"); again.New || again.ID != second.ID {
		t.Fatalf("cluster lost after evicting its leaf mate: %+v", again)
	}
}

func TestEvictionBoundsMemoryUnderChurn(t *testing.T) {
	m := mustMiner(t, Config{MaxClusters: 50})
	for i := range 5000 {
		m.Add(fmt.Sprintf("event%s kind%s happened", word(i), word(i/7)))
	}
	if m.Len() != 50 {
		t.Fatalf("%d templates, bound 50", m.Len())
	}
	nodes := 0
	var walk func(n *node)
	walk = func(n *node) {
		nodes++
		for _, c := range n.children {
			walk(c)
		}
	}
	for _, n := range m.tree.byLength {
		walk(n)
	}
	if nodes > 3*50+1 {
		t.Fatalf("%d tree nodes for 50 templates: pruning does not work", nodes)
	}
}

// word spells i in letters, so the masker keeps it as a constant token.
func word(i int) string {
	var b []byte
	for {
		b = append(b, byte('a'+i%26))
		i /= 26
		if i == 0 {
			return string(b)
		}
	}
}

func TestVariableLengthLinesShareID(t *testing.T) {
	m := mustMiner(t, Config{})
	a := m.Add("proxy.example.com:443 close, 785 bytes sent, 145 bytes received, lifetime 00:01")
	b := m.Add("proxy.example.com:443 close, 2034 bytes (1.98 KB) sent, 4206 bytes (4.10 KB) received, lifetime 00:39")
	if a.ID != b.ID {
		t.Fatalf("optional parts split one event: %q / %q", a.Template, b.Template)
	}
	if !a.New || a.Joined || !b.New || !b.Joined {
		t.Fatalf("first %+v, second %+v: want both new, only the second joined", a, b)
	}
	c := m.Add("session opened for user root by LOGIN uid=0 euid=0 rhost=10.0.0.1")
	d := m.Add("session opened for user root by LOGIN uid=0 euid=0 rhost=10.0.0.1 user=admin")
	if c.ID == d.ID || d.Joined {
		t.Fatal("an extra key=value field joined another event")
	}
	if again := m.Add("proxy.example.com:443 close, 99 bytes (0.10 KB) sent, 7 bytes (0.01 KB) received, lifetime 00:02"); again.New || again.Joined {
		t.Fatalf("a line of a known template: %+v", again)
	}
}

func TestEmptyAndOddLines(t *testing.T) {
	m := mustMiner(t, Config{})
	for _, line := range []string{"", "   ", "\x00\xff", strings.Repeat("x ", 10000), "<*>"} {
		got := m.Add(line)
		if got.ID == "" {
			t.Fatalf("no id for %q", line)
		}
		if again := m.Add(line); again.ID != got.ID {
			t.Fatalf("same line %q, ids %s then %s", line, got.ID, again.ID)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := New(Config{Similarity: 1.5}); err == nil {
		t.Error("similarity above 1 accepted")
	}
	if _, err := New(Config{Depth: 100}); err == nil {
		t.Error("depth 100 accepted")
	}
	m := mustMiner(t, Config{})
	if m.Config() != DefaultConfig() {
		t.Errorf("zero config gave %+v, want defaults %+v", m.Config(), DefaultConfig())
	}
}
