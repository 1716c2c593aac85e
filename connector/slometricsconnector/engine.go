package slometricsconnector // import "github.com/ollystack/ollystack/connector/slometricsconnector"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/connector/slometricsconnector/internal/metadata"
)

// sloState is the rolling state of one SLO. Memory is fixed at creation:
// 24 bytes per minute of the longest alert window, 24 bytes per hour of the
// SLO window, and badEventRingSize recent bad events.
type sloState struct {
	def *sloDef
	// minutes covers the longest alert window, for burn rates.
	minutes *ring
	// hours covers the SLO window, for the SLI ratio and the error budget.
	hours *ring
	// good and bad count every event since startedAt (cumulative sums). The
	// start is per SLO: an SLO whose saved state is dropped on restore
	// restarts at zero and must not claim the saved start time.
	good, bad uint64
	startedAt time.Time
	badEvents badEventRing
	// firing is indexed like def.alerts.
	firing []bool

	// Per-batch counts for self-telemetry, reset after each batch.
	batchGood, batchBad int64
	goodAttrs, badAttrs metric.MeasurementOption
}

func newSLOState(def *sloDef) *sloState {
	hoursSpan := def.window.rolling
	if def.window.calendarMonth {
		hoursSpan = 31 * day
	}
	return &sloState{
		def:       def,
		minutes:   newRing(time.Minute, def.maxLongWindow()),
		hours:     newRing(time.Hour, hoursSpan),
		firing:    make([]bool, len(def.alerts)),
		goodAttrs: metric.WithAttributeSet(attribute.NewSet(attribute.String(metadata.AttributeSLO, def.name), attribute.String(metadata.AttributeOutcome, "good"))),
		badAttrs:  metric.WithAttributeSet(attribute.NewSet(attribute.String(metadata.AttributeSLO, def.name), attribute.String(metadata.AttributeOutcome, "bad"))),
	}
}

// engine holds the SLO state shared by the traces→metrics and traces→logs
// instances of one connector, evaluates it every flush interval and sends the
// results downstream.
type engine struct {
	id           component.ID
	logger       *zap.Logger
	telemetry    *metadata.TelemetryBuilder
	now          func() time.Time
	interval     time.Duration
	maxExemplars int
	storageID    *component.ID

	// mu guards the SLO state, the start time and the outputs.
	mu        sync.Mutex
	slos      []*sloState
	byService map[string][]*sloState
	metrics   consumer.Metrics
	logs      consumer.Logs
	// unsentAlerts holds the alert records the logs pipeline refused, sent
	// again with the next flush's.
	unsentAlerts plog.Logs

	// client persists the state; nil without a storage extension.
	client storage.Client

	// lifecycle guards starting and stopping; never taken by the flush loop,
	// which shutdown waits for while holding it.
	lifecycle sync.Mutex
	running   bool
	// stop ends the flush loop and cancels the context of a flush in
	// progress, so a downstream that blocks cannot hold Shutdown.
	stop context.CancelFunc
	done chan struct{}
}

func newEngine(set component.TelemetrySettings, id component.ID, cfg *Config, now func() time.Time) (*engine, error) {
	// The collector validates configs before creating components; this guards
	// direct callers, since a ticker panics on a non-positive interval.
	if cfg.FlushInterval <= 0 {
		return nil, fmt.Errorf("slometrics: flush_interval must be positive, got %v", cfg.FlushInterval)
	}
	telemetry, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, fmt.Errorf("slometrics: create telemetry: %w", err)
	}
	e := &engine{
		unsentAlerts: plog.NewLogs(),
		id:           id,
		logger:       set.Logger,
		telemetry:    telemetry,
		now:          now,
		interval:     cfg.FlushInterval,
		maxExemplars: cfg.MaxExemplars,
		storageID:    cfg.Storage,
		byService:    map[string][]*sloState{},
	}
	start := now()
	for i := range cfg.SLOs {
		def, err := compileSLO(&cfg.SLOs[i])
		if err != nil {
			return nil, fmt.Errorf("slometrics: slo %q: %w", cfg.SLOs[i].Name, err)
		}
		s := newSLOState(def)
		s.startedAt = start
		e.slos = append(e.slos, s)
		e.byService[def.service] = append(e.byService[def.service], s)
	}
	return e, nil
}

// consume counts the spans of a batch. Events are placed in time by when the
// connector sees them, not by span timestamps: skewed client clocks and late
// batches would otherwise land in buckets already evaluated.
func (e *engine) consume(ctx context.Context, td ptrace.Traces) {
	now := e.now()
	at := pcommon.NewTimestampFromTime(now)
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.slos) == 0 {
		return
	}
	minute := e.slos[0].minutes.slotOf(now)
	hour := e.slos[0].hours.slotOf(now)
	var touched []*sloState
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		service, ok := rs.Resource().Attributes().Get(serviceNameKey)
		if !ok {
			continue
		}
		slos := e.byService[service.Str()]
		if len(slos) == 0 {
			continue
		}
		resourceSynthetic := isSynthetic(rs.Resource().Attributes())
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				facts := spanFacts{resourceSpans: rs, scopeSpans: ss, span: spans.At(k), resourceSynthetic: resourceSynthetic}
				for _, s := range slos {
					counted, bad := s.def.classify(ctx, &facts)
					if !counted {
						continue
					}
					if s.batchGood == 0 && s.batchBad == 0 {
						touched = append(touched, s)
					}
					if bad {
						s.batchBad++
						s.badEvents.add(facts.asBadEvent(at))
					} else {
						s.batchGood++
					}
				}
			}
		}
	}
	for _, s := range touched {
		good, bad := uint64(s.batchGood), uint64(s.batchBad)
		s.minutes.add(minute, good, bad)
		s.hours.add(hour, good, bad)
		s.good += good
		s.bad += bad
		if s.batchGood > 0 {
			e.telemetry.ConnectorSlometricsEvents.Add(ctx, s.batchGood, s.goodAttrs)
		}
		if s.batchBad > 0 {
			e.telemetry.ConnectorSlometricsEvents.Add(ctx, s.batchBad, s.badAttrs)
		}
		s.batchGood, s.batchBad = 0, 0
	}
}

