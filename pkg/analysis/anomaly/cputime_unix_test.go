//go:build unix

package anomaly

import (
	"syscall"
	"time"
)

// processCPUTime returns the CPU time used by this process so far. The
// benchmarks report CPU time per operation next to wall time because the
// machines they run on are often shared: wall time then measures the
// neighbours as much as the code.
func processCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
