package embedded

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ncruces/go-sqlite3"
	"go.uber.org/zap"
)

// writeRequest is one Write call (or Purge, or PutDocument) waiting for its
// commit.
type writeRequest struct {
	traces   *traceBatch
	logs     *logBatch
	metrics  *metricBatch
	document *documentRow
	purge    bool
	rows     int
	done     chan error // buffered(1): the writer never blocks on a reply
	// state is requestQueued until the writer takes the request or its
	// caller, whose context ended, abandons it.
	state atomic.Int32
}

// A queued request is either taken by the writer or abandoned by its
// caller, never both: each side leaves requestQueued by compare-and-swap,
// and the loser defers to the winner. A write reported as failed with the
// context's error is therefore never committed later, so the exporter's
// retry stores it once instead of once per attempt.
const (
	requestQueued int32 = iota
	requestTaken
	requestAbandoned
)

// take claims the request for the transaction being written. It is true
// for a request the writer took before (retried alone after its group
// failed) and false for one its caller abandoned.
func (r *writeRequest) take() bool {
	return r.state.CompareAndSwap(requestQueued, requestTaken) || r.state.Load() == requestTaken
}

// abandon withdraws the request; false means the writer has taken it.
func (r *writeRequest) abandon() bool {
	return r.state.CompareAndSwap(requestQueued, requestAbandoned)
}

// writer owns the only write connection. It runs in one goroutine, so none
// of its state needs locking.
type writer struct {
	db     *dbConn
	cfg    *Config
	logger *zap.Logger

	// resourceIDs caches committed resource hashes → ResourceId, at most
	// maxCachedResources of them; the resource sweep drops the entries of
	// the resources it deletes.
	resourceIDs map[[sha256.Size]byte]int64
	// segments are the open (still growing) segment of each data table;
	// replaced holds segments closed during the current transaction, which
	// still need their final state saved.
	segments map[string]*segment
	replaced []tableSegment
	// maint is retention / size-cap bookkeeping.
	maint maintenanceState
	// now is time.Now except in tests that move time forward.
	now func() time.Time
}

// segment is a run of consecutive rowids of one table, with the bounds of
// event time and the ingest time of its last commit. Segments are the unit
// of time pruning and of retention.
type segment struct {
	firstRowID, lastRowID int64
	minTime, maxTime      int64
	ingestedAt            int64
	rows                  int
	opened                time.Time
}

type tableSegment struct {
	table string
	seg   *segment
}

// A segment is closed (a new one started) after this many rows or this long,
// which keeps the segment table small (tens of rows per million) while
// making retention and pruning granular enough.
const (
	segmentMaxRows = 20_000
	segmentMaxAge  = 5 * time.Minute
)

func newWriter(db *dbConn, cfg *Config, logger *zap.Logger, now func() time.Time) *writer {
	return &writer{
		now:         now,
		db:          db,
		cfg:         cfg,
		logger:      logger,
		resourceIDs: map[[sha256.Size]byte]int64{},
		segments:    map[string]*segment{},
	}
}

func (w *writer) run(requests <-chan *writeRequest, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	defer func() {
		if w.db == nil {
			return
		}
		if err := w.db.close(); err != nil {
			w.logger.Warn("closing the signal store write connection failed", zap.Error(err))
		}
	}()
	if err := registerWriterFunctions(w.db.conn); err != nil {
		w.logger.Error("signal store writer cannot start", zap.Error(err))
		w.failAll(requests, stop, err)
		return
	}
	ticker := time.NewTicker(w.cfg.MaintenanceInterval)
	defer ticker.Stop()
	maintenanceDue := true
	for {
		select {
		case req := <-requests:
			w.commitGroup(req, requests)
		case <-ticker.C:
			maintenanceDue = true
		case <-stop:
			for {
				select {
				case req := <-requests:
					w.commitGroup(req, requests)
				default:
					return
				}
			}
		}
		if maintenanceDue {
			// Maintenance yields between chunks to queued writes and to
			// Close, so that a long expiry pass never holds up shutdown:
			// the next start resumes it.
			maintenanceDue = w.maintain(func() bool {
				select {
				case <-stop:
					return true
				default:
					return len(requests) > 0
				}
			})
		}
	}
}

// failAll answers every request with err until stop.
func (w *writer) failAll(requests <-chan *writeRequest, stop <-chan struct{}, err error) {
	for {
		select {
		case req := <-requests:
			req.done <- err
		case <-stop:
			return
		}
	}
}