// maxUnsentAlertRecords bounds the alert records kept for the next flush
// while the logs pipeline refuses them.
const maxUnsentAlertRecords = 1000

// sendAlertLogs sends the alert records of this flush after those a refusing
// logs pipeline left over from earlier flushes: a transition happens once, so
// its record is kept until it is delivered, at most maxUnsentAlertRecords of
// them (the oldest go first), and not across restarts. A permanent error
// drops the records, as retrying cannot help.
func (e *engine) sendAlertLogs(ctx context.Context, out consumer.Logs, ld plog.Logs) error {
	e.mu.Lock()
	unsent := e.unsentAlerts
	e.unsentAlerts = plog.NewLogs()
	e.mu.Unlock()
	ld.ResourceLogs().MoveAndAppendTo(unsent.ResourceLogs())
	if unsent.LogRecordCount() == 0 {
		return nil
	}
	err := out.ConsumeLogs(ctx, unsent)
	if err == nil || consumererror.IsPermanent(err) {
		return err
	}
	dropped := dropOldestRecords(unsent, maxUnsentAlertRecords)
	if dropped > 0 {
		e.logger.Warn("SLO alert records dropped: the logs pipeline refuses them", zap.Int("dropped", dropped))
	}
	e.mu.Lock()
	e.unsentAlerts = unsent // flushes do not overlap: nothing was added meanwhile
	e.mu.Unlock()
	return fmt.Errorf("alert records kept for the next flush: %w", err)
}

// dropOldestRecords removes the oldest records of ld beyond limit (records
// are appended in time order) and returns how many it removed.
func dropOldestRecords(ld plog.Logs, limit int) int {
	excess := ld.LogRecordCount() - limit
	if excess <= 0 {
		return 0
	}
	dropped := 0
	ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
			sl.LogRecords().RemoveIf(func(plog.LogRecord) bool {
				if dropped < excess {
					dropped++
					return true
				}
				return false
			})
			return sl.LogRecords().Len() == 0
		})
		return rl.ScopeLogs().Len() == 0
	})
	return dropped
}

// attach registers a downstream consumer; called once per connector instance.
func (e *engine) attach(metrics consumer.Metrics, logs consumer.Logs) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if metrics != nil {
		e.metrics = metrics
	}
	if logs != nil {
		e.logs = logs
	}
}

// start restores the persisted state and starts the flush loop; only the
// first call of the connector's instances does anything.
func (e *engine) start(ctx context.Context, host component.Host) error {
	e.lifecycle.Lock()
	defer e.lifecycle.Unlock()
	if e.running {
		return nil
	}
	if e.storageID != nil {
		client, err := storageClient(ctx, host, *e.storageID, e.id)
		if err != nil {
			return err
		}
		if err := e.restore(ctx, client); err != nil {
			return errors.Join(err, client.Close(ctx))
		}
		e.mu.Lock()
		e.client = client
		e.mu.Unlock()
	}
	// The loop must not depend on Start's context, which ends with Start.
	loopCtx, stop := context.WithCancel(context.Background())
	e.stop = stop
	e.done = make(chan struct{})
	e.running = true
	go e.flushLoop(loopCtx, e.done)
	return nil
}

func (e *engine) flushLoop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	ticker := time.NewTicker(e.interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if err := e.flush(ctx); err != nil && ctx.Err() == nil {
				e.logger.Warn("Failed to flush SLO metrics and alerts", zap.Error(err))
			}
		}
	}
}

// shutdown stops the flush loop, saves the state and closes the storage
// client.
func (e *engine) shutdown(ctx context.Context) error {
	e.lifecycle.Lock()
	defer e.lifecycle.Unlock()
	if !e.running {
		return nil
	}
	e.running = false
	e.stop()
	<-e.done
	e.mu.Lock()
	client := e.client
	e.client = nil
	e.mu.Unlock()
	if client == nil {
		return nil
	}
	return errors.Join(e.save(ctx, client), client.Close(ctx))
}

// flush evaluates every SLO, sends metrics and alert transitions downstream
// and saves the state.
func (e *engine) flush(ctx context.Context) error {
	e.mu.Lock()
	now := e.now()
	reports := e.evaluate(now)
	metricsOut, logsOut, client := e.metrics, e.logs, e.client
	var errs []error
	if metricsOut != nil {
		md := e.buildMetrics(now, reports)
		e.mu.Unlock()
		errs = append(errs, metricsOut.ConsumeMetrics(ctx, md))
	} else {
		e.mu.Unlock()
	}
	if logsOut != nil {
		errs = append(errs, e.sendAlertLogs(ctx, logsOut, buildAlertLogs(now, reports)))
	}
	if client != nil {
		errs = append(errs, e.save(ctx, client))
	}
	return errors.Join(errs...)
}
