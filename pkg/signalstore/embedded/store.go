package embedded

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/stats"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Store is the embedded backend. It implements signalstore.Store,
// signalstore.Purger, signalstore.DocumentStore and io.Closer. One goroutine owns the only write
// connection and commits concurrent writes together (group commit); reads
// run on a pool of WAL reader connections and never block writes.
type Store struct {
	cfg    Config
	logger *zap.Logger

	requests   chan *writeRequest
	stop       chan struct{} // closed by Close: no new work
	writerDone chan struct{} // closed when the writer goroutine has exited
	// checkpointerDone is closed when the checkpoint goroutine has exited.
	checkpointerDone chan struct{}
	readers          chan *dbConn
	closeOnce        sync.Once
	closeErr         error
}

var (
	_ signalstore.Store  = (*Store)(nil)
	_ signalstore.Purger = (*Store)(nil)
)

// Open opens (creating if needed) the database at cfg.Path and starts the
// writer. The caller must Close the store.
func Open(ctx context.Context, cfg *Config, logger *zap.Logger) (*Store, error) {
	return open(ctx, cfg, logger, time.Now)
}

// open is Open with the clock that retention and segment bookkeeping use.
func open(ctx context.Context, cfg *Config, logger *zap.Logger, now func() time.Time) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid embedded store config: %w", err)
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	wconn, err := openConn(cfg.Path, cfg)
	if err != nil {
		return nil, err
	}
	if err := initWriteConn(ctx, wconn, cfg); err != nil {
		_ = wconn.close()
		return nil, fmt.Errorf("open store %q: %w", cfg.Path, err)
	}
	s := &Store{
		cfg:        *cfg,
		logger:     logger,
		requests:   make(chan *writeRequest, 64),
		stop:       make(chan struct{}),
		writerDone: make(chan struct{}),
		readers:    make(chan *dbConn, cfg.ReadConnections),

		checkpointerDone: make(chan struct{}),
	}
	cpConn, err := openConn(cfg.Path, cfg)
	if err != nil {
		_ = wconn.close()
		return nil, fmt.Errorf("open store %q: %w", cfg.Path, err)
	}
	for range cfg.ReadConnections {
		rconn, err := openReadConn(cfg)
		if err != nil {
			for len(s.readers) > 0 {
				_ = (<-s.readers).close()
			}
			_ = cpConn.close()
			_ = wconn.close()
			return nil, fmt.Errorf("open store %q: %w", cfg.Path, err)
		}
		s.readers <- rconn
	}
	w := newWriter(wconn, &s.cfg, logger, now)
	go w.run(s.requests, s.stop, s.writerDone)
	go s.runCheckpointer(cpConn)
	return s, nil
}

