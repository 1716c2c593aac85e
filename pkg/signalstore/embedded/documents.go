package embedded

import (
	"context"
	"fmt"

	"github.com/ncruces/go-sqlite3"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

var _ signalstore.DocumentStore = (*Store)(nil)

// documentRow is a validated document as the writer stores it. The body is
// copied into a string when queued, so a caller whose context ends while the
// write is still queued may reuse its slice.
type documentRow struct {
	kind, id, ref string
	updated       int64
	body          string
}

// maintenanceChunkDocuments bounds the documents one retention transaction
// deletes: a document may be a thousand times the size of a span.
const maintenanceChunkDocuments = 100

// PutDocument implements signalstore.DocumentStore. The document is written
// by the writer goroutine, in a group commit with concurrent telemetry
// writes, so it is as durable as they are when PutDocument returns nil.
func (s *Store) PutDocument(ctx context.Context, d signalstore.Document) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("put document: %w", err)
	}
	row := &documentRow{kind: d.Kind, id: d.ID, ref: d.Ref, updated: d.Updated.UnixNano(), body: string(d.Body)}
	if err := s.submit(ctx, &writeRequest{document: row, rows: 1}); err != nil {
		return fmt.Errorf("put document %s %q: %w", d.Kind, d.ID, err)
	}
	return nil
}

// GetDocument implements signalstore.DocumentStore.
func (s *Store) GetDocument(ctx context.Context, kind, id string) (signalstore.Document, error) {
	if err := signalstore.ValidateDocumentKey(kind, id); err != nil {
		return signalstore.Document{}, fmt.Errorf("get document: %w", err)
	}
	var doc signalstore.Document
	found := false
	err := s.withReader(ctx, func(c *dbConn) error {
		return c.query(getDocumentQuery, []any{kind, id}, func(st *sqlite3.Stmt) error {
			doc, found = scanDocument(st), true
			return nil
		})
	})
	if err != nil {
		return signalstore.Document{}, fmt.Errorf("get document %s %q: %w", kind, id, err)
	}
	if !found {
		return signalstore.Document{}, fmt.Errorf("document %s %q: %w", kind, id, signalstore.ErrNotFound)
	}
	return doc, nil
}

// ListDocuments implements signalstore.DocumentStore. Documents updated at
// the same instant come in descending ID order.
func (s *Store) ListDocuments(ctx context.Context, f signalstore.DocumentFilter) ([]signalstore.Document, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = signalstore.DefaultDocumentLimit
	}
	query, args := listDocumentsQuery, []any{f.Kind, limit}
	if f.Ref != "" {
		query, args = listDocumentsByRefQuery, []any{f.Kind, f.Ref, limit}
	}
	docs := []signalstore.Document{}
	err := s.withReader(ctx, func(c *dbConn) error {
		return c.query(query, args, func(st *sqlite3.Stmt) error {
			docs = append(docs, scanDocument(st))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list documents of kind %s: %w", f.Kind, err)
	}
	return docs, nil
}

// The reads of ollystack_documents. Listing has two texts rather than
// "(? = ” OR Ref = ?)" so that each is served by its own index in order,
// without a sort.
const (
	documentColumns         = `Kind, Id, Ref, Updated, Body`
	getDocumentQuery        = `SELECT ` + documentColumns + ` FROM ollystack_documents WHERE Kind = ? AND Id = ?`
	listDocumentsQuery      = `SELECT ` + documentColumns + ` FROM ollystack_documents WHERE Kind = ? ORDER BY Updated DESC, Id DESC LIMIT ?`
	listDocumentsByRefQuery = `SELECT ` + documentColumns + ` FROM ollystack_documents WHERE Kind = ? AND Ref = ? ORDER BY Updated DESC, Id DESC LIMIT ?`
	expireDocumentsQuery    = `DELETE FROM ollystack_documents WHERE rowid IN (SELECT rowid FROM ollystack_documents WHERE Updated < ? LIMIT ?)`
)

func scanDocument(st *sqlite3.Stmt) signalstore.Document {
	return signalstore.Document{
		Kind:    st.ColumnText(0),
		ID:      st.ColumnText(1),
		Ref:     st.ColumnText(2),
		Updated: nanosToTime(st.ColumnInt64(3)),
		Body:    st.ColumnBlob(4, nil),
	}
}

// putDocument upserts in the writer's open transaction. An upsert keeps the
// row (and its rowid) in place, where INSERT OR REPLACE would delete and
// re-add it.
func (w *writer) putDocument(d *documentRow) error {
	err := w.db.exec(`INSERT INTO ollystack_documents (Kind, Id, Ref, Updated, Body) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (Kind, Id) DO UPDATE SET Ref = excluded.Ref, Updated = excluded.Updated, Body = excluded.Body`,
		d.kind, d.id, d.ref, d.updated, d.body)
	if err != nil {
		return fmt.Errorf("put document %s %q: %w", d.kind, d.id, err)
	}
	return nil
}

// deleteDocumentsBefore deletes one chunk of documents last updated before
// cutoff. Only retention calls it: the size cap never evicts documents,
// which are few and small next to the telemetry.
func (w *writer) deleteDocumentsBefore(cutoff int64) (bool, error) {
	err := w.db.exec(expireDocumentsQuery, cutoff, maintenanceChunkDocuments)
	if err != nil {
		return false, fmt.Errorf("expire documents: %w", err)
	}
	return w.db.conn.Changes() > 0, nil
}
