// Package clickhouse is the signal store backend for OllyStack at scale: it
// reads the tables the contrib clickhouseexporter (v0.161.0) writes, plus
// OllyStack's own index tables and materialized views, through
// github.com/ClickHouse/clickhouse-go/v2, over the native protocol or HTTP. See
// README.md for the schema and how to run it against a cluster.
package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// ErrWriteUnsupported is returned by the Write methods: in a ClickHouse
// deployment the contrib clickhouseexporter writes (it owns the table
// layout, batching and async inserts); this backend reads what it wrote.
var ErrWriteUnsupported = errors.New("clickhouse signal store is read-only: export with the clickhouse exporter")

// Store reads the exporter's tables and OllyStack's index tables.
type Store struct {
	cfg    *Config
	t      tables
	conn   driver.Conn
	logger *zap.Logger

	// stop ends the background creation of views whose source tables
	// did not exist yet; done closes when it has returned.
	stop context.CancelFunc
	done chan struct{}
	// retry asks the deferred view loop to try at once.
	retry chan struct{}

	closeOnce sync.Once
	closeErr  error
}

var _ signalstore.Store = (*Store)(nil)

// viewRetryInterval is how often deferred views are retried: the exporter
// usually creates its tables within seconds of the extension starting.
var viewRetryInterval = 5 * time.Second

// Open connects, checks the server answers, and creates the schema when
// configured. Views whose source tables the exporter has not created yet
// are created in the background as soon as the tables appear.
func Open(ctx context.Context, cfg *Config, logger *zap.Logger) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid clickhouse config: %w", err)
	}
	opts, err := cfg.clientOptions(ctx)
	if err != nil {
		return nil, err
	}
	// Every statement names its database, so the session needs none; and
	// the database may not exist before the schema has run.
	opts.Auth.Database = ""
	conn, err := ch.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to clickhouse %q: %w", redactDSN(cfg.Endpoint), err)
	}
	return openWithConn(ctx, cfg, conn, logger)
}

// openWithConn finishes Open on a connection; tests pass a fake one.
func openWithConn(ctx context.Context, cfg *Config, conn driver.Conn, logger *zap.Logger) (*Store, error) {
	s := &Store{cfg: cfg, t: cfg.tables(), conn: conn, logger: logger, done: make(chan struct{}), retry: make(chan struct{}, 1)}
	if err := s.pingAndMigrate(ctx); err != nil {
		return nil, errors.Join(err, conn.Close())
	}
	return s, nil
}

func (s *Store) pingAndMigrate(ctx context.Context) error {
	pingCtx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	if err := s.conn.Ping(pingCtx); err != nil {
		return fmt.Errorf("ping clickhouse %q: %w", redactDSN(s.cfg.Endpoint), err)
	}
	if !s.cfg.CreateSchema {
		close(s.done)
		s.stop = func() {}
		return nil
	}
	pending, err := s.createSchema(ctx, newSchemaBuilder(s.cfg).statements())
	if err != nil {
		return err
	}
	bgCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	if len(pending) == 0 {
		close(s.done)
		return nil
	}
	s.logger.Info("clickhouse signal store: waiting for the exporter's tables to create the index views",
		zap.Int("views", len(pending)))
	go s.createDeferredViews(bgCtx, pending)
	return nil
}

// createSchema runs the statements in order and returns the views whose
// source table does not exist yet.
func (s *Store) createSchema(ctx context.Context, stmts []ddl) ([]ddl, error) {
	var pending []ddl
	for _, d := range stmts {
		if d.source != "" {
			exists, err := s.tablesExist(ctx, d.source)
			if err != nil {
				return nil, err
			}
			if !exists {
				pending = append(pending, d)
				continue
			}
		}
		if err := s.exec(ctx, d.sql); err != nil {
			return nil, fmt.Errorf("create %s: %w", d.name, err)
		}
	}
	return pending, nil
}

func (s *Store) createDeferredViews(ctx context.Context, pending []ddl) {
	defer close(s.done)
	ticker := time.NewTicker(viewRetryInterval)
	defer ticker.Stop()
	for len(pending) > 0 {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-s.retry:
		}
		// Statements are idempotent, so after an error the whole pending
		// list is simply tried again.
		next, err := s.createSchema(ctx, pending)
		if err != nil {
			if ctx.Err() == nil {
				s.logger.Warn("clickhouse signal store: creating index views failed, retrying", zap.Error(err))
			}
			continue
		}
		pending = next
	}
	s.logger.Info("clickhouse signal store: index views created")
}

// RetryDeferredViews makes the views still waiting for the exporter's tables
// be tried at once instead of at the next retry. The signalstore extension
// calls it when the collector's pipelines have started: the exporter has
// created its tables by then, and rows it inserts before a view exists are
// never indexed.
func (s *Store) RetryDeferredViews() {
	select {
	case s.retry <- struct{}{}:
	default:
	}
}

func (s *Store) tablesExist(ctx context.Context, names ...string) (bool, error) {
	st := tableExistsSQL(s.t.database, names)
	missing := make(map[string]bool, len(names))
	for _, n := range names {
		missing[n] = true
	}
	err := s.query(ctx, st, func(rows driver.Rows) error {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		delete(missing, name)
		return nil
	})
	return len(missing) == 0, err
}

func (s *Store) exec(ctx context.Context, sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	return s.conn.Exec(ctx, sql, args...)
}

// query runs a statement under the query timeout and calls scan for each
// row.
func (s *Store) query(ctx context.Context, st statement, scan func(driver.Rows) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	if n := st.maxQuerySize(); n > 0 {
		// Long trace-id lists: see defaultMaxQuerySize.
		ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"max_query_size": n}))
	}
	rows, err := s.conn.Query(ctx, st.sql, st.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Close stops background work and closes the connections.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stop()
		<-s.done
		s.closeErr = s.conn.Close()
	})
	return s.closeErr
}

// WriteTraces implements signalstore.Writer by refusing: see
// ErrWriteUnsupported.
func (s *Store) WriteTraces(context.Context, ptrace.Traces) error { return ErrWriteUnsupported }

// WriteLogs implements signalstore.Writer by refusing.
func (s *Store) WriteLogs(context.Context, plog.Logs) error { return ErrWriteUnsupported }

// WriteMetrics implements signalstore.Writer by refusing.
func (s *Store) WriteMetrics(context.Context, pmetric.Metrics) error { return ErrWriteUnsupported }
