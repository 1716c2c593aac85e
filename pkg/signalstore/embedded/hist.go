package embedded

import (
	"encoding/binary"
	"math"
)

// latencyHist is a log-bucketed histogram of durations in nanoseconds, the
// value type of the rollup tables. Bucket i holds durations in
// (gamma^(i-1), gamma^i] ns; reporting a bucket's geometric midpoint keeps the
// relative error of any quantile below (gamma-1)/(gamma+1) ≈ 4.8%, which is
// what signalstore.LatencyQuantileRelativeError promises. 400 buckets reach
// ~3 years; longer durations land in the last bucket. Dense in memory (the
// writer holds a few dozen per transaction), sparse on disk.
type latencyHist []uint64

const (
	histGamma   = 1.1
	histBuckets = 400
)

var histLogGamma = math.Log(histGamma)

func newLatencyHist() latencyHist { return make(latencyHist, histBuckets) }

func histBucket(d int64) int {
	if d <= 1 {
		return 0
	}
	i := int(math.Ceil(math.Log(float64(d)) / histLogGamma))
	return min(max(i, 0), histBuckets-1)
}

func histBucketValue(i int) float64 {
	if i == 0 {
		return 1
	}
	upper := math.Pow(histGamma, float64(i))
	return 2 * upper / (histGamma + 1)
}

func (h latencyHist) add(d int64) { h[histBucket(d)]++ }

// quantile returns the q-quantile (0..1) in nanoseconds, or 0 when empty.
func (h latencyHist) quantile(q float64) int64 {
	var total uint64
	for _, c := range h {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := max(uint64(math.Ceil(q*float64(total))), 1)
	var seen uint64
	last := 0
	for i, c := range h {
		if c == 0 {
			continue
		}
		last = i
		seen += c
		if seen >= rank {
			return int64(math.Round(histBucketValue(i)))
		}
	}
	return int64(math.Round(histBucketValue(last)))
}

// encode writes (bucket, count) uvarint pairs for the non-empty buckets.
func (h latencyHist) encode() []byte {
	out := make([]byte, 0, 64)
	for i, c := range h {
		if c != 0 {
			out = binary.AppendUvarint(out, uint64(i))
			out = binary.AppendUvarint(out, c)
		}
	}
	return out
}

// decodeLatencyHist adds an encoded histogram into h. It is lenient: a
// malformed tail is ignored rather than failing a whole read.
func decodeLatencyHist(b []byte, into latencyHist) {
	for len(b) > 0 {
		i, n := binary.Uvarint(b)
		if n <= 0 {
			return
		}
		b = b[n:]
		c, m := binary.Uvarint(b)
		if m <= 0 {
			return
		}
		b = b[m:]
		if i < histBuckets {
			into[i] += c
		}
	}
}
