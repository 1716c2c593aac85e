package logpattern

import (
	"fmt"
	"slices"
	"testing"
)

func TestKeyedSeparatesServices(t *testing.T) {
	k, err := NewKeyed(Config{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	a := k.Add("checkout", "payment 42 declined for order 7")
	b := k.Add("billing", "payment 43 declined for order 8")
	if !a.New || !b.New {
		t.Fatalf("each service should learn its own template: %+v %+v", a, b)
	}
	if a.ID != b.ID {
		t.Fatalf("same template text, ids %s and %s", a.ID, b.ID)
	}
	if got, ok := k.Match("checkout", "payment 44 declined for order 9"); !ok || got.ID != a.ID {
		t.Fatalf("Match = %+v %v", got, ok)
	}
	if _, ok := k.Match("unknown", "payment 1 declined for order 2"); ok {
		t.Fatal("Match found a template under an unknown key")
	}
	if got := k.Keys(); !slices.Equal(got, []string{"billing", "checkout"}) {
		t.Fatalf("keys %v", got)
	}
	if k.Miner("billing") == nil || k.Miner("nope") != nil {
		t.Fatal("Miner lookup wrong")
	}
}

func TestKeyedBoundsKeys(t *testing.T) {
	k, err := NewKeyed(Config{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		k.Add(fmt.Sprintf("svc-%s", word(i)), "started")
		k.Add("svc-a", "still here") // keeps svc-a the most recent
	}
	keys := k.Keys()
	if len(keys) != 3 || !slices.Contains(keys, "svc-a") {
		t.Fatalf("keys %v, want 3 including svc-a", keys)
	}
}

func TestKeyedSnapshotRestore(t *testing.T) {
	k, _ := NewKeyed(Config{MaxClusters: 20}, 10)
	lines := corpus(400)
	for i, l := range lines[:200] {
		k.Add(word(i%3), l)
	}
	data, err := k.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	restored, _ := NewKeyed(Config{}, 1)
	if err := restored.Restore(data); err != nil {
		t.Fatal(err)
	}
	for i, l := range lines[200:] {
		key := word(i % 3)
		if want, got := k.Add(key, l), restored.Add(key, l); got != want {
			t.Fatalf("line %d: restored %+v, original %+v", i, got, want)
		}
	}
	if err := restored.Restore([]byte(`{"version":1,"max_keys":1,"miners":{"a":{},"b":{}}}`)); err == nil {
		t.Fatal("snapshot with more keys than max_keys accepted")
	}
	if err := restored.Restore([]byte(`{"version":1,"miners":{"a":"x"}}`)); err == nil {
		t.Fatal("snapshot with a broken miner accepted")
	}
}

// TestKeyedRestoreKeepsRecency: after a restore, a new key at a full table
// must still drop the least recently used key, not whichever the map yields.
func TestKeyedRestoreKeepsRecency(t *testing.T) {
	for range 20 {
		k, _ := NewKeyed(Config{}, 3)
		for _, key := range []string{"a", "b", "c", "a", "c"} {
			k.Add(key, "started")
		}
		data, err := k.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		restored, _ := NewKeyed(Config{}, 3)
		if err := restored.Restore(data); err != nil {
			t.Fatal(err)
		}
		restored.Add("d", "started")
		if got := restored.Keys(); !slices.Equal(got, []string{"a", "c", "d"}) {
			t.Fatalf("keys %v after a new key, want b (the least recently used) dropped", got)
		}
	}
}
