package signalstore

import (
	"strings"
	"time"
)

// Backend-neutral decisions every backend makes the same way when it
// compiles a validated Query; only the SQL dialect stays in the backend.

// BindValue is the filter's operand as a backend binds it: int64
// nanoseconds for duration fields, int64 for int fields, lower-case hex for
// trace_id, and the string otherwise.
func (f Filter) BindValue() (any, error) {
	switch f.Field.Kind() {
	case "duration":
		d, err := f.Value.DurationValue()
		return int64(d), err
	case "int":
		return f.Value.IntValue()
	}
	if f.Field == FieldTraceID {
		return strings.ToLower(string(f.Value)), nil
	}
	return string(f.Value), nil
}

// ColumnType is the type of the group-by's result column: int for int
// fields, string otherwise.
func (g GroupBy) ColumnType() ColumnType {
	if g.Field.Kind() == "int" {
		return ColumnInt
	}
	return ColumnString
}

// ColumnType is the type of the aggregation's result column: count is an
// int, rate a float; avg and the percentiles keep the field's type
// (duration for duration, float otherwise), and min and max return a value
// of the field itself (duration, or int for int fields).
func (a Aggregation) ColumnType() ColumnType {
	valueType := ColumnFloat
	if a.Field == FieldDuration {
		valueType = ColumnDuration
	}
	switch a.Func {
	case AggCount:
		return ColumnInt
	case AggRate:
		return ColumnFloat
	case AggMin, AggMax:
		if valueType == ColumnFloat {
			return ColumnInt
		}
	}
	return valueType
}

// RateSeconds is what AggRate divides the count by for a query over
// [start, end): the interval when set, otherwise the window, in seconds,
// kept above zero.
func (q *Query) RateSeconds(start, end time.Time) float64 {
	window := end.Sub(start)
	if q.Interval > 0 {
		window = time.Duration(q.Interval)
	}
	return max(window.Seconds(), 1e-9)
}

// ColumnOrder is one explicit sort key: a result column by position
// (0-based) and its direction.
type ColumnOrder struct {
	Index int
	Desc  bool
}

// ExplicitOrder resolves OrderBy against the result columns, in order;
// names not among the columns are skipped (Validate rejects them).
func (q *Query) ExplicitOrder(columns []Column) []ColumnOrder {
	var keys []ColumnOrder
	for _, o := range q.OrderBy {
		for i, c := range columns {
			if c.Name == o.Column {
				keys = append(keys, ColumnOrder{Index: i, Desc: o.Desc})
				break
			}
		}
	}
	return keys
}
