// Package restoretest holds a check shared by the tests of the analysis
// engines whose state can be restored.
package restoretest // import "github.com/ollystack/ollystack/pkg/analysis/internal/restoretest"

import "testing"

// ReadsDuringRestore calls restore 100 times in one goroutine while the
// caller's calls read 100 times: run with -race, it shows that reading an
// engine's settings is synchronised with Restore replacing them, as the
// engines document themselves safe for concurrent use. read returns an
// error for a value that is neither the old nor the restored one.
func ReadsDuringRestore(t *testing.T, restore, read func() error) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			if err := restore(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 100 {
		if err := read(); err != nil {
			t.Error(err)
			break
		}
	}
	<-done
}
