package anomaly

import (
	"math"
	"time"
)

// model forecasts the next value as level + season[phase] and tracks how far
// actual values fall from the forecast. It is a Holt-Winters smoother made
// robust: residuals are clipped before they move the level, the profile or
// the spread, so a spike does not bend the baseline that judges the next one.
// A model with Period 0 has no season.
type model struct {
	Period time.Duration `json:"period"`
	Level  float64       `json:"level"`
	// Season holds one offset from the level per phase bin, Visits how often
	// each bin was updated (the first visits average, later ones smooth).
	Season []float64 `json:"season,omitempty"`
	Visits []uint32  `json:"visits,omitempty"`
	// Spread is the exponentially weighted mean absolute residual; Slow is
	// the same with a ten times longer memory. The slow one keeps a calm
	// stretch from shrinking the yardstick until every wiggle looks huge.
	Spread float64 `json:"spread"`
	Slow   float64 `json:"slow"`
	// PhaseSpread is the slow spread per group of phase bins, for series
	// that are noisier at some times of day or week than at others.
	PhaseSpread []float64 `json:"phase_spread,omitempty"`
	// Seen is the time span covered since the model started, which decides
	// whether a season is trustworthy yet.
	Start time.Time `json:"start"`
	Last  time.Time `json:"last"`
	// Run holds the residuals of the current run of same-side deviations
	// from this model's forecast.
	Run []float64 `json:"run,omitempty"`
}

func newModel(period time.Duration, bins int, level, spread float64, start time.Time) *model {
	m := &model{Period: period, Level: level, Spread: spread, Slow: spread, Start: start, Last: start}
	if period > 0 && bins > 0 {
		m.Season = make([]float64, bins)
		m.Visits = make([]uint32, bins)
		m.PhaseSpread = make([]float64, min(bins, phaseGroups))
		for i := range m.PhaseSpread {
			m.PhaseSpread[i] = spread
		}
	}
	return m
}

// bin returns the phase bin of t, or -1 without a season.
func (m *model) bin(t time.Time) int {
	if len(m.Season) == 0 || m.Period <= 0 {
		return -1
	}
	phase := t.UnixNano() % int64(m.Period)
	if phase < 0 {
		phase += int64(m.Period)
	}
	// Integer arithmetic keeps samples that fall exactly on a bin edge (a
	// value at 09:00 with 5-minute bins) in their own bin; floating point
	// would drop some into the previous one and blur every sharp transition.
	width := max(int64(m.Period)/int64(len(m.Season)), 1)
	return int(min(phase/width, int64(len(m.Season)-1)))
}

// forecast returns the expected value at t.
func (m *model) forecast(t time.Time) float64 {
	if b := m.bin(t); b >= 0 && m.Visits[b] > 0 {
		return m.Level + m.Season[b]
	}
	return m.Level
}

// periodsSeen returns how many whole periods the model has observed.
func (m *model) periodsSeen() float64 {
	if m.Period <= 0 {
		return 0
	}
	return float64(m.Last.Sub(m.Start)) / float64(m.Period)
}

// update learns from the observation (t, x) whose residual against the
// forecast was r.
func (m *model) update(t time.Time, x, r float64, p *params) {
	clip := p.Clip * m.scale(t, p)
	rc := math.Max(-clip, math.Min(clip, r))
	m.Spread += p.SpreadRate * (math.Min(math.Abs(r), clip) - m.Spread)
	// The slow spread is not clipped: it must learn how large routine
	// bursts are even when the fast one started at zero.
	m.Slow += p.SpreadRate / slowFactor * (math.Abs(r) - m.Slow)
	// Phase spreads learn as fast as the fast spread, so they are clipped
	// like it: an anomaly must not widen the yardstick that judges it.
	if g := m.group(t); g >= 0 && m.periodsSeen() >= 1 {
		m.PhaseSpread[g] += phaseRate * (math.Min(math.Abs(r), clip) - m.PhaseSpread[g])
	}
	if t.After(m.Last) {
		m.Last = t
	}
	b := m.bin(t)
	if b < 0 {
		m.Level += p.LevelRate * rc
		return
	}
	if m.Visits[b] < learnVisits {
		// The first visits of a bin average its offset from the level
		// unclipped: the seasonal swing is what the model has to learn, and
		// clipping it would take many periods to learn a large one.
		m.Visits[b]++
		m.Season[b] += (x - m.Level - m.Season[b]) / float64(m.Visits[b])
		return
	}
	// Split the correction between level and season as Holt-Winters does.
	m.Level += p.LevelRate * rc
	m.Season[b] += p.SeasonRate * (1 - p.LevelRate) * rc
	if m.Visits[b] < math.MaxUint32 {
		m.Visits[b]++
	}
}

// learnVisits is how many visits of a phase bin are averaged before the
// bin is updated by clipped, smoothed corrections.
const learnVisits = 3

// slowFactor is how much longer the memory of the slow spread is.
const slowFactor = 10

// phaseGroups is the number of phase groups with their own spread, and
// phaseRate their smoothing rate.
const (
	phaseGroups = 24
	phaseRate   = 0.02
)

// group returns the phase-spread group of t, or -1 without a season.
func (m *model) group(t time.Time) int {
	b := m.bin(t)
	if b < 0 || len(m.PhaseSpread) == 0 {
		return -1
	}
	return b * len(m.PhaseSpread) / len(m.Season)
}

// scale is the mean absolute residual used to judge a point at t: the fast
// spread, but never less than the long-run spread of this phase of the
// period (of the whole series without a season), so that a calm stretch
// does not make the next ordinary wiggle look huge.
func (m *model) scale(t time.Time, p *params) float64 {
	slow := m.Slow
	if g := m.group(t); g >= 0 && m.periodsSeen() >= 2 {
		slow = m.PhaseSpread[g]
	}
	return math.Max(math.Max(m.Spread, slow), p.minSpread)
}

// shift moves the level by delta after a sustained level shift, keeping the
// seasonal shape.
func (m *model) shift(delta float64) {
	m.Level += delta
}
