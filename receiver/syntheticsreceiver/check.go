package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/robfig/cron/v3"
	"go.uber.org/zap"
)

// checkRunner executes one run of a check, recording steps on r, and
// returns the failure that ended it, or nil when every assertion passed.
type checkRunner interface {
	run(ctx context.Context, r *run) *assertionFailure
	// close releases what the runner holds between runs.
	close()
}

// schedule tells when a check runs next.
type schedule interface {
	first(now time.Time) time.Time
	// next is the run after the one planned for planned, which ended at
	// now: counting from the plan, not from the end, keeps the run time
	// from stretching the period.
	next(planned, now time.Time) time.Time
}

// intervalSchedule runs every interval plus up to jitter. The first run
// waits only the jitter, so a freshly started collector reports soon while
// checks sharing an interval still spread out.
type intervalSchedule struct {
	interval, jitter time.Duration
}

func (s intervalSchedule) first(now time.Time) time.Time { return now.Add(s.randomJitter()) }

func (s intervalSchedule) next(planned, now time.Time) time.Time {
	next := planned.Add(s.interval + s.randomJitter())
	if next.Before(now) {
		// The run overran its slot: skip the missed runs rather than
		// start them back to back.
		next = next.Add((now.Sub(next)/s.interval + 1) * s.interval)
	}
	return next
}

func (s intervalSchedule) randomJitter() time.Duration {
	if s.jitter <= 0 {
		return 0
	}
	return rand.N(s.jitter + 1)
}

type cronSchedule struct{ cron.Schedule }

func (s cronSchedule) first(now time.Time) time.Time { return s.Next(now) }

// next counts from the later of the plan and now: a timer that fires a hair
// before the planned wall-clock time must not run the same slot twice.
func (s cronSchedule) next(planned, now time.Time) time.Time {
	if now.Before(planned) {
		now = planned
	}
	return s.Next(now)
}

// compiledCheck is a validated check ready to run.
type compiledCheck struct {
	name     string
	typ      string
	timeout  time.Duration
	schedule schedule
	runner   checkRunner
}

// checkEnv is what runners need from the receiver.
type checkEnv struct {
	// chromium is the resolved browser binary; empty when no check is a
	// browser check.
	chromium string
	logger   *zap.Logger
}

func compileCheck(cfg *CheckConfig, env checkEnv) (*compiledCheck, error) {
	c := &compiledCheck{name: cfg.Name, typ: cfg.Type, timeout: cfg.Timeout}
	if cfg.Cron != "" {
		sched, err := parseCron(cfg.Cron, time.Now())
		if err != nil {
			return nil, fmt.Errorf("cron: %w", err)
		}
		c.schedule = cronSchedule{sched}
	} else {
		c.schedule = intervalSchedule{interval: cfg.Interval, jitter: cfg.Jitter}
	}
	var err error
	switch cfg.Type {
	case typeHTTP:
		c.runner, err = newHTTPRunner(cfg.HTTP)
	case typeMultistep:
		c.runner, err = newMultistepRunner(cfg.Multistep)
	case typeTCP:
		c.runner = &tcpRunner{cfg: *cfg.TCP}
	case typeDNS:
		c.runner = newDNSRunner(cfg.DNS, cfg.Timeout)
	case typeTLS:
		c.runner, err = newTLSRunner(cfg.TLS)
	case typeBrowser:
		c.runner = &browserRunner{chromium: env.chromium, cfg: *cfg.Browser, logger: env.logger}
	default:
		err = fmt.Errorf("unknown type %q", cfg.Type)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// insecure reports whether the check skips certificate verification.
func (cfg *CheckConfig) insecure() bool {
	switch {
	case cfg.HTTP != nil:
		return cfg.HTTP.TLS.InsecureSkipVerify
	case cfg.Multistep != nil:
		return cfg.Multistep.TLS.InsecureSkipVerify
	case cfg.TLS != nil:
		return cfg.TLS.InsecureSkipVerify
	}
	return false
}
