package anomaly

import "math"

// calibrator learns how large deviations usually get in this series, so that
// a score means the same in a calm series and in a bursty one: a deviation of
// six standard deviations is rare in the first and routine in the second. It
// keeps an exponentially decaying histogram of log-deviations and reports a
// high quantile of it; deviations are judged relative to that quantile.
//
// Decay is lazy: new observations are added with a weight that grows by
// 1/decay per point, and everything is rescaled only when that weight gets
// large, so an observation costs O(1) amortised.
type calibrator struct {
	Bins   []float64 `json:"bins"`
	Total  float64   `json:"total"`
	Weight float64   `json:"weight"`
}

const (
	// calBins bins cover deviations from 2^calMinLog to 2^(calMinLog +
	// calBins/calPerOctave), a quarter octave each.
	calBins      = 64
	calPerOctave = 4
	calMinLog    = -2
)

func newCalibrator() calibrator {
	return calibrator{Bins: make([]float64, calBins)}
}

func calBin(z float64) int {
	if !(z > 0) {
		return 0
	}
	b := int(math.Floor((math.Log2(z) - calMinLog) * calPerOctave))
	return min(max(b, 0), calBins-1)
}

// binUpper is the deviation at the upper edge of bin b.
func binUpper(b int) float64 { return binEdges[b] }

// binEdges holds the upper edges of the bins, computed once.
var binEdges = func() (edges [calBins]float64) {
	for b := range edges {
		edges[b] = math.Exp2(float64(b+1)/calPerOctave + calMinLog)
	}
	return edges
}()

// observe adds a deviation; older ones fade with the given decay per point.
func (c *calibrator) observe(z, decay float64) {
	if len(c.Bins) != calBins {
		*c = newCalibrator()
	}
	if c.Weight <= 0 {
		c.Weight = 1
	}
	c.Bins[calBin(z)] += c.Weight
	c.Total += c.Weight
	c.Weight /= decay
	if c.Weight > 1e100 {
		for i := range c.Bins {
			c.Bins[i] /= c.Weight
		}
		c.Total /= c.Weight
		c.Weight = 1
	}
}

// quantile returns the deviation below which share q of the weighted history
// falls, interpolated inside the bin; 0 without history. It scans from the
// top because the quantiles asked for are high ones, which keeps the scan to
// a few bins.
func (c *calibrator) quantile(q float64) float64 {
	if c.Total <= 0 || len(c.Bins) != calBins {
		return 0
	}
	above := (1 - q) * c.Total // weight that lies above the quantile
	acc := 0.0
	for b := calBins - 1; b >= 0; b-- {
		w := c.Bins[b]
		if acc+w > above && w > 0 {
			lower := 0.0
			if b > 0 {
				lower = binUpper(b - 1)
			}
			return binUpper(b) - (binUpper(b)-lower)*(above-acc)/w
		}
		acc += w
	}
	return 0
}
