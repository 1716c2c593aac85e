package anomaly

import (
	"encoding/csv"
	"encoding/json"
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
	raw, err := os.ReadFile(filepath.Join(dir, "labels", "combined_windows.json"))
	if err != nil {
		t.Fatal(err)
	}
	var windows map[string][][2]string
	if err := json.Unmarshal(raw, &windows); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(windows))
	for name := range windows {
		names = append(names, name)
	}
	sort.Strings(names)
	var corpus []nabPoint
	totalWindows := 0
	for fileIndex, name := range names {
		points := readNABSeries(t, filepath.Join(dir, "data", name))
		scores, err := Series(nabConfig(), points)
		if err != nil {
			t.Fatal(err)
		}
		swept := sweepFile(points, scores, parseWindows(t, windows[name]), fileIndex)
		totalWindows += countWindows(swept)
		corpus = append(corpus, swept...)
	}
	best, threshold := optimiseThreshold(corpus, totalWindows)
	null := -float64(totalWindows)
	perfect := float64(totalWindows)
	if os.Getenv("NAB_VERBOSE") != "" {
		reportPerFile(t, corpus, threshold, names)
	}
	t.Logf("approximate NAB standard score %.1f at threshold %.4f (%d files, %d windows)",
		100*(best-null)/(perfect-null), threshold, len(names), totalWindows)
}

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

const (
	tpWeight = 1.0
	fpWeight = 0.11
	fnWeight = 1.0
)

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func scaledSigmoid(pos float64) float64 {
	if pos > 3 {
		return -1
	}
	return 2*sigmoid(-5*pos) - 1
}

// sweepFile gives each scorable point its NAB weight: inside a window the
// reward for detecting there, outside it the (negative) cost of a false alarm.
func sweepFile(points []Point, scores []Score, limits [][2]time.Time, fileIndex int) []nabPoint {
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
			weight = scaledSigmoid(-float64(right-i+1)/width) * tpWeight / maxTP
			window = fileIndex*1000 + w
		} else if prevRight < 0 {
			weight = -fpWeight
		} else {
			weight = scaledSigmoid(float64(i-prevRight)/(prevWidth-1)) * fpWeight
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
func optimiseThreshold(points []nabPoint, windows int) (best, threshold float64) {
	sort.SliceStable(points, func(i, j int) bool { return points[i].score > points[j].score })
	windowBest := map[int]float64{}
	fp := 0.0
	current := func() float64 {
		s := fp - fnWeight*float64(windows-len(windowBest))
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
		ts, err := time.Parse("2006-01-02 15:04:05", row[0])
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
			ts, err := time.Parse("2006-01-02 15:04:05", strings.TrimSuffix(w[j], ".000000"))
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
