package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/receiver/syntheticsreceiver/internal/metadata"
)

// syntheticsReceiver schedules the configured checks and emits each run as
// traces, metrics and logs. One instance serves all three signals of one
// configuration, so a check runs once however many pipelines use it.
type syntheticsReceiver struct {
	cfg       *Config
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder

	// Set by the factory before Start; nil for signals no pipeline wants.
	traces  consumer.Traces
	metrics consumer.Metrics
	logs    consumer.Logs

	// onShutdown forgets the instance in the factory, so a new
	// configuration gets a fresh receiver.
	onShutdown func()

	startOnce    sync.Once
	startErr     error
	shutdownOnce sync.Once
	cancel       context.CancelFunc
	wg           sync.WaitGroup
	checks       []*compiledCheck
	// slots is a counting semaphore that enforces cfg.Concurrency.
	slots chan struct{}
}

var (
	_ receiver.Traces  = (*syntheticsReceiver)(nil)
	_ receiver.Metrics = (*syntheticsReceiver)(nil)
	_ receiver.Logs    = (*syntheticsReceiver)(nil)
)

func newReceiver(cfg *Config, set receiver.Settings) (*syntheticsReceiver, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &syntheticsReceiver{cfg: cfg, logger: set.Logger, telemetry: tb}, nil
}

// Start compiles every check (reading CA files, so mistakes fail startup)
// and starts one scheduling goroutine per check.
func (r *syntheticsReceiver) Start(_ context.Context, _ component.Host) error {
	r.startOnce.Do(func() { r.startErr = r.start() })
	return r.startErr
}

func (r *syntheticsReceiver) start() error {
	env := checkEnv{logger: r.logger}
	if r.hasBrowserChecks() {
		chromium, err := findChromium(r.cfg.ChromiumPath)
		if err != nil {
			return fmt.Errorf("synthetics: %w", err)
		}
		env.chromium = chromium
	}
	checks := make([]*compiledCheck, 0, len(r.cfg.Checks))
	for i := range r.cfg.Checks {
		cfg := &r.cfg.Checks[i]
		c, err := compileCheck(cfg, env)
		if err != nil {
			for _, done := range checks {
				done.runner.close()
			}
			return fmt.Errorf("synthetics check %q: %w", cfg.Name, err)
		}
		if cfg.insecure() {
			r.logger.Warn("synthetics check skips TLS certificate verification; its results do not prove the certificate is valid",
				zap.String("check", cfg.Name))
		}
		checks = append(checks, c)
	}
	r.checks = checks
	r.slots = make(chan struct{}, r.cfg.Concurrency)
	// Runs must not depend on Start's context, which ends when Start returns.
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	for _, c := range checks {
		r.wg.Go(func() { r.schedule(ctx, c) })
	}
	return nil
}

func (r *syntheticsReceiver) hasBrowserChecks() bool {
	for i := range r.cfg.Checks {
		if r.cfg.Checks[i].Type == typeBrowser {
			return true
		}
	}
	return false
}

// Shutdown cancels in-flight runs and waits for every goroutine to end.
func (r *syntheticsReceiver) Shutdown(ctx context.Context) error {
	var err error
	r.shutdownOnce.Do(func() {
		if r.onShutdown != nil {
			r.onShutdown()
		}
		if r.cancel == nil {
			return
		}
		r.cancel()
		done := make(chan struct{})
		go func() {
			r.wg.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			err = fmt.Errorf("synthetics receiver shutdown: %w", ctx.Err())
		}
		for _, c := range r.checks {
			c.runner.close()
		}
	})
	return err
}

func (r *syntheticsReceiver) schedule(ctx context.Context, c *compiledCheck) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for planned := c.schedule.first(time.Now()); ; planned = c.schedule.next(planned, time.Now()) {
		if planned.IsZero() {
			// A cron schedule that finds no date: parseCron makes that rare.
			r.logger.Error("synthetics check stopped: its schedule finds no next run", zap.String("check", c.name))
			return
		}
		timer.Reset(time.Until(planned))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		r.execute(ctx, c)
	}
}

// execute runs a check once when a concurrency slot frees up in time and
// emits the result.
func (r *syntheticsReceiver) execute(ctx context.Context, c *compiledCheck) {
	checkAttr := metric.WithAttributes(attribute.String(attrCheckName, c.name))
	waitCtx, cancelWait := context.WithTimeout(ctx, c.timeout)
	select {
	case r.slots <- struct{}{}:
		cancelWait()
	case <-waitCtx.Done():
		cancelWait()
		if ctx.Err() == nil {
			r.telemetry.RunsSkipped.Add(ctx, 1, checkAttr)
			r.logger.Warn("synthetics check skipped: no concurrency slot freed up within its timeout",
				zap.String("check", c.name), zap.Int("concurrency", r.cfg.Concurrency))
		}
		return
	}
	defer func() { <-r.slots }()

	rn := r.runOnce(ctx, c)
	if ctx.Err() != nil {
		// Shutdown interrupted the run: its failure would be ours, not the
		// target's, so it is not reported.
		return
	}
	outcome := "success"
	if !rn.succeeded() {
		outcome = "failure"
	}
	r.telemetry.Runs.Add(ctx, 1, metric.WithAttributes(attribute.String(attrCheckName, c.name), attribute.String("outcome", outcome)))
	r.emit(ctx, rn)
}

func (r *syntheticsReceiver) runOnce(ctx context.Context, c *compiledCheck) *run {
	runCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	rn := newRun(c, r.cfg.Location, time.Now())
	rn.failure = c.runner.run(runCtx, rn)
	rn.end = time.Now()
	return rn
}

func (r *syntheticsReceiver) emit(ctx context.Context, rn *run) {
	if r.traces != nil {
		if err := r.traces.ConsumeTraces(ctx, rn.traces()); err != nil {
			r.logger.Warn("synthetics: traces of a run were refused", zap.String("check", rn.checkName), zap.Error(err))
		}
	}
	if r.metrics != nil {
		if err := r.metrics.ConsumeMetrics(ctx, rn.metrics()); err != nil {
			r.logger.Warn("synthetics: metrics of a run were refused", zap.String("check", rn.checkName), zap.Error(err))
		}
	}
	if r.logs != nil {
		if ld, failed := rn.logs(); failed {
			if err := r.logs.ConsumeLogs(ctx, ld); err != nil {
				r.logger.Warn("synthetics: failure log of a run was refused", zap.String("check", rn.checkName), zap.Error(err))
			}
		}
	}
}
