package anomaly

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestCalibratorQuantile(t *testing.T) {
	c := newCalibrator()
	if got := c.quantile(0.99); got != 0 {
		t.Fatalf("empty calibrator quantile %v", got)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		c.observe(math.Abs(rng.NormFloat64()), 1-1.0/5000)
	}
	// |N(0,1)| has its 99th percentile at 2.576; bins are a quarter octave.
	if got := c.quantile(0.99); got < 2.3 || got > 2.9 {
		t.Errorf("quantile(0.99) = %.3f, want about 2.58", got)
	}
	if lo, hi := c.quantile(0.5), c.quantile(0.9); !(lo < hi) {
		t.Errorf("quantiles not increasing: %v %v", lo, hi)
	}
}

func TestCalibratorForgets(t *testing.T) {
	c := newCalibrator()
	for range 1000 {
		c.observe(50, 0.99)
	}
	for range 2000 {
		c.observe(1, 0.99)
	}
	if got := c.quantile(0.99); got > 2 {
		t.Errorf("old large deviations not forgotten: quantile %.2f", got)
	}
}