// collect takes first and whatever else is already queued, up to
// MaxBatchRows, so that one fsync covers them all; it skips requests whose
// callers abandoned them (they have had their answer). A nil queued takes
// first alone.
func (w *writer) collect(first *writeRequest, queued <-chan *writeRequest) []*writeRequest {
	var group []*writeRequest
	rows := 0
	take := func(req *writeRequest) {
		if req.take() {
			group = append(group, req)
			rows += req.rows
		}
	}
	take(first)
	for queued != nil && rows < w.cfg.MaxBatchRows {
		select {
		case req := <-queued:
			take(req)
		default:
			return group
		}
	}
	return group
}

// commitGroup writes first and the requests queued behind it in one
// transaction and answers each. If that fails, each request is retried in
// its own transaction so that one bad request does not fail the others.
func (w *writer) commitGroup(first *writeRequest, queued <-chan *writeRequest) {
	group, err := w.safeCommit(first, queued)
	if err == nil || len(group) <= 1 {
		for _, req := range group {
			req.done <- err
		}
		if err != nil && len(group) == 0 {
			w.logger.Warn("signal store write transaction failed after every caller gave up", zap.Error(err))
		}
		return
	}
	for _, req := range group {
		_, err := w.safeCommit(req, nil)
		req.done <- err
	}
}

// safeCommit runs one write transaction over first and, unless queued is
// nil, the requests waiting in it; it returns the requests it took, which
// the caller answers.
//
// Requests are taken only once BEGIN IMMEDIATE holds the write lock. Waiting
// for that lock (while another process holds it, up to the busy timeout) is
// the one wait of a commit that is not the commit's own work; a caller whose
// context ends meanwhile abandons its request and it is never written. A
// taken request's caller waits for the outcome, which no longer waits on
// anyone.
//
// A panic inside SQLite (the library panics when its heap is exhausted)
// becomes an error for the group and the connection, whose state is then
// unknown, is replaced; WAL recovery discards the uncommitted transaction.
// The collector keeps running.
func (w *writer) safeCommit(first *writeRequest, queued <-chan *writeRequest) (group []*writeRequest, err error) {
	if w.db == nil {
		if err := w.reopen(); err != nil {
			return w.collect(first, nil), err
		}
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("signal store write failed inside SQLite: %v", r)
			w.logger.Error("signal store writer recovered from a panic; reopening the database", zap.Error(err))
			_ = w.reopen()
		}
	}()
	if err := w.db.conn.Exec(`BEGIN IMMEDIATE`); err != nil {
		return w.collect(first, nil), fmt.Errorf("begin write transaction: %w", err)
	}
	group = w.collect(first, queued)
	if len(group) == 0 {
		// Every caller gave up while the lock was awaited.
		return nil, w.db.conn.Exec(`ROLLBACK`)
	}
	return group, w.commit(group)
}

// reopen replaces the write connection and forgets every cache tied to it.
func (w *writer) reopen() error {
	if w.db != nil {
		func() {
			defer func() { _ = recover() }() // closing a broken instance may panic too
			_ = w.db.close()
		}()
		w.db = nil
	}
	db, err := openConn(w.cfg.Path, w.cfg)
	if err == nil {
		err = initWriteConn(context.Background(), db, w.cfg)
		if err == nil {
			err = registerWriterFunctions(db.conn)
		}
		if err != nil {
			_ = db.close()
		}
	}
	if err != nil {
		return fmt.Errorf("reopen signal store: %w", err)
	}
	w.db = db
	clear(w.resourceIDs)
	w.segments = map[string]*segment{}
	w.replaced = nil
	return nil
}

