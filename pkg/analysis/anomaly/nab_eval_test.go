package anomaly

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNABApproximateScore runs the detector over the Numenta Anomaly
// Benchmark corpus (https://github.com/numenta/NAB) and prints an approximate
// standard-profile score. Point NAB_DIR at a NAB checkout (with data/ and
// labels/combined_windows.json); the data is not part of this repository, and
// the test skips when NAB_DIR is unset.
//
// The scorer follows NAB's sweeper: 15% probation, scaled-sigmoid rewards
// for the first detection in a window, weighted penalties for false
// positives, -1 per missed window, one threshold optimised over the corpus,
// normalised between the null detector (0) and a perfect one (100). It is an
// independent re-implementation, so its figure is approximate.
//
//	NAB_DIR=/path/to/NAB go test -run TestNABApproximateScore -v ./anomaly
func TestNABApproximateScore(t *testing.T) {
	dir := os.Getenv("NAB_DIR")
	if dir == "" {
		t.Skip("NAB_DIR not set")
	}
	windows := readNABWindows(t, dir)
	names := make([]string, 0, len(windows))
	for name := range windows {
		names = append(names, name)
	}
	sort.Strings(names)
	type run struct {
		points []Point
		scores []Score
		limits [][2]time.Time
	}
	runs := make([]run, len(names))
	for i, name := range names {
		points := readNABSeries(t, filepath.Join(dir, "data", name))
		scores, err := Series(nabConfig(), points)
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = run{points, scores, parseWindows(t, windows[name])}
	}
	for _, prof := range nabProfiles {
		var corpus []nabPoint
		totalWindows := 0
		for i, r := range runs {
			swept := sweepFile(r.points, r.scores, r.limits, i, prof)
			totalWindows += countWindows(swept)
			corpus = append(corpus, swept...)
		}
		best, threshold := optimiseThreshold(corpus, totalWindows, prof)
		null := -prof.fnWeight * float64(totalWindows)
		perfect := prof.tpWeight * float64(totalWindows)
		if os.Getenv("NAB_VERBOSE") != "" && prof.name == "standard" {
			reportPerFile(t, corpus, threshold, names)
		}
		t.Logf("approximate NAB %s score %.1f at threshold %.4f (%d files, %d windows)",
			prof.name, 100*(best-null)/(perfect-null), threshold, len(names), totalWindows)
	}
}

// TestWriteNABResults writes the detector's scores over the NAB corpus in
// the layout of NAB's results directory, for NAB's own scorer to optimise,
// score and normalise:
//
//	NAB_DIR=/path/to/NAB NAB_DETECTOR=ollystack go test -run TestWriteNABResults ./anomaly
//	cd /path/to/NAB && python3 run.py -d ollystack --optimize --score --normalize --skipConfirmation
//
// Each data/<category>/<file>.csv becomes
// results/<detector>/<category>/<detector>_<file>.csv with the columns
// timestamp, value, anomaly_score and label (1 inside a labelled window;
// informational, NAB's scorer reads the labels itself). The detector sees
// the values only, one point at a time.
func TestWriteNABResults(t *testing.T) {
	dir, detector := os.Getenv("NAB_DIR"), os.Getenv("NAB_DETECTOR")
	if dir == "" || detector == "" {
		t.Skip("NAB_DIR and NAB_DETECTOR not set")
	}
	if strings.ContainsAny(detector, "_/") {
		t.Fatalf("detector name %q: NAB splits result file names on '_'", detector)
	}
	windows := readNABWindows(t, dir)
	for name, raw := range windows {
		points := readNABSeries(t, filepath.Join(dir, "data", name))
		scores, err := Series(nabConfig(), points)
		if err != nil {
			t.Fatal(err)
		}
		limits := parseWindows(t, raw)
		category, file := filepath.Split(name)
		out := filepath.Join(dir, "results", detector, category, detector+"_"+file)
		if err := writeNABResult(out, points, scores, limits); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wrote %d result files under %s", len(windows), filepath.Join(dir, "results", detector))
}

func writeNABResult(path string, points []Point, scores []Score, limits [][2]time.Time) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create results folder: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %q: %w", path, err)
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"timestamp", "value", "anomaly_score", "label"})
	for i, p := range points {
		label := "0"
		for _, l := range limits {
			if !p.Time.Before(l[0]) && !p.Time.After(l[1]) {
				label = "1"
			}
		}
		_ = w.Write([]string{
			p.Time.Format(nabTimeLayout),
			strconv.FormatFloat(p.Value, 'g', -1, 64),
			strconv.FormatFloat(scores[i].Value, 'g', -1, 64),
			label,
		})
	}
	w.Flush()
	if err := errors.Join(w.Error(), f.Close()); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	return nil
}

func readNABWindows(t *testing.T, dir string) map[string][][2]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "labels", "combined_windows.json"))
	if err != nil {
		t.Fatal(err)
	}
	var windows map[string][][2]string
	if err := json.Unmarshal(raw, &windows); err != nil {
		t.Fatal(err)
	}
	return windows
}

const nabTimeLayout = "2006-01-02 15:04:05"

// nabConfig is the configuration under evaluation; NAB_SEASONLESS=1 turns
// seasonality off for comparison.
func nabConfig() Config {
	cfg := DefaultConfig()
	if os.Getenv("NAB_SEASONLESS") != "" {
		cfg.Seasons = NoSeasons
	}
	return cfg
}

type nabPoint struct {
	score  float64
	window int // -1 outside windows; otherwise a corpus-wide window id
	file   int
	weight float64
}

