package anomaly

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

const step = 5 * time.Minute

// noisy returns n points around level with Gaussian noise of the given
// standard deviation, every five minutes, from a fixed seed.
func noisy(n int, level, sd float64, seed uint64) []Point {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]Point, n)
	for i := range out {
		out[i] = Point{Time: t0.Add(time.Duration(i) * step), Value: level + sd*rng.NormFloat64()}
	}
	return out
}

func mustNew(t testing.TB, cfg Config) *Detector {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func maxScore(scores []Score) (float64, int) {
	best, at := 0.0, -1
	for i, s := range scores {
		if s.Value > best {
			best, at = s.Value, i
		}
	}
	return best, at
}

func TestWarmUpGivesNoScore(t *testing.T) {
	d := mustNew(t, Config{WarmUp: 10})
	points := noisy(20, 100, 1, 1)
	points[5].Value = 1e6 // a spike during warm-up must not score
	for i, p := range points {
		s := d.Update(p.Time, p.Value)
		if i < 10 && (s.Warm || s.Value != 0) {
			t.Fatalf("point %d during warm-up scored %+v", i, s)
		}
		if i >= 10 && !s.Warm {
			t.Fatalf("point %d after warm-up not warm", i)
		}
	}
}

func TestSpikeAndDip(t *testing.T) {
	points := noisy(1500, 100, 2, 2)
	points[1000].Value = 140
	points[1200].Value = 60
	scores, err := Series(Config{}, points)
	if err != nil {
		t.Fatal(err)
	}
	if s := scores[1000]; s.Value < 0.5 || s.Direction != Up {
		t.Errorf("spike scored %+v, want >= 0.5 and up", s)
	}
	if s := scores[1200]; s.Value < 0.5 || s.Direction != Down {
		t.Errorf("dip scored %+v, want >= 0.5 and down", s)
	}
	for i, s := range scores[300:] {
		if i+300 != 1000 && i+300 != 1200 && s.Value >= 0.5 {
			t.Errorf("ordinary point %d scored %.2f", i+300, s.Value)
		}
	}
}

func TestLevelShiftIsReportedThenAdopted(t *testing.T) {
	points := noisy(2000, 100, 2, 3)
	for i := 1000; i < len(points); i++ {
		points[i].Value += 40
	}
	scores, err := Series(Config{}, points)
	if err != nil {
		t.Fatal(err)
	}
	if s := scores[1000]; s.Value < 0.5 || s.Direction != Up {
		t.Errorf("shift start scored %+v, want >= 0.5 and up", s)
	}
	if best, at := maxScore(scores[1100:]); best >= 0.5 {
		t.Errorf("new level still anomalous at %d: %.2f", at+1100, best)
	}
	if got := scores[len(scores)-1].Expected; math.Abs(got-140) > 5 {
		t.Errorf("baseline %.1f after the shift, want about 140", got)
	}
}

// daily returns ten days of a daily cycle (amplitude 50 around 100) with
// noise; a detector without a season would flag its peaks and troughs.
func daily(days int, seed uint64) []Point {
	points := noisy(days*288, 0, 2, seed)
	for i := range points {
		phase := 2 * math.Pi * float64(i%288) / 288
		points[i].Value += 100 + 50*math.Sin(phase)
	}
	return points
}

func TestDailySeasonalityIsLearntAndNotFlagged(t *testing.T) {
	points := daily(10, 4)
	scores, err := Series(Config{}, points)
	if err != nil {
		t.Fatal(err)
	}
	learnt := 4 * 288
	if best, at := maxScore(scores[learnt:]); best >= 0.5 {
		t.Errorf("seasonal point %d scored %.2f: %+v", at+learnt, best, scores[at+learnt])
	}
	if got := scores[len(scores)-1].Season; got != Daily {
		t.Errorf("season in use %v, want %v", got, Daily)
	}
}

func TestSeasonalAnomalyIsFound(t *testing.T) {
	points := daily(10, 5)
	// At the daily trough (phase 3/4), a peak-level value is anomalous even
	// though the series reaches it every day.
	at := 8*288 + 216
	points[at].Value = 150
	scores, err := Series(Config{}, points)
	if err != nil {
		t.Fatal(err)
	}
	if s := scores[at]; s.Value < 0.5 || s.Direction != Up {
		t.Errorf("out-of-phase value scored %+v, want >= 0.5 and up", s)
	}
}

func TestNoSeasonsConfig(t *testing.T) {
	d := mustNew(t, Config{Seasons: NoSeasons})
	for _, p := range daily(5, 6) {
		if s := d.Update(p.Time, p.Value); s.Season != 0 {
			t.Fatalf("season %v used with NoSeasons", s.Season)
		}
	}
}

func TestBadValuesAreIgnored(t *testing.T) {
	d := mustNew(t, Config{WarmUp: 5})
	for i, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -1e300} {
		if s := d.Update(t0.Add(time.Duration(i)*step), v); s != (Score{}) {
			t.Errorf("value %v scored %+v", v, s)
		}
	}
	for _, p := range noisy(50, 10, 1, 7) {
		if s := d.Update(p.Time, p.Value); math.IsNaN(s.Value) || s.Value < 0 || s.Value > 1 {
			t.Fatalf("score %v out of [0,1]", s.Value)
		}
	}
	if _, err := d.Snapshot(); err != nil {
		t.Fatalf("snapshot after bad values: %v", err)
	}
}

