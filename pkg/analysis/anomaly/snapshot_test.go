package anomaly

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ollystack/ollystack/pkg/analysis/internal/restoretest"
)

func TestSnapshotRestoreContinuesIdentically(t *testing.T) {
	points := daily(6, 9)
	points[5*288].Value = 400
	for _, cut := range []int{10, 3 * 288} { // during warm-up and after
		original := mustNew(t, Config{})
		for _, p := range points[:cut] {
			original.Update(p.Time, p.Value)
		}
		data, err := original.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		restored := mustNew(t, Config{Seasons: NoSeasons}) // replaced by the snapshot's config
		if err := restored.Restore(data); err != nil {
			t.Fatal(err)
		}
		for i, p := range points[cut:] {
			want := original.Update(p.Time, p.Value)
			if got := restored.Update(p.Time, p.Value); got != want {
				t.Fatalf("cut %d, point %d: restored %+v, original %+v", cut, cut+i, got, want)
			}
		}
	}
}

func TestRestoreRefusesBadSnapshots(t *testing.T) {
	d := mustNew(t, Config{})
	for _, p := range daily(3, 10) {
		d.Update(p.Time, p.Value)
	}
	good, err := d.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		out, _ := json.Marshal(m)
		return out
	}
	state := func(m map[string]any) map[string]any { return m["state"].(map[string]any) }
	cases := map[string][]byte{
		"garbage":       []byte("{not json"),
		"version":       mutate(func(m map[string]any) { m["version"] = 99 }),
		"active":        mutate(func(m map[string]any) { state(m)["active"] = 7 }),
		"models":        mutate(func(m map[string]any) { state(m)["models"] = []any{} }),
		"views":         mutate(func(m map[string]any) { state(m)["views"] = []any{map[string]any{"bins": []any{1}}} }),
		"config":        mutate(func(m map[string]any) { m["config"].(map[string]any)["level_rate"] = 5 }),
		"seasons":       mutate(func(m map[string]any) { m["config"].(map[string]any)["seasons"] = []any{} }),
		"season bins":   mutate(func(m map[string]any) { state(m)["models"].([]any)[1].(map[string]any)["visits"] = []any{} }),
		"nil model":     mutate(func(m map[string]any) { state(m)["models"].([]any)[2] = nil }),
		"warm mismatch": mutate(func(m map[string]any) { state(m)["warm_values"] = []any{1.0} }),
		// Accepted before, these poisoned the detector: every later Expected
		// or Deviation NaN or infinite, and every later Snapshot an error.
		"zero spread floor": mutate(func(m map[string]any) {
			state(m)["min_spread"] = 0
			for _, model := range state(m)["models"].([]any) {
				model := model.(map[string]any)
				model["spread"], model["slow"] = 0, 0
				if spreads, ok := model["phase_spread"].([]any); ok {
					for i := range spreads {
						spreads[i] = 0
					}
				}
			}
		}),
		"huge level":       mutate(func(m map[string]any) { state(m)["models"].([]any)[0].(map[string]any)["level"] = 1e308 }),
		"huge view weight": mutate(func(m map[string]any) { state(m)["views"].([]any)[0].(map[string]any)["weight"] = 1.7e308 }),
		"huge warm value": []byte(`{"version":2,"config":{},"state":{"warm_times":["2026-01-01T00:00:00Z","2026-01-01T00:05:00Z"],` +
			`"warm_values":[1e308,-1e308]}}`),
	}
	for name, data := range cases {
		if err := d.Restore(data); err == nil {
			t.Errorf("%s: restore accepted a bad snapshot", name)
		}
	}
	// The detector still works with its previous state.
	if s := d.Update(t0.Add(3*24*60*step/5), 100); !s.Warm {
		t.Errorf("detector lost its state after refused restores: %+v", s)
	}
}

// FuzzRestore checks that no snapshot, however malformed, makes Restore or
// the following updates panic.
func FuzzRestore(f *testing.F) {
	d, _ := New(Config{})
	for _, p := range daily(3, 11) {
		d.Update(p.Time, p.Value)
	}
	good, _ := d.Snapshot()
	f.Add(good)
	f.Add([]byte(`{"version":2,"config":{},"state":{}}`))
	f.Add([]byte(`{"version":2,"config":{"seasons":[]},"state":{"models":[{"period":0}],"views":[]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, _ := New(Config{})
		if d.Restore(data) != nil {
			return
		}
		for _, p := range noisy(40, 5, 1, 12) {
			s := d.Update(p.Time, p.Value)
			if s.Value < 0 || s.Value > 1 {
				t.Fatalf("score %v out of range", s.Value)
			}
			if !finite(s.Expected, s.Deviation) {
				t.Fatalf("non-finite score %+v", s)
			}
		}
		// A restored detector must stay able to save itself.
		if _, err := d.Snapshot(); err != nil {
			t.Fatalf("snapshot after restore and updates: %v", err)
		}
	})
}

// TestConfigDuringRestore reads the settings while a restore replaces them:
// a Detector is documented as safe for concurrent use (run with -race).
func TestConfigDuringRestore(t *testing.T) {
	d := mustNew(t, Config{})
	data, err := mustNew(t, Config{WarmUp: 10}).Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	restoretest.ReadsDuringRestore(t, func() error { return d.Restore(data) }, func() error {
		if w := d.Config().WarmUp; w != 32 && w != 10 {
			return fmt.Errorf("warm_up %d", w)
		}
		return nil
	})
}
