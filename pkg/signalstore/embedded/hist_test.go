package embedded

import (
	"math"
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

func signalstoreTimeRange() signalstore.TimeRange { return signalstore.TimeRange{} }

func TestLatencyHistQuantileError(t *testing.T) {
	for _, d := range []time.Duration{time.Microsecond, 137 * time.Microsecond, 3 * time.Millisecond, 2 * time.Second, 5 * time.Minute} {
		h := newLatencyHist()
		h.add(int64(d))
		got := h.quantile(0.5)
		if rel := math.Abs(float64(got)-float64(d)) / float64(d); rel > signalstore.LatencyQuantileRelativeError {
			t.Errorf("%v reads back as %v (%.1f%% off)", d, time.Duration(got), 100*rel)
		}
	}
	h := newLatencyHist()
	for i := 1; i <= 1000; i++ {
		h.add(int64(i) * int64(time.Millisecond))
	}
	merged := newLatencyHist()
	decodeLatencyHist(h.encode(), merged)
	decodeLatencyHist(h.encode(), merged)
	for _, q := range []float64{0.5, 0.95, 0.99} {
		want := q * 1000 * float64(time.Millisecond)
		if got := float64(merged.quantile(q)); math.Abs(got-want)/want > signalstore.LatencyQuantileRelativeError {
			t.Errorf("p%v = %v, want %v", q*100, time.Duration(got), time.Duration(want))
		}
	}
	if newLatencyHist().quantile(0.5) != 0 {
		t.Error("empty histogram has a quantile")
	}
	decodeLatencyHist([]byte{0xff, 0xff, 0xff}, merged) // malformed input is ignored, not a panic
}
