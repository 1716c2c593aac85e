package anomaly

import (
	"slices"
	"time"
)

// Point is one observation of a series.
type Point struct {
	Time  time.Time
	Value float64
}

// Series scores a whole series in order with a fresh Detector.
func Series(cfg Config, points []Point) ([]Score, error) {
	d, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return d.UpdateBatch(points), nil
}

// UpdateBatch scores the points in order, as repeated calls to Update would.
func (d *Detector) UpdateBatch(points []Point) []Score {
	out := make([]Score, len(points))
	for i, pt := range points {
		out[i] = d.Update(pt.Time, pt.Value)
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// medianStep returns the typical sampling interval, 0 when unknown.
func medianStep(times []time.Time) time.Duration {
	steps := make([]float64, 0, len(times))
	for i := 1; i < len(times); i++ {
		if dt := times[i].Sub(times[i-1]); dt > 0 {
			steps = append(steps, float64(dt))
		}
	}
	return time.Duration(median(steps))
}
