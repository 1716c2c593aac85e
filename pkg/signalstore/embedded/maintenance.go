package embedded

import (
	"errors"
	"fmt"

	"github.com/ncruces/go-sqlite3"
	"go.uber.org/zap"
)

// Retention and the size cap run in the writer goroutine, in transactions
// of at most maintenanceChunkRows rows, and yield to queued writes between
// chunks: deleting never holds the write lock for long, and ingest never
// waits for a whole expiry pass. Both also delete the resources that the
// data they deleted leaves unreferenced (sweepResourcesStep).
const maintenanceChunkRows = 5000

type maintenanceState struct {
	// capBiting is true while the size cap is deleting data early; it
	// keeps the warning to one line per episode.
	capBiting bool
}

// maintain runs retention and the size cap until there is nothing left to
// do or writes are waiting; it reports whether work remains.
func (w *writer) maintain(writesWaiting func() bool) (more bool) {
	if w.db == nil {
		return false // the connection is being replaced; the next write reopens it
	}
	defer func() {
		if r := recover(); r != nil {
			w.logger.Error("signal store maintenance recovered from a panic; reopening the database", zap.Any("panic", r))
			_ = w.reopen()
			more = false
		}
	}()
	cutoff := w.now().Add(-w.cfg.Retention).UnixNano()
	for {
		if writesWaiting() {
			return true
		}
		did, err := w.maintenanceTxn(func() (bool, error) { return w.expireStep(cutoff) })
		if err != nil {
			w.logger.Warn("signal store retention failed; will retry", zap.Error(err))
			return false
		}
		if !did {
			break
		}
	}
	if w.cfg.MaxSizeMiB <= 0 {
		return false
	}
	limit := w.cfg.MaxSizeMiB << 20
	for {
		if writesWaiting() {
			return true
		}
		used, err := w.usedBytes()
		if err != nil {
			w.logger.Warn("signal store size check failed", zap.Error(err))
			return false
		}
		if used <= limit {
			if w.maint.capBiting {
				w.logger.Info("signal store back under its size cap", zap.Int64("used_mib", used>>20),
					zap.Int64("max_size_mib", w.cfg.MaxSizeMiB))
				w.maint.capBiting = false
			}
			return false
		}
		if !w.maint.capBiting {
			w.logger.Warn("signal store size cap reached: deleting the oldest data before its retention expires",
				zap.Int64("used_mib", used>>20), zap.Int64("max_size_mib", w.cfg.MaxSizeMiB),
				zap.Duration("retention", w.cfg.Retention))
			w.maint.capBiting = true
		}
		did, err := w.maintenanceTxn(w.evictOldestStep)
		if err != nil {
			w.logger.Warn("signal store size-cap eviction failed; will retry", zap.Error(err))
			return false
		}
		if !did {
			w.logger.Error("signal store is over its size cap but holds no more data to delete; raise max_size_mib",
				zap.Int64("used_mib", used>>20), zap.Int64("max_size_mib", w.cfg.MaxSizeMiB))
			return false
		}
	}
}

