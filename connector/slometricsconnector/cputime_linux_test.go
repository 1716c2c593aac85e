//go:build linux

package slometricsconnector

import (
	"syscall"
	"time"
	"unsafe"
)

// threadCPUTime returns the CPU time of the calling OS thread. Benchmarks lock
// their goroutine to its thread and read it around the timed loop, because
// wall time on a shared, loaded machine overstates the cost.
func threadCPUTime() (time.Duration, bool) {
	const clockThreadCPUTimeID = 3 // CLOCK_THREAD_CPUTIME_ID
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
