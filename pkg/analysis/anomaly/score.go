package anomaly

import (
	"math"
	"time"
)

// Direction tells on which side of the expected value a point fell.
type Direction int8

// Directions of a Score.
const (
	None Direction = 0
	Up   Direction = 1
	Down Direction = -1
)

func (d Direction) String() string {
	switch d {
	case Up:
		return "up"
	case Down:
		return "down"
	}
	return "none"
}

// Score is the judgement of one point.
type Score struct {
	// Value is the anomaly score in [0,1]: 0 for deviations this series
	// shows routinely (below its usual extreme, and at least MinDeviation),
	// 0.5 at twice that, approaching 1 beyond.
	Value float64
	// Direction is Up when the point is above the expected value, Down below.
	Direction Direction
	// Expected is the baseline forecast for the point.
	Expected float64
	// Deviation is the distance from Expected in robust standard deviations.
	Deviation float64
	// Warm is false while the detector is still learning its first baseline;
	// Value is then 0.
	Warm bool
	// Season is the period of the model in use, 0 when none.
	Season time.Duration
}

// scoreOf maps a deviation measured in units of the series' usual extreme
// to [0,1]: 0 up to the usual extreme, 0.5 at twice it, 0.8 at three times,
// smoothly and monotonically, keeping resolution for large deviations so
// that thresholds can rank them.
func scoreOf(ratio float64) float64 {
	e := ratio - 1
	if e <= 0 || math.IsNaN(e) {
		return 0
	}
	if math.IsInf(e, 1) {
		return 1
	}
	return e * e / (e*e + 1)
}
