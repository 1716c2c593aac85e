package logpattern

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestLoghubGroupingAccuracy measures grouping accuracy on the public Loghub
// 2k samples (https://github.com/logpai/loghub). Point LOGHUB_DIR at a folder
// holding *_2k.log_structured.csv files (searched recursively); the data is
// not part of this repository, and the test skips when LOGHUB_DIR is unset.
//
//	LOGHUB_DIR=/path/to/loghub go test -run TestLoghubGroupingAccuracy -v ./logpattern
func TestLoghubGroupingAccuracy(t *testing.T) {
	dir := os.Getenv("LOGHUB_DIR")
	if dir == "" {
		t.Skip("LOGHUB_DIR not set")
	}
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, "_2k.log_structured.csv") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no *_2k.log_structured.csv under %s", dir)
	}
	sort.Strings(files)
	var sum float64
	for _, file := range files {
		contents, truth := readStructured(t, file)
		m, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		predicted := make([]string, len(contents))
		for i, line := range contents {
			predicted[i] = m.Add(line).ID
		}
		acc := groupingAccuracy(predicted, truth)
		sum += acc
		name := strings.TrimSuffix(filepath.Base(file), "_2k.log_structured.csv")
		t.Logf("%-12s %.3f  (%d template ids, %d in the ground truth)", name, acc, distinct(predicted), distinct(truth))
	}
	t.Logf("%-12s %.3f", "average", sum/float64(len(files)))
}

func readStructured(t *testing.T, file string) (contents, eventIDs []string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("%s: %v", file, err)
	}
	contentCol, eventCol := -1, -1
	for i, h := range rows[0] {
		switch h {
		case "Content":
			contentCol = i
		case "EventId":
			eventCol = i
		}
	}
	if contentCol < 0 || eventCol < 0 {
		t.Fatalf("%s: no Content or EventId column", file)
	}
	for _, row := range rows[1:] {
		contents = append(contents, row[contentCol])
		eventIDs = append(eventIDs, row[eventCol])
	}
	return contents, eventIDs
}

// groupingAccuracy is the metric of the Loghub benchmark: a message is parsed
// correctly when the set of messages in its predicted group equals the set in
// its ground-truth group.
func groupingAccuracy(predicted, truth []string) float64 {
	groups := map[string][]int{}
	for i, p := range predicted {
		groups[p] = append(groups[p], i)
	}
	truthSize := map[string]int{}
	for _, e := range truth {
		truthSize[e]++
	}
	correct := 0
	for _, members := range groups {
		e := truth[members[0]]
		same := true
		for _, i := range members {
			if truth[i] != e {
				same = false
				break
			}
		}
		if same && truthSize[e] == len(members) {
			correct += len(members)
		}
	}
	return float64(correct) / float64(len(predicted))
}

func distinct(xs []string) int {
	seen := map[string]bool{}
	for _, x := range xs {
		seen[x] = true
	}
	return len(seen)
}
