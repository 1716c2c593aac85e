package embedded

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

func TestPurgeThenWrite(t *testing.T) {
	store := openTestStore(t)
	ctx := context.Background()
	now := time.Now()
	if err := store.WriteTraces(ctx, agedTraces("before", 3, now)); err != nil {
		t.Fatal(err)
	}
	doc := signalstore.Document{Kind: "analysis", ID: "before", Updated: now, Body: []byte(`{}`)}
	if err := store.PutDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	if err := store.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := store.GetDocument(ctx, doc.Kind, doc.ID); !errors.Is(err, signalstore.ErrNotFound) {
		t.Errorf("document after Purge: %v; want ErrNotFound", err)
	}
	for _, table := range purgeTables {
		if n := countRows(t, store, table); n != 0 && table != "ollystack_meta" {
			t.Errorf("%s has %d rows after Purge", table, n)
		}
	}
	if err := store.WriteTraces(ctx, agedTraces("after", 3, now)); err != nil {
		t.Fatal(err)
	}
	spans, err := store.SpansByTraceIDs(ctx, []signalstore.TraceID{traceIDFor("after", 1)}, signalstore.TimeRange{}, 0)
	if err != nil || len(spans) != 10 || spans[0].ResourceAttributes["service.name"] != "after" {
		t.Fatalf("after purge: %d spans (%v), resource %v", len(spans), err, spans)
	}
}

// TestConcurrentWritersAndReaders exercises group commit and the reader
// pool together (run with -race).
func TestConcurrentWritersAndReaders(t *testing.T) {
	store := openTestStore(t, func(c *Config) { c.ReadConnections = 2 })
	ctx := context.Background()
	now := time.Now()
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := range 10 {
				tag := fmt.Sprintf("w%d-%d", w, i)
				if err := store.WriteTraces(ctx, agedTraces(tag, 5, now)); err != nil {
					t.Error(err)
					return
				}
				ids, err := store.TraceIDsForCorrelation(ctx, tag+"-2", signalstore.TimeRange{})
				if err != nil || len(ids) != 1 {
					t.Errorf("read-your-write of %s: %v, %v", tag, ids, err)
					return
				}
				// Documents share the group commits with the telemetry.
				doc := signalstore.Document{Kind: "analysis", ID: tag, Ref: tag + "-2", Updated: now, Body: []byte(`{}`)}
				if err := store.PutDocument(ctx, doc); err != nil {
					t.Error(err)
					return
				}
				if docs, err := store.ListDocuments(ctx, signalstore.DocumentFilter{Kind: "analysis", Ref: doc.Ref}); err != nil || len(docs) != 1 {
					t.Errorf("read-your-write of document %s: %v, %v", tag, docs, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := countRows(t, store, "otel_traces"); n != 6*10*5*10 {
		t.Fatalf("%d spans stored, want %d", n, 6*10*5*10)
	}
	if n := countRows(t, store, "ollystack_documents"); n != 6*10 {
		t.Fatalf("%d documents stored, want %d", n, 6*10)
	}
}

// TestCancelledWriteIsCommittedOnlyIfAcknowledged: a write whose context is
// already cancelled either returns nil, and was committed, or returns the
// context's error, and was not. The second case used to commit later all
// the same.
func TestCancelledWriteIsCommittedOnlyIfAcknowledged(t *testing.T) {
	store := openTestStore(t, func(c *Config) { c.Sync = SyncNormal })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	acknowledged := 0
	for i := range 20 {
		err := store.WriteTraces(ctx, agedTraces(fmt.Sprintf("c%d", i), 1, time.Now()))
		switch {
		case err == nil:
			acknowledged++
		case !errors.Is(err, context.Canceled):
			t.Fatalf("WriteTraces with a cancelled context: %v", err)
		}
	}
	// Requests are answered in order, so once this one is, every earlier one
	// has been committed or skipped.
	if err := store.WriteTraces(context.Background(), agedTraces("barrier", 1, time.Now())); err != nil {
		t.Fatal(err)
	}
	if n, want := countRows(t, store, tableTraces), int64(10*(acknowledged+1)); n != want {
		t.Fatalf("%d spans stored, want %d: the %d acknowledged writes and the barrier", n, want, acknowledged)
	}
}

// holdWriteLock takes the write lock from a connection of its own, as the
// sqlite3 shell or a backup tool might, until release is called.
func holdWriteLock(t *testing.T, s *Store) (release func()) {
	t.Helper()
	c, err := openConn(s.cfg.Path, &s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.conn.Exec(`BEGIN IMMEDIATE`); err != nil {
		_ = c.close()
		t.Fatal(err)
	}
	return func() {
		if err := c.conn.Exec(`ROLLBACK`); err != nil {
			t.Error(err)
		}
		_ = c.close()
	}
}

// TestTimedOutWriteIsNotCommittedLater replays the exporter's retry loop
// while another connection holds the write lock: every attempt times out,
// and only the attempt that succeeds may be stored, not each one that was
// reported as failed.
func TestTimedOutWriteIsNotCommittedLater(t *testing.T) {
	store := openTestStore(t, func(c *Config) { c.Sync = SyncNormal })
	td := agedTraces("retried", 1, time.Now())
	release := holdWriteLock(t, store)
	for attempt := range 10 {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := store.WriteTraces(ctx, td)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			release()
			t.Fatalf("attempt %d while another connection holds the lock: %v; want the deadline", attempt, err)
		}
	}
	release()
	// Queued behind the ten abandoned attempts, so when it returns the
	// writer has dealt with all of them.
	if err := store.WriteTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, store, tableTraces); n != 10 {
		t.Fatalf("%d spans stored after 10 timed-out attempts and one that succeeded, want 10", n)
	}
}

// TestRequestIsTakenOrAbandonedNeverBoth races the writer's take with the
// caller's abandon.
func TestRequestIsTakenOrAbandonedNeverBoth(t *testing.T) {
	for range 1000 {
		req := &writeRequest{}
		var taken, abandoned bool
		var wg sync.WaitGroup
		wg.Go(func() { taken = req.take() })
		wg.Go(func() { abandoned = req.abandon() })
		wg.Wait()
		if taken == abandoned {
			t.Fatalf("taken %v, abandoned %v: exactly one side must win", taken, abandoned)
		}
		if taken && !req.take() {
			t.Fatal("a taken request cannot be taken again for its retry alone")
		}
	}
}
