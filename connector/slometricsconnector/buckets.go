package slometricsconnector // import "github.com/ollystack/ollystack/connector/slometricsconnector"

import "time"

// bucket counts the good and bad events of one time slot.
type bucket struct {
	// slot is the Unix time divided by the ring's resolution; a bucket whose
	// slot differs from the one asked for holds stale counts of an older lap.
	slot      int64
	good, bad uint64
}

// ring holds per-slot counts over a fixed span of time, so memory is bounded
// by span/resolution and adding an event is O(1) whatever the traffic.
type ring struct {
	resolution int64 // seconds
	buckets    []bucket
}

func newRing(resolution, span time.Duration) *ring {
	res := int64(resolution / time.Second)
	// One extra bucket for the slot in progress.
	n := int64(span/resolution) + 1
	buckets := make([]bucket, n)
	for i := range buckets {
		buckets[i].slot = -1 << 62 // no slot yet; never matches a real one
	}
	return &ring{resolution: res, buckets: buckets}
}

// slotOf is the slot of a time, rounding down also before 1970.
func (r *ring) slotOf(t time.Time) int64 {
	s := t.Unix()
	slot := s / r.resolution
	if s%r.resolution < 0 {
		slot--
	}
	return slot
}

func (r *ring) index(slot int64) int {
	n := int64(len(r.buckets))
	return int(((slot % n) + n) % n)
}

// add counts events of the present slot, recycling the bucket of another
// lap: an older one, or a later one left by a clock that ran ahead and was
// set back, whose counts would otherwise keep the present out of its window.
func (r *ring) add(slot int64, good, bad uint64) {
	b := &r.buckets[r.index(slot)]
	if b.slot != slot {
		*b = bucket{slot: slot}
	}
	b.good += good
	b.bad += bad
}

// restore puts back the counts of a saved bucket, unless the ring holds a
// later slot in its place: a saved bucket may be of any age.
func (r *ring) restore(saved bucket) {
	if r.buckets[r.index(saved.slot)].slot > saved.slot {
		return
	}
	r.add(saved.slot, saved.good, saved.bad)
}

// sum adds the counts of the slots from first to last, both included.
func (r *ring) sum(first, last int64) (good, bad uint64) {
	if n := int64(len(r.buckets)); last-first >= n {
		first = last - n + 1
	}
	for slot := first; slot <= last; slot++ {
		b := &r.buckets[r.index(slot)]
		if b.slot == slot {
			good += b.good
			bad += b.bad
		}
	}
	return good, bad
}

// window sums the slots of the last d up to now, the slot in progress
// included: a window is aligned to the ring's resolution.
func (r *ring) window(now time.Time, d time.Duration) (good, bad uint64) {
	last := r.slotOf(now)
	n := int64(d/time.Second) / r.resolution
	return r.sum(last-n+1, last)
}

// nonEmpty returns the buckets holding counts, for snapshots.
func (r *ring) nonEmpty() []bucket {
	var out []bucket
	for _, b := range r.buckets {
		if b.good > 0 || b.bad > 0 {
			out = append(out, b)
		}
	}
	return out
}
