package embedded

import (
	"context"
	"fmt"
	"math/bits"
	"path/filepath"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"
)

// dbConn is one SQLite connection with its prepared statements. It is not
// safe for concurrent use: the writer goroutine owns one, and readers borrow
// one from the pool at a time.
type dbConn struct {
	conn  *sqlite3.Conn
	stmts map[string]*sqlite3.Stmt
}

// connMaxMemory is the heap each connection's SQLite (a Wasm instance) may
// grow to. The library default, 256 MiB, is too tight for a 64 MiB page
// cache plus batches carrying large attribute values, and running out makes
// the library panic. The space is reserved, not committed, so a generous
// cap costs nothing until used. A variable so tests can provoke exhaustion.
var connMaxMemory int64 = 1 << 30

// maxCacheSizeMiB is the largest cache_size_mib Validate accepts: half of
// connMaxMemory. The page cache shares the heap with everything else a
// connection holds: prepared statements, the rows of a batch being written
// (attribute values of megabytes), and, with temp_store = MEMORY, the sort
// and GROUP BY b-trees and percentile inputs of queries. A cache allowed to
// fill the whole heap makes commits fail with "out of memory" once it is
// warm; half leaves those a fixed 512 MiB at the default.
func maxCacheSizeMiB() int {
	return int(connMaxMemory / 2 >> 20)
}

// openConn opens the database file. The path is made absolute first: SQLite
// would parse a name starting with "file:" as a URI, and an absolute path
// never starts with it.
func openConn(path string, cfg *Config) (*dbConn, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolve database path %q: %w", path, err)
	}
	ctx := context.Background()
	if bits.UintSize == 64 {
		ctx = sqlite3.WithMaxMemory(ctx, connMaxMemory)
	}
	conn, err := sqlite3.OpenContext(ctx, abs)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	c := &dbConn{conn: conn, stmts: map[string]*sqlite3.Stmt{}}
	if err := conn.BusyTimeout(10 * time.Second); err != nil {
		_ = c.close()
		return nil, fmt.Errorf("set busy timeout: %w", err)
	}
	pragmas := fmt.Sprintf(`
		PRAGMA cache_size = -%d;
		PRAGMA temp_store = MEMORY;
		PRAGMA foreign_keys = OFF;`, cfg.CacheSizeMiB*1024)
	if err := conn.Exec(pragmas); err != nil {
		_ = c.close()
		return nil, fmt.Errorf("configure connection: %w", err)
	}
	return c, nil
}

// prepare returns a cached statement for the query text. Only texts built
// inside this package reach it.
func (c *dbConn) prepare(query string) (*sqlite3.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, tail, err := c.conn.Prepare(query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", firstLine(query), err)
	}
	if tail != "" {
		_ = st.Close()
		return nil, fmt.Errorf("prepare %q: more than one statement", firstLine(query))
	}
	// Typed queries produce many distinct texts; keep the cache bounded.
	if len(c.stmts) >= 256 {
		c.dropStatements()
	}
	c.stmts[query] = st
	return st, nil
}

func (c *dbConn) dropStatements() {
	for q, st := range c.stmts {
		_ = st.Close()
		delete(c.stmts, q)
	}
}

// exec runs a statement that returns no rows.
func (c *dbConn) exec(query string, args ...any) error {
	st, err := c.prepare(query)
	if err != nil {
		return err
	}
	if err := bindArgs(st, args); err != nil {
		return err
	}
	if err := st.Exec(); err != nil {
		return fmt.Errorf("exec %q: %w", firstLine(query), err)
	}
	return nil
}

// query runs a statement and calls fn for each row. The statement is reset
// when query returns, even when fn fails.
func (c *dbConn) query(query string, args []any, fn func(st *sqlite3.Stmt) error) (err error) {
	st, err := c.prepare(query)
	if err != nil {
		return err
	}
	if err := bindArgs(st, args); err != nil {
		return err
	}
	defer func() {
		if rerr := st.Reset(); rerr != nil && err == nil {
			err = fmt.Errorf("query %q: %w", firstLine(query), rerr)
		}
	}()
	for st.Step() {
		if err := fn(st); err != nil {
			return err
		}
	}
	if err := st.Err(); err != nil {
		return fmt.Errorf("query %q: %w", firstLine(query), err)
	}
	return nil
}

func (c *dbConn) close() error {
	c.dropStatements()
	return c.conn.Close()
}

func bindArgs(st *sqlite3.Stmt, args []any) error {
	if err := st.ClearBindings(); err != nil {
		return err
	}
	for i, a := range args {
		var err error
		p := i + 1
		switch v := a.(type) {
		case nil:
			err = st.BindNull(p)
		case int:
			err = st.BindInt64(p, int64(v))
		case int32:
			err = st.BindInt64(p, int64(v))
		case uint32:
			err = st.BindInt64(p, int64(v))
		case int64:
			err = st.BindInt64(p, v)
		case bool:
			err = st.BindBool(p, v)
		case float64:
			err = st.BindFloat(p, v)
		case *float64:
			if v == nil {
				err = st.BindNull(p)
			} else {
				err = st.BindFloat(p, *v)
			}
		case string:
			err = st.BindText(p, v)
		case []byte:
			if v == nil {
				v = []byte{}
			}
			err = st.BindBlob(p, v)
		default:
			return fmt.Errorf("bind parameter %d: unsupported type %T", p, a)
		}
		if err != nil {
			return fmt.Errorf("bind parameter %d: %w", p, err)
		}
	}
	return nil
}

// firstLine shortens a query for error messages.
func firstLine(q string) string {
	q = strings.TrimSpace(q)
	if i := strings.IndexByte(q, '\n'); i >= 0 {
		q = q[:i]
	}
	if len(q) > 80 {
		q = q[:80]
	}
	return q
}