func initWriteConn(ctx context.Context, c *dbConn, cfg *Config) error {
	old := c.conn.SetInterrupt(ctx)
	defer c.conn.SetInterrupt(old)
	sync := "FULL"
	if cfg.Sync == SyncNormal {
		sync = "NORMAL"
	}
	// journal_size_limit truncates the WAL after checkpoints so a burst does
	// not leave a huge -wal file behind.
	// The writer never checkpoints itself (wal_autocheckpoint = 0): the
	// checkpoint goroutine does, off the ingest path.
	if err := c.conn.Exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ` + sync + `;
		PRAGMA journal_size_limit = 67108864; PRAGMA wal_autocheckpoint = 0;`); err != nil {
		return fmt.Errorf("enable WAL: %w", err)
	}
	if err := c.conn.Exec(schemaDDL); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	var version string
	err := c.query(`SELECT Value FROM ollystack_meta WHERE Key = 'schema_version'`, nil, func(st *sqlite3.Stmt) error {
		version = st.ColumnText(0)
		return nil
	})
	if err != nil {
		return err
	}
	switch version {
	case "":
		if err := c.exec(`INSERT INTO ollystack_meta (Key, Value) VALUES ('schema_version', ?)`, schemaVersion); err != nil {
			return err
		}
	case schemaVersion:
	default:
		return fmt.Errorf("database schema version %q, this build reads %q", version, schemaVersion)
	}
	return seedResourceUses(c)
}

func openReadConn(cfg *Config) (*dbConn, error) {
	c, err := openConn(cfg.Path, cfg)
	if err != nil {
		return nil, err
	}
	if err := c.conn.Exec(`PRAGMA query_only = 1;`); err != nil {
		_ = c.close()
		return nil, fmt.Errorf("configure reader: %w", err)
	}
	if err := stats.Register(c.conn); err != nil {
		_ = c.close()
		return nil, fmt.Errorf("register statistics functions: %w", err)
	}
	return c, nil
}

// Close stops accepting writes, commits the writes already queued, and
// closes every connection, waiting for reads in flight to finish. It is safe
// to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.writerDone
		<-s.checkpointerDone
		s.closeErr = s.closeReaders()
	})
	return s.closeErr
}

func (s *Store) closeReaders() error {
	var errs []error
	for range cap(s.readers) {
		c := <-s.readers
		if c == nil {
			continue
		}
		if err := c.close(); err != nil {
			errs = append(errs, fmt.Errorf("close reader: %w", err))
		}
	}
	return errors.Join(errs...)
}

// withReader runs fn on a pooled reader connection, interrupting SQLite
// when ctx is done.
func (s *Store) withReader(ctx context.Context, fn func(c *dbConn) error) error {
	select {
	case <-s.stop:
		return signalstore.ErrClosed
	default:
	}
	var c *dbConn
	select {
	case c = <-s.readers:
	case <-s.stop:
		return signalstore.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { s.readers <- c }()
	old := c.conn.SetInterrupt(ctx)
	defer c.conn.SetInterrupt(old)
	err := s.safeRead(&c, fn)
	if err != nil && ctx.Err() != nil && errors.Is(err, sqlite3.INTERRUPT) {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return err
}

// safeRead runs fn, turning a panic inside SQLite (heap exhausted) into an
// error and replacing the reader connection, whose state is then unknown.
func (s *Store) safeRead(c **dbConn, fn func(c *dbConn) error) (err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		err = fmt.Errorf("signal store read failed inside SQLite: %v", r)
		s.logger.Error("signal store reader recovered from a panic; reopening its connection", zap.Error(err))
		func() {
			defer func() { _ = recover() }()
			_ = (*c).close()
		}()
		fresh, oerr := openReadConn(&s.cfg)
		if oerr != nil {
			// Keep the pool size: a broken slot fails its next use
			// instead of shrinking the pool for good.
			s.logger.Error("signal store cannot reopen a reader", zap.Error(oerr))
			return
		}
		*c = fresh
	}()
	return fn(*c)
}

// WriteTraces stores the spans. It returns once they are committed.
func (s *Store) WriteTraces(ctx context.Context, td ptrace.Traces) error {
	if td.SpanCount() == 0 {
		return nil
	}
	b := encodeTraces(td, s.cfg.CorrelationAttribute)
	return s.submit(ctx, &writeRequest{traces: b, rows: len(b.spans)})
}

// WriteLogs stores the log records. It returns once they are committed.
func (s *Store) WriteLogs(ctx context.Context, ld plog.Logs) error {
	if ld.LogRecordCount() == 0 {
		return nil
	}
	b := encodeLogs(ld, s.cfg.CorrelationAttribute)
	return s.submit(ctx, &writeRequest{logs: b, rows: len(b.logs)})
}

// WriteMetrics stores gauge, sum and histogram points. Exponential
// histograms and summaries are dropped with a debug log line.
func (s *Store) WriteMetrics(ctx context.Context, md pmetric.Metrics) error {
	b, skipped := encodeMetrics(md)
	if skipped > 0 {
		s.logger.Debug("embedded signal store does not keep exponential histograms and summaries", zap.Int("points_dropped", skipped))
	}
	if len(b.points) == 0 {
		return nil
	}
	return s.submit(ctx, &writeRequest{metrics: b, rows: len(b.points)})
}

// Purge deletes all data, documents included.
func (s *Store) Purge(ctx context.Context) error {
	return s.submit(ctx, &writeRequest{purge: true, rows: 1})
}

// submit hands a request to the writer and waits for its commit. If ctx ends
// before the writer has taken the request, the request is abandoned: submit
// returns ctx.Err() and nothing is written, so a caller that retries stores
// the data once. The writer takes requests only while it holds the write
// lock, so once taken the commit waits on no one; submit then waits for its
// outcome even past ctx's end (usually milliseconds: the rows' own I/O and
// fsync), and a nil error still means committed.
func (s *Store) submit(ctx context.Context, req *writeRequest) error {
	req.done = make(chan error, 1)
	select {
	case <-s.stop:
		return signalstore.ErrClosed
	default:
	}
	select {
	case s.requests <- req:
	case <-s.stop:
		return signalstore.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		if req.abandon() {
			return ctx.Err()
		}
		// Taken: the writer answers every request it takes.
		return <-req.done
	case <-s.writerDone:
		// The writer drains the queue before exiting, so a request it
		// answered has its reply waiting; one sent after it exited has not.
		select {
		case err := <-req.done:
			return err
		default:
			return signalstore.ErrClosed
		}
	}
}
