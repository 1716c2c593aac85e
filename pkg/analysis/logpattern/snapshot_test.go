package logpattern

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ollystack/ollystack/pkg/analysis/internal/restoretest"
)

// corpus returns lines of a few events with varying variables.
func corpus(n int) []string {
	lines := make([]string, 0, n)
	for i := range n {
		switch i % 5 {
		case 0:
			lines = append(lines, fmt.Sprintf("Accepted password for user%d from 10.0.%d.%d port %d ssh2", i%7, i%255, i%13, 1024+i))
		case 1:
			lines = append(lines, fmt.Sprintf("GET /api/v1/orders/%d returned %d in %dms", i, 200+i%3, i%97))
		case 2:
			lines = append(lines, fmt.Sprintf("connection pool exhausted: active=%d idle=0 waiting=%d", 50+i%5, i%11))
		case 3:
			lines = append(lines, fmt.Sprintf("%s close, %d bytes sent, %d bytes received, lifetime 00:%02d", word(i%40)+".example.com:443", i, 2*i, i%60))
		default:
			lines = append(lines, fmt.Sprintf("worker %s finished job %x", word(i%9), i*7919))
		}
	}
	return lines
}

func TestSnapshotRestoreKeepsIDs(t *testing.T) {
	lines := corpus(2000)
	original := mustMiner(t, Config{MaxClusters: 30})
	for _, l := range lines[:1000] {
		original.Add(l)
	}
	data, err := original.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	restored := mustMiner(t, Config{Depth: 5}) // replaced by the snapshot's config
	if err := restored.Restore(data); err != nil {
		t.Fatal(err)
	}
	if restored.Config() != original.Config() || restored.Len() != original.Len() {
		t.Fatalf("restored %+v with %d templates, original %+v with %d",
			restored.Config(), restored.Len(), original.Config(), original.Len())
	}
	for i, l := range lines[1000:] {
		want := original.Add(l)
		if got := restored.Add(l); got != want {
			t.Fatalf("line %d: restored %+v, original %+v", 1000+i, got, want)
		}
	}
	again, err := restored.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	final, _ := original.Snapshot()
	if string(again) != string(final) {
		t.Fatal("snapshots differ after identical input")
	}
}

func TestRestoreRefusesBadSnapshots(t *testing.T) {
	m := mustMiner(t, Config{})
	for _, l := range corpus(50) {
		m.Add(l)
	}
	good, _ := m.Snapshot()
	mutate := func(f func(map[string]any)) []byte {
		var v map[string]any
		if err := json.Unmarshal(good, &v); err != nil {
			t.Fatal(err)
		}
		f(v)
		out, _ := json.Marshal(v)
		return out
	}
	first := func(v map[string]any) map[string]any { return v["clusters"].([]any)[0].(map[string]any) }
	for name, data := range map[string][]byte{
		"garbage": []byte("nope"),
		"version": mutate(func(v map[string]any) { v["version"] = 2 }),
		"config":  mutate(func(v map[string]any) { v["config"].(map[string]any)["similarity"] = 7 }),
		"too many": mutate(func(v map[string]any) {
			v["config"].(map[string]any)["max_clusters"] = 1
		}),
		"empty id": mutate(func(v map[string]any) { first(v)["id"] = "" }),
		"path":     mutate(func(v map[string]any) { first(v)["path"] = []any{} }),
	} {
		if err := m.Restore(data); err == nil {
			t.Errorf("%s: bad snapshot accepted", name)
		}
	}
	if m.Len() == 0 {
		t.Fatal("refused restores changed the miner")
	}
}

// TestRestoreKeepsIDsOnTies: a restore rebuilds leaves and the shape index in
// least-recently-used order, not in the order of birth. A line that fits two
// templates equally well must still get the same id from the original and
// the restored miner.
func TestRestoreKeepsIDsOnTies(t *testing.T) {
	for name, c := range map[string]struct{ first, second, line string }{
		// Equal similarity in one leaf (3 of 5 tokens each).
		"leaf": {"a b c d e", "a b f g h", "a b c g x"},
		// Equal share of constant tokens with clusters of two other lengths.
		"shape": {"x y 5 KB z", "x y 5 6 sec z", "x y z"},
	} {
		original := mustMiner(t, Config{})
		original.Add(c.first)
		original.Add(c.second)
		original.Add(c.first) // now the most recently used: first in the snapshot's order no more
		data, err := original.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		restored := mustMiner(t, Config{})
		if err := restored.Restore(data); err != nil {
			t.Fatal(err)
		}
		if got, want := restored.Add(c.line), original.Add(c.line); got.ID != want.ID {
			t.Errorf("%s: restored %+v, original %+v", name, got, want)
		}
	}
}

// TestConfigDuringRestore reads the settings while a restore replaces them:
// a Miner is documented as safe for concurrent use (run with -race).
func TestConfigDuringRestore(t *testing.T) {
	m := mustMiner(t, Config{})
	data, err := mustMiner(t, Config{Depth: 4}).Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	restoretest.ReadsDuringRestore(t, func() error { return m.Restore(data) }, func() error {
		if d := m.Config().Depth; d != 2 && d != 4 {
			return fmt.Errorf("depth %d", d)
		}
		return nil
	})
}