// nabProfile is one of NAB's application profiles (config/profiles.json).
type nabProfile struct {
	name                         string
	tpWeight, fpWeight, fnWeight float64
}

var nabProfiles = []nabProfile{
	{"standard", 1, 0.11, 1},
	{"reward_low_FP_rate", 1, 0.22, 1},
	{"reward_low_FN_rate", 1, 0.11, 2},
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func scaledSigmoid(pos float64) float64 {
	if pos > 3 {
		return -1
	}
	return 2*sigmoid(-5*pos) - 1
}

// sweepFile gives each scorable point its NAB weight: inside a window the
// reward for detecting there, outside it the (negative) cost of a false alarm.
func sweepFile(points []Point, scores []Score, limits [][2]time.Time, fileIndex int, prof nabProfile) []nabPoint {
	probation := int(math.Min(math.Floor(0.15*float64(len(points))), 0.15*5000))
	maxTP := scaledSigmoid(-1)
	index := func(ts time.Time) int {
		return sort.Search(len(points), func(i int) bool { return !points[i].Time.Before(ts) })
	}
	var out []nabPoint
	w, prevRight, prevWidth := 0, -1, 0.0
	for i := range points {
		window, weight := -1, 0.0
		for w < len(limits) && index(limits[w][1]) < i {
			prevRight = index(limits[w][1])
			prevWidth = float64(prevRight - index(limits[w][0]) + 1)
			w++
		}
		if w < len(limits) && i >= index(limits[w][0]) {
			left, right := index(limits[w][0]), index(limits[w][1])
			width := float64(right - left + 1)
			weight = scaledSigmoid(-float64(right-i+1)/width) * prof.tpWeight / maxTP
			window = fileIndex*1000 + w
		} else if prevRight < 0 {
			weight = -prof.fpWeight
		} else {
			weight = scaledSigmoid(float64(i-prevRight)/(prevWidth-1)) * prof.fpWeight
		}
		if i < probation {
			continue
		}
		out = append(out, nabPoint{score: scores[i].Value, window: window, weight: weight, file: fileIndex})
	}
	return out
}

// optimiseThreshold sweeps every distinct score as a threshold, as NAB does,
// and returns the best raw score.
func optimiseThreshold(points []nabPoint, windows int, prof nabProfile) (best, threshold float64) {
	sort.SliceStable(points, func(i, j int) bool { return points[i].score > points[j].score })
	windowBest := map[int]float64{}
	fp := 0.0
	current := func() float64 {
		s := fp - prof.fnWeight*float64(windows-len(windowBest))
		for _, v := range windowBest {
			s += v
		}
		return s
	}
	best, threshold = current(), 1.1
	for i, p := range points {
		if p.window < 0 {
			fp += p.weight
		} else if v, ok := windowBest[p.window]; !ok {
			windowBest[p.window] = p.weight
		} else {
			windowBest[p.window] = math.Max(v, p.weight)
		}
		if i+1 < len(points) && points[i+1].score == p.score {
			continue
		}
		if s := current(); s > best {
			best, threshold = s, p.score
		}
	}
	return best, threshold
}

func readNABSeries(t *testing.T, file string) []Point {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	points := make([]Point, 0, len(rows))
	for _, row := range rows[1:] {
		ts, err := time.Parse(nabTimeLayout, row[0])
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		v, err := strconv.ParseFloat(row[1], 64)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		points = append(points, Point{Time: ts, Value: v})
	}
	return points
}

func parseWindows(t *testing.T, raw [][2]string) [][2]time.Time {
	t.Helper()
	out := make([][2]time.Time, len(raw))
	for i, w := range raw {
		for j := range 2 {
			ts, err := time.Parse(nabTimeLayout, strings.TrimSuffix(w[j], ".000000"))
			if err != nil {
				t.Fatal(err)
			}
			out[i][j] = ts
		}
	}
	return out
}

// countWindows counts the windows with scorable points; NAB ignores windows
// that fall inside the probationary period.
func countWindows(points []nabPoint) int {
	seen := map[int]bool{}
	for _, p := range points {
		if p.window >= 0 {
			seen[p.window] = true
		}
	}
	return len(seen)
}

// reportPerFile logs, per file, the windows detected and the false alarms at
// the chosen threshold, to see where a change gains or loses.
func reportPerFile(t *testing.T, points []nabPoint, threshold float64, names []string) {
	type tally struct {
		fp, fpCost float64
		windows    map[int]float64
	}
	per := map[int]*tally{}
	for _, p := range points {
		f := p.file
		if per[f] == nil {
			per[f] = &tally{windows: map[int]float64{}}
		}
		if p.window >= 0 {
			if _, ok := per[f].windows[p.window]; !ok {
				per[f].windows[p.window] = -1
			}
		}
		if p.score < threshold {
			continue
		}
		if p.window < 0 {
			per[f].fp++
			per[f].fpCost += p.weight
		} else {
			per[f].windows[p.window] = math.Max(per[f].windows[p.window], p.weight)
		}
	}
	for f, name := range names {
		ta := per[f]
		if ta == nil {
			continue
		}
		sum := ta.fpCost
		hit := 0
		for _, v := range ta.windows {
			sum += v
			if v > -1 {
				hit++
			}
		}
		t.Logf("%-58s windows %d/%d fp %3.0f (%.2f) net %+.2f", name, hit, len(ta.windows), ta.fp, ta.fpCost, sum)
	}
}
