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

func TestCancelledWriteDoesNotBlock(t *testing.T) {
	store := openTestStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// The request may or may not be committed (at-least-once), but the call
	// returns promptly with the context's error or success.
	if err := store.WriteTraces(ctx, agedTraces("cancelled", 1, time.Now())); err != nil && err != context.Canceled {
		t.Fatalf("WriteTraces with a cancelled context: %v", err)
	}
}