func (w *writer) maintenanceTxn(step func() (bool, error)) (did bool, err error) {
	saved := w.snapshotSegments()
	if err := w.db.conn.Exec(`BEGIN IMMEDIATE`); err != nil {
		return false, fmt.Errorf("begin maintenance transaction: %w", err)
	}
	did, err = step()
	if err != nil {
		if rerr := w.db.conn.Exec(`ROLLBACK`); rerr != nil {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
		w.segments = saved
		return false, err
	}
	if err := w.db.conn.Exec(`COMMIT`); err != nil {
		w.segments = saved
		return false, fmt.Errorf("commit maintenance transaction: %w", err)
	}
	return did, nil
}

// usedBytes is the space held by live pages. Deleted rows free pages that
// later inserts reuse, so the file stops growing once this is under the cap.
func (w *writer) usedBytes() (int64, error) {
	var pages, free, size int64
	for _, p := range []struct {
		pragma string
		into   *int64
	}{{"page_count", &pages}, {"freelist_count", &free}, {"page_size", &size}} {
		err := w.db.query(`PRAGMA `+p.pragma, nil, func(st *sqlite3.Stmt) error {
			*p.into = st.ColumnInt64(0)
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return (pages - free) * size, nil
}

// expireStep deletes one chunk of data ingested before cutoff, or else one
// chunk of index and rollup rows whose event time is before it, of
// documents last updated before it and of resources no row references.
func (w *writer) expireStep(cutoff int64) (bool, error) {
	var table string
	var first, last int64
	err := w.db.query(`SELECT TableName, FirstRowId, LastRowId FROM ollystack_segments
		WHERE IngestedAt < ? ORDER BY IngestedAt LIMIT 1`, []any{cutoff}, func(st *sqlite3.Stmt) error {
		table, first, last = st.ColumnText(0), st.ColumnInt64(1), st.ColumnInt64(2)
		return nil
	})
	if err != nil {
		return false, err
	}
	if table != "" {
		return true, w.deleteSegmentChunk(table, first, last)
	}
	did, err := w.deleteIndexesBefore(cutoff)
	if err != nil {
		return false, err
	}
	docs, err := w.deleteDocumentsBefore(cutoff)
	if err != nil {
		return false, err
	}
	resources, err := w.sweepResourcesStep()
	return did || docs || resources, err
}

// evictOldestStep deletes the resources earlier evictions left unreferenced
// or, when there are none, one chunk of the oldest segment, whatever its
// age, and the index rows older than the oldest remaining span. Resources go
// first: they can hold much of the space (kilobytes of attributes per
// short-lived process), and freeing them may bring the store under its cap
// without deleting more data.
func (w *writer) evictOldestStep() (bool, error) {
	if swept, err := w.sweepResourcesStep(); err != nil || swept {
		return swept, err
	}
	var table string
	var first, last int64
	err := w.db.query(`SELECT TableName, FirstRowId, LastRowId FROM ollystack_segments
		ORDER BY IngestedAt LIMIT 1`, nil, func(st *sqlite3.Stmt) error {
		table, first, last = st.ColumnText(0), st.ColumnInt64(1), st.ColumnInt64(2)
		return nil
	})
	if err != nil {
		return false, err
	}
	if table == "" {
		return w.deleteIndexesBefore(w.now().UnixNano())
	}
	if err := w.deleteSegmentChunk(table, first, last); err != nil {
		return false, err
	}
	var oldest *int64
	err = w.db.query(`SELECT min(MinTime) FROM ollystack_segments WHERE TableName IN ('otel_traces', 'otel_logs')`,
		nil, func(st *sqlite3.Stmt) error {
			if st.ColumnType(0) != sqlite3.NULL {
				v := st.ColumnInt64(0)
				oldest = &v
			}
			return nil
		})
	if err != nil {
		return false, err
	}
	if oldest != nil {
		if _, err := w.deleteIndexesBefore(*oldest); err != nil {
			return false, err
		}
	}
	return true, nil
}

// deleteSegmentChunk deletes rows [first, min(last, first+chunk)) of a
// segment and the index rows pointing at them.
func (w *writer) deleteSegmentChunk(table string, first, last int64) error {
	end := min(last, first+maintenanceChunkRows-1)
	if !isDataTable(table) {
		return fmt.Errorf("segment names unknown table %q", table)
	}
	if err := w.db.exec(`DELETE FROM `+table+` WHERE rowid BETWEEN ? AND ?`, first, end); err != nil {
		return fmt.Errorf("expire %s rows: %w", table, err)
	}
	var indexDeletes []string
	switch table {
	case tableTraces:
		indexDeletes = []string{`DELETE FROM ollystack_trace_spans WHERE FirstRowId BETWEEN ? AND ?`}
	case tableLogs:
		indexDeletes = []string{
			`DELETE FROM ollystack_trace_logs WHERE FirstRowId BETWEEN ? AND ?`,
			`DELETE FROM ollystack_correlation_logs WHERE FirstRowId BETWEEN ? AND ?`,
		}
	default:
		if err := w.db.exec(`DELETE FROM ollystack_exemplar_traces WHERE MetricTable = ? AND RowId BETWEEN ? AND ?`,
			table, first, end); err != nil {
			return fmt.Errorf("expire exemplar index: %w", err)
		}
	}
	for _, q := range indexDeletes {
		if err := w.db.exec(q, first, end); err != nil {
			return fmt.Errorf("expire %s index: %w", table, err)
		}
	}
	open := w.segments[table]
	if end >= last {
		if err := w.db.exec(`DELETE FROM ollystack_segments WHERE TableName = ? AND FirstRowId = ?`, table, first); err != nil {
			return fmt.Errorf("drop expired segment: %w", err)
		}
		if open != nil && open.firstRowID == first {
			delete(w.segments, table)
		}
		return nil
	}
	if err := w.db.exec(`UPDATE ollystack_segments SET FirstRowId = ? WHERE TableName = ? AND FirstRowId = ?`,
		end+1, table, first); err != nil {
		return fmt.Errorf("shrink expired segment: %w", err)
	}
	if open != nil && open.firstRowID == first {
		// The next write must not resurrect the old key.
		delete(w.segments, table)
	}
	return nil
}

func isDataTable(t string) bool {
	for _, d := range dataTables {
		if d == t {
			return true
		}
	}
	return false
}

// deleteIndexesBefore deletes one chunk of correlation index rows last seen
// before cutoff, and the rollup buckets before it.
func (w *writer) deleteIndexesBefore(cutoff int64) (bool, error) {
	var deleted int64
	for _, d := range []struct {
		query string
		// A rollup bucket starting before cutoff still holds data after
		// it; only buckets that end before cutoff go.
		bucketed bool
	}{
		{query: `DELETE FROM ollystack_correlations WHERE (CorrelationId, TraceId) IN
			(SELECT CorrelationId, TraceId FROM ollystack_correlations WHERE LastSeen < ? LIMIT ?)`},
		{query: `DELETE FROM ollystack_service_edges WHERE (Bucket, Caller, Callee) IN
			(SELECT Bucket, Caller, Callee FROM ollystack_service_edges WHERE Bucket < ? LIMIT ?)`, bucketed: true},
		{query: `DELETE FROM ollystack_span_rollup WHERE (Bucket, ServiceName, SpanName) IN
			(SELECT Bucket, ServiceName, SpanName FROM ollystack_span_rollup WHERE Bucket < ? LIMIT ?)`, bucketed: true},
	} {
		arg := cutoff
		if d.bucketed {
			arg = cutoff - rollupBucketNanos
		}
		if err := w.db.exec(d.query, arg, maintenanceChunkRows); err != nil {
			return false, fmt.Errorf("expire index rows: %w", err)
		}
		deleted += w.db.conn.Changes()
	}
	return deleted > 0, nil
}