func TestFlatSeriesThenStep(t *testing.T) {
	points := noisy(500, 0, 0, 8)
	for i := range points {
		points[i].Value = 42
	}
	points[400].Value = 43
	scores, err := Series(Config{}, points)
	if err != nil {
		t.Fatal(err)
	}
	if best, at := maxScore(scores[:400]); best > 0 {
		t.Errorf("flat point %d scored %.2f", at, best)
	}
	if s := scores[400]; s.Value < 0.5 {
		t.Errorf("step on a flat series scored %+v", s)
	}
}

func TestConfigValidate(t *testing.T) {
	for name, cfg := range map[string]Config{
		"level rate":    {LevelRate: 2},
		"season":        {Seasons: []time.Duration{-time.Hour}},
		"warm up":       {WarmUp: 2},
		"rare quantile": {RareQuantile: 1},
		"episode decay": {EpisodeDecay: 1.5},
		"too many bins": {MaxBins: 1 << 20},
		"spread rate":   {SpreadRate: 1.5},
		"season rate":   {SeasonRate: 3},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: no error for %+v", name, cfg)
		}
	}
}

func TestDirectionString(t *testing.T) {
	for d, want := range map[Direction]string{Up: "up", Down: "down", None: "none"} {
		if d.String() != want {
			t.Errorf("%d.String() = %q", d, d.String())
		}
	}
}

func TestWeeklySeasonalityIsLearnt(t *testing.T) {
	// Hourly points over six weeks: a daily cycle, and weekends at 40% of
	// weekdays. Only the weekly model explains both.
	points := noisy(6*7*24, 0, 1, 14)
	for i := range points {
		ts := t0.Add(time.Duration(i) * time.Hour)
		points[i].Time = ts
		v := 100 + 30*math.Sin(2*math.Pi*float64(ts.Hour())/24)
		if wd := ts.Weekday(); wd == time.Saturday || wd == time.Sunday {
			v *= 0.4
		}
		points[i].Value += v
	}
	scores, err := Series(Config{}, points)
	if err != nil {
		t.Fatal(err)
	}
	if got := scores[len(scores)-1].Season; got != Weekly {
		t.Fatalf("season in use %v, want %v", got, Weekly)
	}
	learnt := 4 * 7 * 24
	if best, at := maxScore(scores[learnt:]); best >= 0.5 {
		t.Errorf("weekly pattern flagged at %d (%v): %+v", at+learnt, points[at+learnt].Time, scores[at+learnt])
	}
}

// TestSquareWaveSeasonSurvivesFirstDay: a series that is low at night and
// high by day looks like a level shift to the plain model on its first day.
// The daily model must still learn the swing, then report a day on which the
// swing is missing (the series stays flat in between).
func TestSquareWaveSeasonSurvivesFirstDay(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 1))
	const perDay = int(24 * time.Hour / step)
	points := make([]Point, 12*perDay)
	for i := range points {
		at := t0.Add(time.Duration(i) * step)
		v := -20.0
		if h := at.Hour(); h >= 9 && h < 18 {
			v = 75
		}
		if i/perDay == 10 {
			v = 40 // the flat day
		}
		points[i] = Point{Time: at, Value: v + 2*rng.NormFloat64()}
	}
	scores, err := Series(Config{}, points)
	if err != nil {
		t.Fatal(err)
	}
	if best, at := maxScore(scores[3*perDay : 10*perDay]); best > 0.3 {
		t.Errorf("ordinary days 3-9 scored %.2f at point %d", best, 3*perDay+at)
	}
	if best, _ := maxScore(scores[10*perDay : 10*perDay+12]); best < 0.5 {
		t.Errorf("first hour of the flat day scored %.2f, want at least 0.5", best)
	}
}
