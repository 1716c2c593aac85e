package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// errQueueFull refuses an investigation when max queue_size wait already.
var errQueueFull = errors.New("too many investigations are waiting")

// Unfinished investigations are found by reading investigation documents
// newest first: the store filters documents by kind and ref, not by status,
// and has no cursor, so a read of resumePage documents is made larger until
// it holds them all or maxScannedInvestigations.
const (
	resumePage               = 1_000
	maxScannedInvestigations = 10_000
)

// investigator runs investigations in background workers. Every change of
// state is written to the document store before it is acted on, so an
// investigation interrupted by a shutdown or a crash is found pending or
// running at the next start and run again.
type investigator struct {
	api      *api
	docs     signalstore.DocumentStore
	notifier *notifier // nil: no webhook
	logger   *zap.Logger

	queue   chan string
	ctx     context.Context
	workers sync.WaitGroup

	// maxScanned bounds the investigation documents read to find the
	// unfinished ones (maxScannedInvestigations).
	maxScanned int
	// backlog is set when an investigation may be pending in the store but
	// is not queued here (the queue was full, or a run could not start):
	// only then does the sweep read the store.
	backlog atomic.Bool

	mu sync.Mutex
	// active holds the ids queued or running in this process, so the sweep
	// never queues one twice.
	active map[string]bool
}

// sweepInterval is how often investigations left pending (the queue was
// full when they were found) are queued again.
const sweepInterval = 30 * time.Second

func newInvestigator(a *api, n *notifier) *investigator {
	return &investigator{
		api: a, docs: a.docs, notifier: n, logger: a.logger,
		queue:      make(chan string, a.cfg.Investigations.QueueSize),
		ctx:        a.routes.Context(),
		maxScanned: maxScannedInvestigations,
		active:     map[string]bool{},
	}
}

// start resumes the unfinished investigations and starts the workers, the
// sweep and the notifier; they stop when the API's routes are stopped.
func (iv *investigator) start(ctx context.Context) error {
	// At start, "running" means interrupted by a shutdown or a crash.
	if err := iv.requeue(ctx, statusPending, statusRunning); err != nil {
		return err
	}
	for range iv.api.cfg.Investigations.MaxConcurrent {
		iv.workers.Add(1)
		go iv.work()
	}
	iv.workers.Add(1)
	go iv.sweep()
	if iv.notifier != nil {
		iv.workers.Add(1)
		go func() {
			defer iv.workers.Done()
			iv.notifier.run(iv.ctx)
		}()
	}
	return nil
}

// requeue queues the stored investigations in the given states that this
// process has not queued, oldest first, while the queue has room. One found
// running (interrupted by a restart) that does not fit is kept pending, as
// the sweep queues pending ones only.
func (iv *investigator) requeue(ctx context.Context, states ...string) error {
	invs, err := iv.unfinished(ctx, states)
	if err != nil {
		return err
	}
	full := false
	for i := range invs {
		inv := &invs[i]
		if !full && iv.enqueue(inv.ID) {
			if inv.Status == statusRunning {
				iv.logger.Info("Resuming an investigation interrupted by a restart", zap.String("id", inv.ID))
			}
			continue
		}
		if !full {
			full = true
			iv.backlog.Store(true)
			iv.logger.Warn("Investigation queue full; investigations stay pending until it has room", zap.String("id", inv.ID))
			if !slices.Contains(states, statusRunning) {
				return nil // nothing left to do: the pending ones stay as they are
			}
		}
		if inv.Status == statusRunning {
			inv.Status = statusPending
			if err := iv.save(ctx, inv); err != nil {
				iv.logger.Warn("Keeping an interrupted investigation pending failed; it is resumed at the next start", zap.String("id", inv.ID), zap.Error(err))
			}
		}
	}
	return nil
}

