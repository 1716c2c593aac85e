// Package anomaly scores a stream of values (request rate, error rate,
// latency percentile, any metric) point by point against a robust, seasonal
// baseline that it learns as it goes.
//
// A Detector keeps a few candidate models: one without season and one per
// configured period (daily and weekly by default). Each is a Holt-Winters
// smoother whose updates are clipped, so outliers do not bend it. Once a
// period has been seen often enough, its model is used when its long-run
// residual spread is clearly smaller than without the season. A run of points
// on the same side of the forecast is taken as a level shift and the baseline
// jumps to it, so a new normal stops being reported.
//
// Deviations are measured in robust standard deviations (per phase of the
// season when one is used), then judged against what this series usually
// shows: a decaying histogram of its own past deviations gives its usual
// extreme, so a score means the same in a calm series and a bursty one.
// Within an episode only a deviation beyond the recent peak scores again.
//
// Cost per point is O(number of candidate models), with no allocation;
// memory is a few hundred floats per seasonal model.
package anomaly

import (
	"math"
	"slices"
	"sync"
	"time"
)

// params are the settings plus what the warm-up derived from the data.
type params struct {
	Config
	minSpread float64
}

// Detector scores one series. It is safe for concurrent use.
type Detector struct {
	mu      sync.Mutex
	p       params
	state   state
	scratch []float64
}

// state is everything a Detector learns; Snapshot serialises it.
type state struct {
	WarmTimes  []time.Time `json:"warm_times,omitempty"`
	WarmValues []float64   `json:"warm_values,omitempty"`
	MinSpread  float64     `json:"min_spread"`
	Models     []*model    `json:"models,omitempty"`
	Active     int         `json:"active"`
	// Peak is the largest recent deviation relative to the usual extreme,
	// fading by EpisodeDecay per point.
	Peak float64 `json:"peak"`
	// ShortMean and ShortAbs are short moving averages of the residual and
	// of its size.
	ShortMean float64 `json:"short_mean"`
	ShortAbs  float64 `json:"short_abs"`
	// Views track the deviations this series usually shows, one per view
	// that judge takes.
	Views []calibrator `json:"views,omitempty"`
}

// New returns a Detector; zero fields of cfg take their defaults.
func New(cfg Config) (*Detector, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Detector{p: params{Config: cfg}}, nil
}

// Config returns the effective settings.
func (d *Detector) Config() Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.p.Config
}

// maxMagnitude bounds the values learnt from: beyond it sums of values could
// overflow to infinity and poison the state.
const maxMagnitude = 1e150

