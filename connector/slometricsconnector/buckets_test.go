package slometricsconnector

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRingWindowAndRecycling(t *testing.T) {
	r := newRing(time.Minute, 10*time.Minute)
	assert.Len(t, r.buckets, 11, "the window plus the slot in progress")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for m := range 30 {
		r.add(r.slotOf(start.Add(time.Duration(m)*time.Minute)), 1, uint64(m%2))
	}
	now := start.Add(29 * time.Minute)
	good, bad := r.window(now, 5*time.Minute)
	assert.Equal(t, [2]uint64{5, 3}, [2]uint64{good, bad}, "minutes 25..29, three odd")
	good, _ = r.window(now, time.Hour)
	assert.Equal(t, uint64(11), good, "longer than the ring: only what it holds")
	good, _ = r.window(now.Add(time.Hour), 5*time.Minute)
	assert.Zero(t, good, "stale laps do not count")

	r.restore(bucket{slot: r.slotOf(start), good: 100, bad: 100})
	good, _ = r.window(now, 10*time.Minute)
	assert.Equal(t, uint64(10), good, "a saved bucket older than the ring is dropped")
}

// TestRingAfterClockSetBack: events counted while the clock ran a year ahead
// must not keep the present's events out once it is set back.
func TestRingAfterClockSetBack(t *testing.T) {
	r := newRing(time.Minute, 10*time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ahead := now.AddDate(1, 0, 0)
	for m := range 11 {
		r.add(r.slotOf(ahead.Add(time.Duration(m)*time.Minute)), 1, 0)
	}
	for m := range 5 {
		r.add(r.slotOf(now.Add(time.Duration(m)*time.Minute)), 0, 1)
	}
	good, bad := r.window(now.Add(4*time.Minute), 5*time.Minute)
	assert.Equal(t, [2]uint64{0, 5}, [2]uint64{good, bad})
}

func TestRingSlotBefore1970(t *testing.T) {
	r := newRing(time.Hour, 24*time.Hour)
	assert.Equal(t, int64(-1), r.slotOf(time.Unix(-1, 0)))
	r.add(r.slotOf(time.Unix(-1, 0)), 1, 0)
	good, _ := r.window(time.Unix(-1, 0), time.Hour)
	assert.Equal(t, uint64(1), good)
}
