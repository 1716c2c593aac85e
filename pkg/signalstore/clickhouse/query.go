package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Query implements signalstore.QueryRunner.
func (s *Store) Query(ctx context.Context, q signalstore.Query) (*signalstore.QueryResult, error) {
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("invalid query: %w", err)
	}
	start, end := q.Window(time.Now())
	cq, err := newReadSQL(s.cfg).compileQuery(&q, start, end)
	if err != nil {
		return nil, fmt.Errorf("typed query: %w", err)
	}
	res := &signalstore.QueryResult{Columns: cq.columns, Rows: [][]any{}}
	err = s.query(ctx, cq.stmt, func(rows driver.Rows) error {
		if len(res.Rows) == cq.limit {
			res.Truncated = true
			return nil
		}
		row, err := scanQueryRow(rows, cq)
		if err != nil {
			return err
		}
		res.Rows = append(res.Rows, row)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("typed query: %w", err)
	}
	return res, nil
}

// scanQueryRow reads one row into the Go types QueryResult promises. The
// compiler casts every column to one ClickHouse type per ColumnType:
// String, Int64, Float64, DateTime64, and Nullable(Float64) for aggregates
// that can be empty.
func scanQueryRow(rows driver.Rows, cq *compiledQuery) ([]any, error) {
	dest := make([]any, len(cq.columns))
	for i, col := range cq.columns {
		switch {
		case cq.nullable[i]:
			dest[i] = new(*float64)
		case col.Type == signalstore.ColumnString:
			dest[i] = new(string)
		case col.Type == signalstore.ColumnTime:
			dest[i] = new(time.Time)
		case col.Type == signalstore.ColumnFloat:
			dest[i] = new(float64)
		default: // int, duration (raw durations are Int64 nanoseconds)
			dest[i] = new(int64)
		}
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	row := make([]any, len(cq.columns))
	for i, col := range cq.columns {
		switch d := dest[i].(type) {
		case **float64:
			if *d != nil {
				row[i] = fromFloat(col.Type, **d)
			}
		case *string:
			row[i] = *d
		case *time.Time:
			row[i] = d.UTC()
		case *float64:
			row[i] = *d
		case *int64:
			if col.Type == signalstore.ColumnDuration {
				row[i] = time.Duration(*d)
			} else {
				row[i] = *d
			}
		}
	}
	return row, nil
}

func fromFloat(t signalstore.ColumnType, f float64) any {
	switch t {
	case signalstore.ColumnDuration:
		return nanos(f)
	case signalstore.ColumnInt:
		return int64(f)
	default:
		return f
	}
}
