package nlq

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeExamples parses every example phrase of the README's table of
// what the parser understands, so the documentation cannot drift.
func TestReadmeExamples(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := strings.Cut(string(data), "## What the parser understands")
	table, _, _ = strings.Cut(strings.TrimLeft(table, "\n"), "\n\n")
	quoted := regexp.MustCompile(`"([^"]+)"`)
	n := 0
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		for _, m := range quoted.FindAllStringSubmatch(cells[2], -1) {
			example := m[1]
			if strings.Contains(example, "…") {
				continue // an elided id
			}
			n++
			if _, err := Parse(example, testCatalog, testNow); err != nil {
				t.Errorf("README example %q: %v", example, err)
			}
		}
	}
	t.Logf("%d examples", n)
	if n < 60 {
		t.Errorf("found only %d README examples", n)
	}
}
