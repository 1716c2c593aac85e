//go:build !linux

package logpatternprocessor

import "time"

func threadCPUTime() (time.Duration, bool) { return 0, false }
