//go:build unix

// Package cputime reads the CPU time this process has used, for the
// benchmarks of the analysis engines: they report CPU time per operation
// next to wall time because the machines they run on are often shared, and
// wall time then measures the neighbours as much as the code.
package cputime // import "github.com/ollystack/ollystack/pkg/analysis/internal/cputime"

import (
	"syscall"
	"time"
)

// Process returns the user+system CPU time used by this process so far;
// false when the platform cannot tell.
func Process() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