// unfinished returns the stored investigations in the given states, oldest
// first. It reads the newest documents, more each time, until a read
// returns fewer than it asked for; past iv.maxScanned older ones are not
// looked at, and a warning says so.
func (iv *investigator) unfinished(ctx context.Context, states []string) ([]investigation, error) {
	limit := min(resumePage, iv.maxScanned)
	var docs []signalstore.Document
	for {
		var err error
		// One more than limit tells whether there are more.
		docs, err = iv.docs.ListDocuments(ctx, signalstore.DocumentFilter{Kind: signalstore.DocumentKindInvestigation, Limit: limit + 1})
		if err != nil {
			return nil, fmt.Errorf("reading investigations: %w", err)
		}
		if len(docs) <= limit {
			break
		}
		if limit == iv.maxScanned {
			docs = docs[:limit]
			iv.logger.Warn("Too many investigations to look at them all; unfinished ones older than those looked at are not resumed",
				zap.Int("looked_at", limit), zap.Time("oldest_looked_at", docs[limit-1].Updated))
			break
		}
		limit = min(4*limit, iv.maxScanned)
	}
	var out []investigation
	for _, d := range slices.Backward(docs) {
		// The status first: most documents are of ended investigations.
		var head struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal(d.Body, &head); err != nil {
			iv.logger.Warn("Skipping a malformed investigation document", zap.String("id", d.ID), zap.Error(err))
			continue
		}
		if !slices.Contains(states, head.Status) {
			continue
		}
		var inv investigation
		if err := json.Unmarshal(d.Body, &inv); err != nil {
			iv.logger.Warn("Skipping a malformed investigation document", zap.String("id", d.ID), zap.Error(err))
			continue
		}
		out = append(out, inv)
	}
	return out, nil
}

// enqueue queues id unless it is already queued or running here; false
// means the queue is full.
func (iv *investigator) enqueue(id string) bool {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	if iv.active[id] {
		return true
	}
	select {
	case iv.queue <- id:
		iv.active[id] = true
		return true
	default:
		return false
	}
}

func (iv *investigator) done(id string) {
	iv.mu.Lock()
	delete(iv.active, id)
	iv.mu.Unlock()
}

// sweep queues the investigations left pending when the queue was full or
// a run could not start.
func (iv *investigator) sweep() {
	defer iv.workers.Done()
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-iv.ctx.Done():
			return
		case <-t.C:
			if !iv.backlog.Swap(false) {
				continue
			}
			if err := iv.requeue(iv.ctx, statusPending); err != nil {
				iv.backlog.Store(true)
				if iv.ctx.Err() == nil {
					iv.logger.Warn("Sweeping pending investigations failed", zap.Error(err))
				}
			}
		}
	}
}

// wait returns once the workers have stopped (after the routes' Stop).
func (iv *investigator) wait() { iv.workers.Wait() }

// submit keeps a new investigation and queues it. An investigation with the
// same id (the same alert delivered again) is not started twice: the
// existing one is returned with duplicate set.
func (iv *investigator) submit(ctx context.Context, inv *investigation) (existing *investigation, err error) {
	if old, err := iv.load(ctx, inv.ID); err == nil {
		return old, nil
	} else if !errors.Is(err, signalstore.ErrNotFound) {
		return nil, err
	}
	if len(iv.queue) == cap(iv.queue) {
		return nil, errQueueFull
	}
	inv.Status = statusPending
	inv.addTimeline(inv.CreatedAt, "investigation", inv.Scope.Service, inv.Scope.CorrelationID, "investigation created by "+inv.Trigger.Source)
	if err := iv.save(ctx, inv); err != nil {
		return nil, err
	}
	// Losing the race for the last slot is fine: it is kept pending and the
	// sweep queues it.
	if !iv.enqueue(inv.ID) {
		iv.backlog.Store(true)
	}
	return nil, nil
}

func (iv *investigator) work() {
	defer iv.workers.Done()
	for {
		select {
		case <-iv.ctx.Done():
			return
		case id := <-iv.queue:
			iv.run(id)
			iv.done(id)
		}
	}
}

