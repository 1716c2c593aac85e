//go:build !unix

package anomaly

import "time"

func processCPUTime() (time.Duration, bool) { return 0, false }