// commit writes the group inside the transaction safeCommit began, and
// commits it or rolls it back.
func (w *writer) commit(group []*writeRequest) (err error) {
	savedSegments := w.snapshotSegments()
	tx := newTxnState()
	defer func() {
		if err == nil {
			return
		}
		if rerr := w.db.conn.Exec(`ROLLBACK`); rerr != nil && !errors.Is(rerr, sqlite3.ERROR) {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
		w.segments = savedSegments
		w.replaced = nil
	}()
	now := w.now()
	for _, req := range group {
		switch {
		case req.purge:
			err = w.purge()
			// The purge empties every table: the resource cache is stale
			// whether or not the transaction commits, and what earlier
			// requests of this group accumulated (index rows, resources,
			// segments) must not be written back after it.
			clear(w.resourceIDs)
			w.segments = map[string]*segment{}
			w.replaced = nil
			tx = newTxnState()
		case req.traces != nil:
			err = w.insertTraces(req.traces, tx, now)
		case req.logs != nil:
			err = w.insertLogs(req.logs, tx, now)
		case req.metrics != nil:
			err = w.insertMetrics(req.metrics, tx, now)
		case req.document != nil:
			err = w.putDocument(req.document)
		}
		if err != nil {
			return err
		}
	}
	if err = w.flushTxnState(tx); err != nil {
		return err
	}
	if err = w.saveSegments(now); err != nil {
		return err
	}
	if err = w.db.conn.Exec(`COMMIT`); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	w.cacheResources(tx.newResources)
	return nil
}

func (w *writer) purge() error {
	for _, t := range purgeTables {
		if err := w.db.exec(`DELETE FROM ` + t); err != nil {
			return fmt.Errorf("purge %s: %w", t, err)
		}
	}
	return nil
}

// resolveResources returns the ResourceId of each resource of a batch,
// inserting new ones. New ids become cacheable only after commit.
func (w *writer) resolveResources(rs *resourceSet, tx *txnState) ([]int64, error) {
	ids := make([]int64, len(rs.rows))
	for i := range rs.rows {
		r := &rs.rows[i]
		if id, ok := w.resourceIDs[r.hash]; ok {
			ids[i] = id
			continue
		}
		if id, ok := tx.newResources[r.hash]; ok {
			ids[i] = id
			continue
		}
		var id int64
		err := w.db.query(`SELECT ResourceId FROM ollystack_resources WHERE Hash = ?`, []any{r.hash[:]}, func(st *sqlite3.Stmt) error {
			id = st.ColumnInt64(0)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if id == 0 {
			if err := w.db.exec(`INSERT INTO ollystack_resources (Hash, ServiceName, ResourceAttributes) VALUES (?, ?, ?)`,
				r.hash[:], r.serviceName, r.attrsJSON); err != nil {
				return nil, fmt.Errorf("insert resource: %w", err)
			}
			id = w.db.conn.LastInsertRowID()
		}
		tx.newResources[r.hash] = id
		ids[i] = id
	}
	return ids, nil
}

// extend records rows [first, last] with event times [minT, maxT] in the
// table's open segment, starting a new segment when it is full or old.
func (w *writer) extend(table string, first, last, minT, maxT int64, now time.Time) {
	seg := w.segments[table]
	if seg == nil || seg.rows >= segmentMaxRows || now.Sub(seg.opened) >= segmentMaxAge || first != seg.lastRowID+1 {
		if seg != nil && seg.ingestedAt == now.UnixNano() {
			w.replaced = append(w.replaced, tableSegment{table, seg})
		}
		seg = &segment{firstRowID: first, minTime: minT, maxTime: maxT, opened: now}
		w.segments[table] = seg
	}
	seg.lastRowID = last
	seg.minTime = min(seg.minTime, minT)
	seg.maxTime = max(seg.maxTime, maxT)
	seg.rows += int(last - first + 1)
	seg.ingestedAt = now.UnixNano()
}

func (w *writer) snapshotSegments() map[string]*segment {
	out := make(map[string]*segment, len(w.segments))
	for t, s := range w.segments {
		cp := *s
		out[t] = &cp
	}
	return out
}

func (w *writer) saveSegments(now time.Time) error {
	touched := w.replaced
	w.replaced = nil
	for table, seg := range w.segments {
		if seg.ingestedAt == now.UnixNano() {
			touched = append(touched, tableSegment{table, seg})
		}
	}
	for _, ts := range touched {
		table, seg := ts.table, ts.seg
		err := w.db.exec(`INSERT INTO ollystack_segments (TableName, FirstRowId, LastRowId, MinTime, MaxTime, IngestedAt)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (TableName, FirstRowId) DO UPDATE SET
				LastRowId = excluded.LastRowId, MinTime = excluded.MinTime,
				MaxTime = excluded.MaxTime, IngestedAt = excluded.IngestedAt`,
			table, seg.firstRowID, seg.lastRowID, seg.minTime, seg.maxTime, seg.ingestedAt)
		if err != nil {
			return fmt.Errorf("save segment of %s: %w", table, err)
		}
	}
	return nil
}
