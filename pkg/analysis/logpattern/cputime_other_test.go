//go:build !unix

package logpattern

import "time"

func processCPUTime() (time.Duration, bool) { return 0, false }
