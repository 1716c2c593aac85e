//go:build !linux

package correlationprocessor

import "time"

func threadCPUTime() (time.Duration, bool) { return 0, false }
