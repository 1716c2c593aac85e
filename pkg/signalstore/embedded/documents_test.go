package embedded

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/pkg/signalstore/signalstoretest"
)

func testDocument(id string, updated time.Time) signalstore.Document {
	return signalstore.Document{Kind: "investigation", ID: id, Ref: "order-1", Updated: updated,
		Body: fmt.Appendf(nil, `{"id":%q}`, id)}
}

// reopen closes the store and opens its file again.
func reopen(t *testing.T, store *Store) *Store {
	t.Helper()
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(context.Background(), &store.cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { _ = again.Close() })
	return again
}

func TestDocumentsSurviveReopen(t *testing.T) {
	store := openTestStore(t)
	ctx := context.Background()
	doc := testDocument("inv-1", time.Now())
	if err := store.PutDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	store = reopen(t, store)
	got, err := store.GetDocument(ctx, doc.Kind, doc.ID)
	if err != nil {
		t.Fatalf("after reopen: %v", err)
	}
	if !got.Updated.Equal(doc.Updated) || string(got.Body) != string(doc.Body) || got.Ref != doc.Ref {
		t.Fatalf("after reopen: got %+v, want %+v", got, doc)
	}
}

// TestOlderDatabaseGainsDocumentsTable opens a file written before documents
// existed (the same schema version without ollystack_documents): Open adds
// the table, and the data already there stays readable.
func TestOlderDatabaseGainsDocumentsTable(t *testing.T) {
	store := openTestStore(t)
	ctx := context.Background()
	if err := store.WriteTraces(ctx, agedTraces("old", 2, time.Now())); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := openConn(store.cfg.Path, &store.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.conn.Exec(`DROP TABLE ollystack_documents`); err != nil {
		t.Fatal(err)
	}
	if err := raw.close(); err != nil {
		t.Fatal(err)
	}

	store = reopen(t, store)
	doc := testDocument("inv-1", time.Now())
	if err := store.PutDocument(ctx, doc); err != nil {
		t.Fatalf("put into an upgraded database: %v", err)
	}
	if docs, err := store.ListDocuments(ctx, signalstore.DocumentFilter{Kind: doc.Kind, Ref: doc.Ref}); err != nil || len(docs) != 1 {
		t.Fatalf("list in an upgraded database: %v, %v", docs, err)
	}
	if ids, err := store.TraceIDsForCorrelation(ctx, "old-1", signalstore.TimeRange{}); err != nil || len(ids) != 1 {
		t.Fatalf("telemetry written before the upgrade: %v, %v", ids, err)
	}
}

func TestDocumentsAfterClose(t *testing.T) {
	store := openTestStore(t)
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := store.PutDocument(ctx, testDocument("late", time.Now())); !errors.Is(err, signalstore.ErrClosed) {
		t.Errorf("PutDocument after Close: %v; want ErrClosed", err)
	}
	if _, err := store.GetDocument(ctx, "investigation", "late"); !errors.Is(err, signalstore.ErrClosed) {
		t.Errorf("GetDocument after Close: %v; want ErrClosed", err)
	}
	if _, err := store.ListDocuments(ctx, signalstore.DocumentFilter{Kind: "investigation"}); !errors.Is(err, signalstore.ErrClosed) {
		t.Errorf("ListDocuments after Close: %v; want ErrClosed", err)
	}
}

// TestRetentionDeletesOldDocuments needs several maintenance chunks for the
// expired documents and keeps the recent ones.
func TestRetentionDeletesOldDocuments(t *testing.T) {
	clock := newTestClock(time.Now().Add(-10 * time.Hour))
	store := openClockStore(t, clock, zap.NewNop(), func(c *Config) { c.Retention = time.Hour })
	ctx := context.Background()
	const expired = 2*maintenanceChunkDocuments + 50
	putConcurrently(t, store, expired, func(i int) signalstore.Document {
		return testDocument(fmt.Sprintf("old-%03d", i), clock.now())
	})
	clock.advance(90 * time.Minute)
	putConcurrently(t, store, 3, func(i int) signalstore.Document {
		return testDocument(fmt.Sprintf("new-%d", i), clock.now())
	})
	signalstoretest.Poll(t, 20*time.Second, func() string {
		if n := countRows(t, store, "ollystack_documents"); n != 3 {
			return fmt.Sprintf("%d documents left, want the 3 recent ones", n)
		}
		return ""
	})
	docs, err := store.ListDocuments(ctx, signalstore.DocumentFilter{Kind: "investigation"})
	if err != nil || len(docs) != 3 || !strings.HasPrefix(docs[0].ID, "new-") {
		t.Fatalf("after retention: %v, %v", docs, err)
	}
}

func putConcurrently(t *testing.T, store *Store, n int, doc func(i int) signalstore.Document) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := store.PutDocument(context.Background(), doc(i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// TestDocumentQueriesUseIndexes keeps listing and retention off full scans
// and sorts, which would grow with the table.
func TestDocumentQueriesUseIndexes(t *testing.T) {
	store := openTestStore(t)
	for query, index := range map[string]string{
		getDocumentQuery:        "sqlite_autoindex_ollystack_documents_1",
		listDocumentsQuery:      "ollystack_documents_updated",
		listDocumentsByRefQuery: "ollystack_documents_ref",
		expireDocumentsQuery:    "ollystack_documents_expiry",
	} {
		var plan []string
		err := store.withReader(context.Background(), func(c *dbConn) error {
			return c.query(`EXPLAIN QUERY PLAN `+query, nil, func(st *sqliteStmt) error {
				plan = append(plan, st.ColumnText(3))
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "; ")
		if !strings.Contains(text, "USING INDEX "+index) && !strings.Contains(text, "USING COVERING INDEX "+index) ||
			strings.Contains(text, "TEMP B-TREE") {
			t.Errorf("%s\nplan: %s\nwant it served by %s without a sort", query, text, index)
		}
	}
}
