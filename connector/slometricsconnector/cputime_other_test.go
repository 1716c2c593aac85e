//go:build !linux

package slometricsconnector

import "time"

// threadCPUTime is only implemented on Linux; elsewhere benchmarks report
// wall time only.
func threadCPUTime() (time.Duration, bool) { return 0, false }
