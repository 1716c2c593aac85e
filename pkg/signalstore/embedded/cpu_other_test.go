//go:build !unix

package embedded

import "time"

// processCPU is not measured on this platform; cpu-µs/span reads 0.
func processCPU() time.Duration { return 0 }
