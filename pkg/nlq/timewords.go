package nlq

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Readers of numbers, durations and clock times. Each reads at token index
// i and returns the value and the number of tokens used (0: no match).

var numberWords = map[string]int{
	"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
	"eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
	"thirty": 30, "fifty": 50, "hundred": 100, "couple": 2,
}

// maxNumber bounds numbers read from questions (limits, counts of units),
// far above any limit, so arithmetic on them cannot overflow.
const maxNumber = 1_000_000

func (p *parser) readInt(i int) (int, int) {
	if i >= len(p.toks) || p.toks[i].quoted {
		return 0, 0
	}
	w := p.toks[i].low
	if n, ok := numberWords[w]; ok {
		if w == "couple" && p.is(i+1, "of") {
			return n, 2
		}
		return n, 1
	}
	n, err := strconv.Atoi(w)
	if err != nil || n <= 0 || n > maxNumber {
		return 0, 0
	}
	return n, 1
}

var unitWords = map[string]time.Duration{
	"ns": time.Nanosecond, "nanosecond": time.Nanosecond, "nanoseconds": time.Nanosecond,
	"us": time.Microsecond, "µs": time.Microsecond, "microsecond": time.Microsecond, "microseconds": time.Microsecond,
	"ms": time.Millisecond, "msec": time.Millisecond, "msecs": time.Millisecond, "millis": time.Millisecond,
	"millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "wk": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
}

// maxQuestionDuration bounds durations in questions (about ten years), so
// multiplication cannot overflow time.Duration.
const maxQuestionDuration = 10 * 365 * 24 * time.Hour

// parseAmount reads "2s", "1.5", "500ms", "1h30m": a number with an optional
// unit suffix. unit reports whether a suffix was present.
func parseAmount(w string) (value float64, unit time.Duration, ok bool) {
	if d, err := time.ParseDuration(w); err == nil && strings.IndexFunc(w, isLetter) >= 0 {
		return float64(d), 1, d >= 0 && d <= maxQuestionDuration
	}
	end := 0
	for end < len(w) && (w[end] >= '0' && w[end] <= '9' || w[end] == '.') {
		end++
	}
	if end == 0 {
		return 0, 0, false
	}
	v, err := strconv.ParseFloat(w[:end], 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, 0, false
	}
	if end == len(w) {
		return v, 0, true
	}
	u, known := unitWords[w[end:]]
	if !known {
		return 0, 0, false
	}
	return v, u, true
}

func isLetter(r rune) bool { return r >= 'a' && r <= 'z' }

// readDuration reads a duration: "2s", "500 ms", "1.5 seconds", "a minute",
// "2m".
func (p *parser) readDuration(i int) (time.Duration, int) {
	if i >= len(p.toks) || p.toks[i].quoted {
		return 0, 0
	}
	w := p.toks[i].low
	if w == "a" || w == "an" || w == "one" {
		if u, ok := p.unitAt(i + 1); ok {
			return u, 2
		}
		return 0, 0
	}
	v, unit, ok := parseAmount(w)
	if !ok {
		if n, ok := numberWords[w]; ok {
			v, unit = float64(n), 0
		} else {
			return 0, 0
		}
	}
	n := 1
	if unit == 0 {
		u, ok := p.unitAt(i + 1)
		if !ok {
			return 0, 0
		}
		unit, n = u, 2
	}
	d := v * float64(unit)
	if d > float64(maxQuestionDuration) {
		return 0, 0
	}
	return time.Duration(d), n
}

func (p *parser) unitAt(i int) (time.Duration, bool) {
	if i >= len(p.toks) || p.toks[i].quoted {
		return 0, false
	}
	u, ok := unitWords[p.toks[i].low]
	return u, ok
}

// readWindow reads the length after "last"/"past": "hour", "15 minutes",
// "2 days", "24h", "few minutes", "couple of hours".
func (p *parser) readWindow(i int) (time.Duration, int) {
	if u, ok := p.unitAt(i); ok && len(p.toks[i].low) > 2 {
		return u, 1 // "last hour", "past week"
	}
	if p.is(i, "few") {
		if u, ok := p.unitAt(i + 1); ok {
			return 3 * u, 2
		}
	}
	if n, used := p.readInt(i); used > 0 {
		if u, ok := p.unitAt(i + used); ok {
			d := time.Duration(n) * u
			if d <= 0 || d > maxQuestionDuration || time.Duration(n) > maxQuestionDuration/u {
				return 0, 0
			}
			return d, used + 1
		}
	}
	if d, used := p.readDuration(i); used > 0 && d >= time.Second {
		return d, used
	}
	return 0, 0
}

// clock is a time of day.
type clock struct{ hour, minute int }

// readClock reads "9am", "9 am", "9:30", "09:30", "9:30pm", "14:00", "noon",
// "midnight", and a bare hour "9" when allowBare.
func (p *parser) readClock(i int, allowBare bool) (clock, int) {
	if i >= len(p.toks) || p.toks[i].quoted {
		return clock{}, 0
	}
	w := p.toks[i].low
	switch w {
	case "noon", "midday":
		return clock{12, 0}, 1
	case "midnight":
		return clock{0, 0}, 1
	}
	suffix := ""
	for _, s := range []string{"am", "pm", "a.m", "p.m"} {
		if rest, ok := strings.CutSuffix(w, s); ok && rest != "" {
			suffix, w = s[:1], rest
			break
		}
	}
	n := 1
	if suffix == "" && (p.is(i+1, "am") || p.is(i+1, "a.m")) {
		suffix, n = "a", 2
	} else if suffix == "" && (p.is(i+1, "pm") || p.is(i+1, "p.m")) {
		suffix, n = "p", 2
	}
	hh, mm, hasColon := strings.Cut(w, ":")
	if !hasColon {
		mm = "0"
		if suffix == "" && !allowBare {
			return clock{}, 0
		}
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || len(hh) > 2 || len(mm) > 2 || h < 0 || m < 0 || m > 59 {
		return clock{}, 0
	}
	switch suffix {
	case "a", "p":
		if h < 1 || h > 12 {
			return clock{}, 0
		}
		h %= 12
		if suffix == "p" {
			h += 12
		}
	default:
		if h > 23 {
			return clock{}, 0
		}
	}
	return clock{h, m}, n
}

// on returns the clock time on the day of now (in now's location), or the
// day before when that is still in the future: "since 9am" asked at 8am
// means yesterday 9am.
func (c clock) on(now time.Time) time.Time {
	t := time.Date(now.Year(), now.Month(), now.Day(), c.hour, c.minute, 0, 0, now.Location())
	if t.After(now) {
		t = t.AddDate(0, 0, -1)
	}
	return t
}

func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}
