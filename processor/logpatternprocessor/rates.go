package logpatternprocessor // import "github.com/ollystack/ollystack/processor/logpatternprocessor"

import (
	"time"
)

// maxDecaySteps bounds the work of catching up on idle windows: after this
// many empty windows an EWMA baseline is as good as zero anyway.
const maxDecaySteps = 64

type templateKey struct {
	service string
	id      string
}

// templateRate counts one template's records per window and keeps an EWMA
// baseline of the counts of its past complete windows.
type templateRate struct {
	key         templateKey
	windowStart time.Time
	count       int
	baseline    float64
	// windows counts the complete windows folded into the baseline, capped.
	windows int
	// partial is true while the first window, which began with the
	// template's first record rather than at a window boundary, is open.
	partial  bool
	lastJump time.Time
	// announced is set once the template's birth was handled (an event, or
	// none during the warm-up), so that neither a birth of the same id after
	// the miner evicted the template nor a record of it observed before its
	// birth (batches run concurrently) makes a second birth or loses the
	// first.
	announced bool

	prev, next *templateRate
}

// rateTable holds templateRates for at most cfg.MaxTemplates templates,
// dropping the least recently seen one to make room. It is not safe for
// concurrent use.
type rateTable struct {
	cfg        RateJumpConfig
	byKey      map[templateKey]*templateRate
	head, tail *templateRate // most and least recently seen
}

func newRateTable(cfg RateJumpConfig) *rateTable {
	return &rateTable{cfg: cfg, byKey: make(map[templateKey]*templateRate)}
}

// observe counts one record of the template at now, tracking the template if
// it was not yet; jumped is true when this record makes the current window a
// rate jump that the cooldown allows reporting.
func (t *rateTable) observe(key templateKey, now time.Time) (r *templateRate, jumped bool) {
	r, known := t.byKey[key]
	if !known {
		if len(t.byKey) >= t.cfg.MaxTemplates {
			t.remove(t.tail)
		}
		r = &templateRate{key: key, windowStart: now, partial: true}
		t.byKey[key] = r
	} else {
		t.unlink(r)
		r.roll(now, t.cfg)
	}
	t.pushFront(r)
	r.count++
	if r.isJump(t.cfg) && (r.lastJump.IsZero() || now.Sub(r.lastJump) >= t.cfg.Cooldown) {
		r.lastJump = now
		jumped = true
	}
	return r, jumped
}

func (r *templateRate) isJump(cfg RateJumpConfig) bool {
	return r.windows >= cfg.BaselineWindows && r.count >= cfg.MinCount && float64(r.count) > cfg.Factor*r.baseline
}

// roll closes the windows that ended before now, folding their counts into
// the baseline. A clock that goes backwards changes nothing.
func (r *templateRate) roll(now time.Time, cfg RateJumpConfig) {
	elapsed := now.Sub(r.windowStart)
	if elapsed < cfg.Interval {
		return
	}
	ended := int64(elapsed / cfg.Interval)
	r.fold(float64(r.count), cfg)
	for i := int64(1); i < ended && i <= maxDecaySteps; i++ {
		r.fold(0, cfg)
	}
	r.windowStart = r.windowStart.Add(time.Duration(ended) * cfg.Interval)
	r.count = 0
}

func (r *templateRate) fold(count float64, cfg RateJumpConfig) {
	switch {
	case r.partial:
		// A partial window would understate the baseline.
		r.partial = false
		return
	case r.windows == 0:
		r.baseline = count
	default:
		r.baseline = cfg.Smoothing*count + (1-cfg.Smoothing)*r.baseline
	}
	if r.windows < cfg.BaselineWindows {
		r.windows++
	}
}

// perSecond converts a count per window into a rate per second.
func (t *rateTable) perSecond(count float64) float64 {
	return count / t.cfg.Interval.Seconds()
}

func (t *rateTable) len() int { return len(t.byKey) }

func (t *rateTable) remove(r *templateRate) {
	t.unlink(r)
	delete(t.byKey, r.key)
}

func (t *rateTable) pushFront(r *templateRate) {
	r.prev, r.next = nil, t.head
	if t.head != nil {
		t.head.prev = r
	}
	t.head = r
	if t.tail == nil {
		t.tail = r
	}
}

func (t *rateTable) unlink(r *templateRate) {
	if r.prev != nil {
		r.prev.next = r.next
	} else {
		t.head = r.next
	}
	if r.next != nil {
		r.next.prev = r.prev
	} else {
		t.tail = r.prev
	}
	r.prev, r.next = nil, nil
}
