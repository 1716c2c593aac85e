package clickhouse

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// fakeConn stands in for a server in tests of the Go side of the backend
// (which statements run in which order, how rows map to the model). It
// says nothing about whether ClickHouse accepts the SQL: only a real
// server (make test-clickhouse) does.
type fakeConn struct {
	driver.Conn // unimplemented methods panic

	mu      sync.Mutex
	execs   []string
	queries []statement
	// answer returns the rows for a query, matched by the caller on the
	// SQL text; nil means no rows.
	answer func(st statement) [][]any
	// execErr, if set, may fail a statement.
	execErr func(sql string) error
}

func (c *fakeConn) Ping(context.Context) error { return nil }
func (c *fakeConn) Close() error               { return nil }

func (c *fakeConn) Exec(_ context.Context, sql string, _ ...any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.execErr != nil {
		if err := c.execErr(sql); err != nil {
			return err
		}
	}
	c.execs = append(c.execs, sql)
	return nil
}

func (c *fakeConn) Query(ctx context.Context, sql string, args ...any) (driver.Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st := statement{sql: sql, args: args}
	c.mu.Lock()
	c.queries = append(c.queries, st)
	answer := c.answer
	c.mu.Unlock()
	var rows [][]any
	if answer != nil {
		rows = answer(st)
	}
	return &fakeRows{rows: rows, next: -1}, nil
}

func (c *fakeConn) executed() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.execs...)
}

func (c *fakeConn) queried(fragment string) []statement {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []statement
	for _, q := range c.queries {
		if strings.Contains(q.sql, fragment) {
			out = append(out, q)
		}
	}
	return out
}

type fakeRows struct {
	driver.Rows
	rows [][]any
	next int
}

func (r *fakeRows) Next() bool   { r.next++; return r.next < len(r.rows) }
func (r *fakeRows) Err() error   { return nil }
func (r *fakeRows) Close() error { return nil }

// Scan assigns each canned value to its destination, which must have
// exactly the value's type (as clickhouse-go's typed columns demand).
func (r *fakeRows) Scan(dest ...any) error {
	row := r.rows[r.next]
	if len(dest) != len(row) {
		return fmt.Errorf("scan: %d destinations for %d columns", len(dest), len(row))
	}
	for i, v := range row {
		d := reflect.ValueOf(dest[i]).Elem()
		val := reflect.ValueOf(v)
		if v == nil {
			d.Set(reflect.Zero(d.Type()))
			continue
		}
		if d.Kind() == reflect.Pointer && val.Type() == d.Type().Elem() {
			p := reflect.New(val.Type())
			p.Elem().Set(val)
			d.Set(p)
			continue
		}
		if val.Type() != d.Type() {
			return fmt.Errorf("scan column %d: %s into %s", i, val.Type(), d.Type())
		}
		d.Set(val)
	}
	return nil
}
