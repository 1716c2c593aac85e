package anomaly

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config tunes a Detector. Zero fields take the defaults of DefaultConfig.
type Config struct {
	// WarmUp is the number of points used to seed the baseline; no score is
	// given before.
	WarmUp int `json:"warm_up"`
	// LevelRate is the smoothing rate of the level (0..1].
	LevelRate float64 `json:"level_rate"`
	// SpreadRate is the smoothing rate of the residual spread (0..1].
	SpreadRate float64 `json:"spread_rate"`
	// SeasonRate is the smallest smoothing rate of a seasonal bin (0..1].
	SeasonRate float64 `json:"season_rate"`
	// Clip bounds, in spreads, how much one residual can move the model.
	Clip float64 `json:"clip"`
	// ShiftPoints is the length of a run of points beyond ShiftDeviation on
	// the same side that is taken as a level shift.
	ShiftPoints int `json:"shift_points"`
	// ShiftDeviation is the deviation, in robust standard deviations, that a
	// point of such a run must exceed.
	ShiftDeviation float64 `json:"shift_deviation"`
	// Seasons are the candidate periods, learnt when the data shows them.
	// Use NoSeasons to disable seasonality.
	Seasons []time.Duration `json:"seasons"`
	// MaxBins bounds the phase bins of one season.
	MaxBins int `json:"max_bins"`
	// MinPeriods is how many periods must be seen before a season is used.
	MinPeriods float64 `json:"min_periods"`
	// SeasonGain is the largest ratio of spread with the season to spread
	// without it for which the season is used.
	SeasonGain float64 `json:"season_gain"`
	// RareQuantile is the quantile of this series' own past deviations that
	// counts as its usual extreme; a point scores above 0 only beyond it.
	RareQuantile float64 `json:"rare_quantile"`
	// RareMemory is how many recent points that quantile reflects.
	RareMemory int `json:"rare_memory"`
	// MinDeviation is the deviation, in robust standard deviations, below
	// which a point never scores, however calm the series has been.
	MinDeviation float64 `json:"min_deviation"`
	// ShortPoints is the memory, in points, of the short moving averages
	// that reveal small shifts and volatility bursts.
	ShortPoints int `json:"short_points"`
	// EpisodeDecay is how much of the recent peak deviation remains after
	// each point (0..1); a point scores only as far as it beats that peak.
	EpisodeDecay float64 `json:"episode_decay"`
}

// NoSeasons disables seasonality when used as Config.Seasons.
var NoSeasons = []time.Duration{}

// Default periods.
const (
	Daily  = 24 * time.Hour
	Weekly = 7 * Daily
)

// DefaultConfig returns the settings measured in the README.
func DefaultConfig() Config {
	return Config{
		WarmUp:         32,
		LevelRate:      0.02,
		SpreadRate:     0.02,
		SeasonRate:     0.05,
		Clip:           3,
		ShiftPoints:    16,
		ShiftDeviation: 2.5,
		Seasons:        []time.Duration{Daily, Weekly},
		MaxBins:        288,
		MinPeriods:     2,
		SeasonGain:     0.8,
		RareQuantile:   0.995,
		RareMemory:     1000,
		MinDeviation:   2,
		EpisodeDecay:   0.97,
		ShortPoints:    6,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setFloat := func(v *float64, def float64) {
		if *v <= 0 || math.IsNaN(*v) {
			*v = def
		}
	}
	setInt(&c.WarmUp, d.WarmUp)
	setFloat(&c.LevelRate, d.LevelRate)
	setFloat(&c.SpreadRate, d.SpreadRate)
	setFloat(&c.SeasonRate, d.SeasonRate)
	setFloat(&c.Clip, d.Clip)
	setInt(&c.ShiftPoints, d.ShiftPoints)
	setFloat(&c.ShiftDeviation, d.ShiftDeviation)
	if c.Seasons == nil {
		c.Seasons = d.Seasons
	}
	setInt(&c.MaxBins, d.MaxBins)
	setFloat(&c.MinPeriods, d.MinPeriods)
	setFloat(&c.SeasonGain, d.SeasonGain)
	setFloat(&c.RareQuantile, d.RareQuantile)
	setInt(&c.RareMemory, d.RareMemory)
	setFloat(&c.MinDeviation, d.MinDeviation)
	setFloat(&c.EpisodeDecay, d.EpisodeDecay)
	setInt(&c.ShortPoints, d.ShortPoints)
	return c
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	var errs []error
	for name, v := range map[string]float64{
		"level_rate": c.LevelRate, "spread_rate": c.SpreadRate, "season_rate": c.SeasonRate,
	} {
		if v > 1 {
			errs = append(errs, fmt.Errorf("%s %v must be at most 1", name, v))
		}
	}
	for _, p := range c.Seasons {
		if p <= 0 {
			errs = append(errs, fmt.Errorf("season %v must be positive", p))
		}
	}
	if c.EpisodeDecay >= 1 {
		errs = append(errs, fmt.Errorf("episode_decay %v must be below 1", c.EpisodeDecay))
	}
	if c.RareQuantile >= 1 {
		errs = append(errs, fmt.Errorf("rare_quantile %v must be below 1", c.RareQuantile))
	}
	if c.WarmUp < 3 {
		errs = append(errs, fmt.Errorf("warm_up %d must be at least 3", c.WarmUp))
	}
	if c.MaxBins > 1<<16 {
		errs = append(errs, fmt.Errorf("max_bins %d must be at most 65536", c.MaxBins))
	}
	return errors.Join(errs...)
}