// Update scores the point and learns from it. Points with a NaN, infinite or
// absurdly large value (beyond 1e150 in magnitude) are ignored and score 0.
func (d *Detector) Update(t time.Time, v float64) Score {
	if math.IsNaN(v) || math.Abs(v) > maxMagnitude {
		return Score{}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s := &d.state
	if s.Models == nil {
		s.WarmTimes = append(s.WarmTimes, t)
		s.WarmValues = append(s.WarmValues, v)
		if len(s.WarmValues) >= d.p.WarmUp {
			d.seed()
		}
		return Score{Expected: v}
	}
	return d.score(t, v)
}

// seed starts the models from the warm-up points: the median as level, the
// median absolute deviation as spread, and the sampling interval to size the
// seasonal bins.
func (d *Detector) seed() {
	s := &d.state
	values := slices.Clone(s.WarmValues)
	level := median(values)
	for i, v := range s.WarmValues {
		values[i] = math.Abs(v - level)
	}
	spread := median(values) * madToMeanAbs
	// A floor keeps a flat warm-up from making every later wiggle infinite.
	s.MinSpread = math.Max(minSpreadFloor, 1e-6*math.Abs(level))
	step := medianStep(s.WarmTimes)
	start := s.WarmTimes[0]
	p := d.paramsNow()
	s.Models = []*model{newModel(0, 0, level, spread, start)}
	for _, period := range d.p.Seasons {
		bins := d.p.MaxBins
		if step > 0 {
			bins = int(min(int64(d.p.MaxBins), max(1, int64(period/step))))
		}
		s.Models = append(s.Models, newModel(period, bins, level, spread, start))
	}
	for i, t := range s.WarmTimes {
		for _, m := range s.Models {
			if t.After(m.Last) {
				m.Last = t
			}
			if b := m.bin(t); b >= 0 {
				m.update(t, s.WarmValues[i], s.WarmValues[i]-m.forecast(t), &p)
			}
		}
	}
	s.WarmTimes, s.WarmValues = nil, nil
}

// minSpreadFloor is the smallest spread floor seed sets.
const minSpreadFloor = 1e-9

// paramsNow returns the settings with the current spread floor: a small
// share of the long-run spread around the plain level, so that a model that
// fits a noiseless series perfectly does not call every rounding error
// infinitely anomalous.
func (d *Detector) paramsNow() params {
	p := d.p
	p.minSpread = d.state.MinSpread
	if len(d.state.Models) > 0 {
		p.minSpread = math.Max(p.minSpread, floorShare*d.state.Models[0].Slow)
	}
	return p
}

// floorShare is the share of the plain model's long-run spread below which
// no model's spread is trusted.
const floorShare = 0.05

// madToMeanAbs converts a median absolute deviation into the mean absolute
// deviation of a normal distribution (sqrt(2/pi) / 0.6745).
const madToMeanAbs = 1.1829

// meanAbsToSigma converts a mean absolute deviation into a standard
// deviation for normally distributed residuals (sqrt(pi/2)).
const meanAbsToSigma = 1.2533

func (d *Detector) score(t time.Time, v float64) Score {
	s := &d.state
	p := d.paramsNow()
	active := s.Models[s.Active]
	expected := active.forecast(t)
	r := v - expected
	sigma := active.scale(t, &p) * meanAbsToSigma
	z := math.Abs(r) / sigma
	ratio := d.judge(r, sigma, &p)
	// Within one episode only news scores: a point must beat the recent
	// peak to count, so a burst raises one alert, not one per point.
	value := scoreOf(ratio / math.Max(1, s.Peak))
	s.Peak = math.Max(s.Peak*p.EpisodeDecay, ratio)
	out := Score{Value: value, Expected: expected, Deviation: z, Warm: true, Season: active.Period}
	if r > 0 {
		out.Direction = Up
	} else if r < 0 {
		out.Direction = Down
	}
	for _, m := range s.Models {
		rm := v - m.forecast(t)
		d.trackShift(m, rm, math.Abs(rm)/(m.scale(t, &p)*meanAbsToSigma), &p)
		m.update(t, v, v-m.forecast(t), &p)
	}
	d.choose()
	return out
}

// judge returns how far the current behaviour is beyond what this series
// usually shows, in units of its usual extreme, looking at three views of
// the residual r: the point itself (spikes, dips), its short moving average
// (small shifts and drifts that no single point reveals) and its short
// moving spread (bursts of volatility). Each view is
// calibrated against its own history; the strongest one counts.
func (d *Detector) judge(r, sigma float64, p *params) float64 {
	s := &d.state
	if len(s.Views) != numViews {
		s.Views = make([]calibrator, numViews)
	}
	rate := 1 / float64(p.ShortPoints)
	s.ShortMean += rate * (r - s.ShortMean)
	s.ShortAbs += rate * (math.Abs(r) - s.ShortAbs)
	values := [numViews]float64{
		math.Abs(r) / sigma,
		math.Abs(s.ShortMean) / sigma,
		s.ShortAbs / sigma,
	}
	decay := 1 - 1/float64(p.RareMemory)
	ratio := 0.0
	for i, v := range values {
		usual := math.Max(s.Views[i].quantile(p.RareQuantile), minUsual[i]*p.MinDeviation)
		ratio = math.Max(ratio, v/usual)
		s.Views[i].observe(v, decay)
	}
	return ratio
}

// numViews is the number of views judge takes of a residual; minUsual scales
// MinDeviation per view (averages vary less than points).
const numViews = 3

var minUsual = [numViews]float64{1, 0.5, 0.5}

// trackShift collects a model's run of deviations on one side (r is the
// residual against the model's forecast, z the same in its robust standard
// deviations); once the run is long enough, the model moves its level by the
// run's median, so a new normal is learnt within ShiftPoints points instead
// of 1/LevelRate. Each model judges shifts against its own forecast: what the
// plain model takes for a shift may be the daily swing a seasonal model
// expects. A seasonal model does not shift before it has seen one whole
// period: until then a run off its level is the season itself, and moving
// the level would corrupt the phase offsets it is averaging.
func (d *Detector) trackShift(m *model, r, z float64, p *params) {
	if m.Period > 0 && m.periodsSeen() < 1 {
		return
	}
	if z < p.ShiftDeviation || len(m.Run) > 0 && (r > 0) != (m.Run[0] > 0) {
		m.Run = m.Run[:0]
		if z < p.ShiftDeviation {
			return
		}
	}
	m.Run = append(m.Run, r)
	if len(m.Run) < p.ShiftPoints {
		return
	}
	d.scratch = append(d.scratch[:0], m.Run...)
	m.shift(median(d.scratch))
	m.Run = m.Run[:0]
}

// choose picks the model with the smallest spread among those that have seen
// enough periods, preferring no season unless a season clearly helps.
func (d *Detector) choose() {
	s := &d.state
	plain := s.Models[0]
	best, bestSpread := 0, plain.Slow*d.p.SeasonGain
	for i, m := range s.Models[1:] {
		if m.periodsSeen() < d.p.MinPeriods {
			continue
		}
		if m.Slow < bestSpread {
			best, bestSpread = i+1, m.Slow
		}
	}
	s.Active = best
}
