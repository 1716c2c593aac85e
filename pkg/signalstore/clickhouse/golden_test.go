package clickhouse

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// Golden SQL: each builder's statement is compared with
// testdata/golden/<name>.sql, which shows the SQL text followed by the
// bound parameters. Run `go test -run Golden -update` after an intended
// change and review the diff: no server runs here, so these files are what
// a reviewer checks the SQL against.
var update = flag.Bool("update", false, "rewrite the golden SQL files")

func renderStatement(st statement) string {
	var sb strings.Builder
	sb.WriteString(st.sql)
	sb.WriteString("\n")
	for i, a := range st.args {
		fmt.Fprintf(&sb, "-- arg %d: %s\n", i+1, formatArg(a))
	}
	return sb.String()
}

func formatArg(a any) string {
	switch v := a.(type) {
	case ch.GroupSet:
		return fmt.Sprintf("GroupSet %q", v.Value)
	default:
		return fmt.Sprintf("%T %#v", a, a)
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".sql")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file %s:\n--- got ---\n%s\n--- want ---\n%s", name, path, got, want)
	}
}

// checkPlaceholders asserts the statement has exactly one '?' per argument,
// so no value can have been spliced into the text instead of bound.
func checkPlaceholders(t *testing.T, st statement) {
	t.Helper()
	if n := strings.Count(st.sql, "?"); n != len(st.args) {
		t.Errorf("%d placeholders for %d arguments in:\n%s", n, len(st.args), st.sql)
	}
}