// run takes one investigation from pending to finished or failed. One that
// has ended since it was queued (a sweep read it pending while a worker
// finished it) is left alone: it is not run, counted or notified twice.
func (iv *investigator) run(id string) {
	inv, err := iv.load(iv.ctx, id)
	if err != nil {
		iv.backlog.Store(true) // left as it was in the store
		iv.logger.Error("Loading a queued investigation failed", zap.String("id", id), zap.Error(err))
		return
	}
	if inv.Status == statusFinished || inv.Status == statusFailed {
		iv.logger.Debug("Skipping an investigation that has already ended", zap.String("id", id), zap.String("status", inv.Status))
		return
	}
	now := iv.api.now()
	inv.Status, inv.StartedAt, inv.Error = statusRunning, now.UTC(), ""
	inv.Attempts++
	text := "investigation started"
	if inv.Attempts > 1 {
		text = "investigation resumed after a restart"
		inv.clearResults()
	}
	inv.addTimeline(now, "investigation", "", "", text)
	if err := iv.save(iv.ctx, inv); err != nil {
		iv.backlog.Store(true) // left as it was in the store
		iv.logger.Error("Keeping an investigation's state failed", zap.String("id", id), zap.Error(err))
		return
	}

	ctx, cancel := context.WithTimeout(iv.ctx, iv.api.cfg.Investigations.Timeout)
	err = iv.api.investigate(ctx, inv)
	cancel()
	if iv.ctx.Err() != nil {
		// Shutting down: left running in the store, resumed at next start.
		return
	}
	now = iv.api.now()
	inv.FinishedAt = now.UTC()
	if err != nil {
		inv.Status, inv.Error = statusFailed, err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			inv.Error = "timed out after " + iv.api.cfg.Investigations.Timeout.String() + ": " + err.Error()
		}
		inv.addTimeline(now, "investigation", "", "", "investigation failed")
		iv.logger.Warn("Investigation failed", zap.String("id", id), zap.Error(err))
	} else {
		inv.Status = statusFinished
		inv.addTimeline(now, "investigation", "", "", "investigation finished")
	}
	err = iv.save(context.WithoutCancel(iv.ctx), inv)
	if errors.Is(err, signalstore.ErrInvalidDocument) {
		// The result is larger than a document the store keeps (telemetry
		// chose its names): keep the failure instead, so the investigation
		// does not stay running.
		iv.logger.Warn("An investigation's result is too large to keep", zap.String("id", id), zap.Error(err))
		reason := "the result is too large to keep: " + err.Error()
		if inv.Error != "" {
			reason = inv.Error + "; " + reason
		}
		inv.Status, inv.Error, inv.Summary = statusFailed, reason, ""
		inv.Timeline = inv.Timeline[:len(inv.Timeline)-1] // the end just added
		inv.clearResults()
		inv.addTimeline(now, "investigation", "", "", "investigation failed")
		err = iv.save(context.WithoutCancel(iv.ctx), inv)
	}
	if err != nil {
		iv.logger.Error("Keeping an investigation's result failed", zap.String("id", id), zap.Error(err))
		return
	}
	iv.api.telemetry.Investigations.Add(context.Background(), 1, investigationOutcome(inv.Status))
	if iv.notifier != nil {
		iv.notifier.notify(inv) // queued: retries do not hold this worker
	}
}

// clearResults drops what a run found, keeping the trigger and the
// investigation's own and the alert's timeline entries.
func (inv *investigation) clearResults() {
	inv.Hypotheses, inv.Requests, inv.ServiceRanking, inv.Narrative = nil, nil, nil, nil
	inv.Timeline = slices.DeleteFunc(inv.Timeline, func(e timelineEntry) bool { return e.Kind != "investigation" && e.Kind != "alert" })
}

func (iv *investigator) load(ctx context.Context, id string) (*investigation, error) {
	d, err := iv.docs.GetDocument(ctx, signalstore.DocumentKindInvestigation, id)
	if err != nil {
		return nil, err
	}
	var inv investigation
	if err := json.Unmarshal(d.Body, &inv); err != nil {
		return nil, fmt.Errorf("investigation %s: malformed document: %w", id, err)
	}
	return &inv, nil
}

func (iv *investigator) save(ctx context.Context, inv *investigation) error {
	body, err := json.Marshal(inv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, documentWriteTimeout)
	defer cancel()
	return iv.docs.PutDocument(ctx, signalstore.Document{
		Kind: signalstore.DocumentKindInvestigation, ID: inv.ID, Ref: inv.Scope.CorrelationID,
		Updated: iv.api.now().UTC(), Body: body,
	})
}

// newInvestigationID is random: ids are not guessable from one another.
func newInvestigationID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "inv-" + hex.EncodeToString(b[:])
}

// investigationIDFor is deterministic, so one alert delivered twice starts
// one investigation.
func investigationIDFor(source string, parts ...string) string {
	h := sha256Hex(append([]string{source}, parts...)...)
	return "inv-" + source + "-" + h[:24]
}

func sha256Hex(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func investigationOutcome(status string) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String("status", status)))
}
