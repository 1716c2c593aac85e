package anomaly

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// snapshotVersion changes when the snapshot layout does (2: level-shift runs
// per model).
const snapshotVersion = 2

type snapshot struct {
	Version int    `json:"version"`
	Config  Config `json:"config"`
	State   state  `json:"state"`
}

// Snapshot returns the detector's settings and everything it has learnt, as
// JSON, so that a restarted process can resume without a new warm-up.
func (d *Detector) Snapshot() ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return json.Marshal(snapshot{Version: snapshotVersion, Config: d.p.Config, State: d.state})
}

// Restore replaces the detector's settings and state with a snapshot. On
// error the detector is left unchanged.
func (d *Detector) Restore(data []byte) error {
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("anomaly: decode snapshot: %w", err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("anomaly: snapshot version %d, want %d", snap.Version, snapshotVersion)
	}
	cfg := snap.Config.withDefaults()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("anomaly: snapshot config: %w", err)
	}
	if err := snap.State.validate(cfg); err != nil {
		return fmt.Errorf("anomaly: snapshot state: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.p = params{Config: cfg}
	d.state = snap.State
	return nil
}

// validate checks what the detector indexes without bounds checks of its
// own, so that a corrupt or hostile snapshot is refused instead of causing a
// panic later.
func (s *state) validate(cfg Config) error {
	if len(s.WarmValues) != len(s.WarmTimes) || len(s.WarmValues) > cfg.WarmUp {
		return errors.New("inconsistent warm-up points")
	}
	// Update refuses values beyond maxMagnitude; a warm-up value beyond it
	// would overflow the seeded spread.
	if slices.ContainsFunc(s.WarmValues, func(v float64) bool { return !(math.Abs(v) <= maxMagnitude) }) {
		return errors.New("warm-up value out of range")
	}
	if !finite(s.MinSpread, s.Peak, s.ShortMean, s.ShortAbs) {
		return errors.New("non-finite or out-of-range statistics")
	}
	if s.Models == nil {
		if len(s.Views) != 0 {
			return errors.New("views without models")
		}
		return nil
	}
	// seed sets the spread floor to at least minSpreadFloor: below it (zero in
	// a hostile snapshot) a residual is divided by a zero spread.
	if s.MinSpread < minSpreadFloor {
		return errors.New("spread floor below its minimum")
	}
	if len(s.Models) != 1+len(cfg.Seasons) || s.Active < 0 || s.Active >= len(s.Models) {
		return errors.New("models do not match the configured seasons")
	}
	for i, m := range s.Models {
		if err := m.validate(cfg, i); err != nil {
			return fmt.Errorf("model %d: %w", i, err)
		}
	}
	if len(s.Views) != 0 && len(s.Views) != numViews {
		return errors.New("wrong number of views")
	}
	for _, v := range s.Views {
		if len(v.Bins) != calBins || !finite(v.Total, v.Weight) || slices.ContainsFunc(v.Bins, notFinite) {
			return errors.New("malformed view histogram")
		}
	}
	return nil
}

func (m *model) validate(cfg Config, i int) error {
	if m == nil {
		return errors.New("missing")
	}
	want := cfg.Seasons
	if i == 0 && (m.Period != 0 || len(m.Season) != 0) || i > 0 && m.Period != want[i-1] {
		return errors.New("period does not match the configuration")
	}
	bins := len(m.Season)
	if i > 0 && (bins == 0 || bins > cfg.MaxBins) {
		return errors.New("bin count out of range")
	}
	if len(m.Visits) != bins || len(m.PhaseSpread) != min(bins, phaseGroups) {
		return errors.New("inconsistent bins")
	}
	if !finite(m.Level, m.Spread, m.Slow) || slices.ContainsFunc(m.Season, notFinite) ||
		slices.ContainsFunc(m.PhaseSpread, notFinite) || slices.ContainsFunc(m.Run, notFinite) {
		return errors.New("non-finite or out-of-range statistics")
	}
	if len(m.Run) > cfg.ShiftPoints {
		return errors.New("level-shift run longer than shift_points")
	}
	return nil
}

// maxState bounds, in magnitude, every statistic a snapshot may hold. Learnt
// from values within maxMagnitude, none comes near it; beyond it sums of
// statistics (level plus offset, total plus weight) could overflow to
// infinity, and the NaN that follows would stay in the state for good (and
// make every later Snapshot fail).
const maxState = 1e200

// notFinite reports a statistic that is NaN, infinite or beyond maxState.
func notFinite(v float64) bool { return !(math.Abs(v) <= maxState) }

func finite(vs ...float64) bool { return !slices.ContainsFunc(vs, notFinite) }
