package embedded

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// The typed query compiles to one SELECT whose every value is a bound
// parameter. The only text spliced into SQL comes from the fixed tables
// below and from column positions (GROUP BY 1, ORDER BY 2 DESC); nothing
// from the query — attribute keys, values, aliases, numbers — reaches the
// SQL text.

type signalTable struct {
	table, alias string
	timeColumn   string
	attrsColumn  string
	columns      map[signalstore.Field]string // plain column expressions
}

var signalTables = map[signalstore.Signal]signalTable{
	signalstore.SignalSpans: {
		table: tableTraces, alias: "s", timeColumn: "s.Timestamp", attrsColumn: "s.SpanAttributes",
		columns: map[signalstore.Field]string{
			signalstore.FieldServiceName:   "s.ServiceName",
			signalstore.FieldSpanName:      "s.SpanName",
			signalstore.FieldSpanKind:      "s.SpanKind",
			signalstore.FieldStatusCode:    "s.StatusCode",
			signalstore.FieldDuration:      "s.Duration",
			signalstore.FieldTraceID:       "lower(hex(s.TraceId))",
			signalstore.FieldCorrelationID: "s.CorrelationId",
		},
	},
	signalstore.SignalLogs: {
		table: tableLogs, alias: "s", timeColumn: "s.Timestamp", attrsColumn: "s.LogAttributes",
		columns: map[signalstore.Field]string{
			signalstore.FieldServiceName:    "s.ServiceName",
			signalstore.FieldSeverityText:   "s.SeverityText",
			signalstore.FieldSeverityNumber: "s.SeverityNumber",
			signalstore.FieldBody:           "s.Body",
			signalstore.FieldTraceID:        "lower(hex(s.TraceId))",
			signalstore.FieldCorrelationID:  "s.CorrelationId",
		},
	},
}

// rawSelect lists the raw-row expressions in signalstore.RawColumns order.
var rawSelect = map[signalstore.Signal][]string{
	signalstore.SignalSpans: {"s.Timestamp", "lower(hex(s.TraceId))", "lower(hex(s.SpanId))", "s.ServiceName",
		"s.SpanName", "s.SpanKind", "s.Duration", "s.StatusCode", "s.CorrelationId"},
	signalstore.SignalLogs: {"s.Timestamp", "CASE WHEN s.TraceId = zeroblob(16) THEN '' ELSE lower(hex(s.TraceId)) END",
		"CASE WHEN s.SpanId = zeroblob(8) THEN '' ELSE lower(hex(s.SpanId)) END", "s.ServiceName",
		"s.SeverityText", "s.SeverityNumber", "s.Body", "s.CorrelationId"},
}

// jsonPath quotes an attribute key as an SQLite JSON path label. Validate
// has already rejected keys with quotes, backslashes and control characters,
// which the path syntax cannot escape; the path itself is still a bound
// parameter.
func jsonPath(key string) string { return `$."` + key + `"` }

// compiledQuery is SQL text, its parameters and the result columns.
type compiledQuery struct {
	sql     string
	args    []any
	columns []signalstore.Column
	limit   int
}

// fieldExpr returns the SQL expression for a field and the parameters it
// uses. Attributes missing on a row read as "" (as ClickHouse map access
// does), so neq matches them.
func fieldExpr(t signalTable, f signalstore.Field, key string) (string, []any) {
	switch f {
	case signalstore.FieldAttribute:
		return "coalesce(json_extract(" + t.attrsColumn + ", ?), '')", []any{jsonPath(key)}
	case signalstore.FieldResource:
		return "coalesce((SELECT json_extract(r.ResourceAttributes, ?) FROM ollystack_resources r WHERE r.ResourceId = s.ResourceId), '')",
			[]any{jsonPath(key)}
	default:
		return t.columns[f], nil
	}
}

var sqlOps = map[signalstore.Op]string{
	signalstore.OpEq: "=", signalstore.OpNeq: "<>", signalstore.OpGt: ">", signalstore.OpGte: ">=",
	signalstore.OpLt: "<", signalstore.OpLte: "<=",
}

// compileQuery builds the SQL for a validated query over [start, end) and
// the rowid range [firstRow, lastRow] that the segments give for it.
func compileQuery(q *signalstore.Query, start, end time.Time, firstRow, lastRow int64) (*compiledQuery, error) {
	t, ok := signalTables[q.Signal]
	if !ok {
		return nil, fmt.Errorf("signal %q has no table", q.Signal)
	}
	var (
		sel     []string
		args    []any
		columns []signalstore.Column
	)
	where := []string{t.alias + ".rowid BETWEEN ? AND ?", t.timeColumn + " >= ?", t.timeColumn + " < ?"}
	whereArgs := []any{firstRow, lastRow, start.UnixNano(), end.UnixNano()}
	for _, f := range q.Filters {
		expr, exprArgs := fieldExpr(t, f.Field, f.Key)
		v, err := f.BindValue()
		if err != nil {
			return nil, fmt.Errorf("filter on %s: %w", f.Field, err)
		}
		whereArgs = append(whereArgs, exprArgs...)
		if f.Op == signalstore.OpContains {
			where = append(where, "instr("+expr+", ?) > 0")
		} else {
			where = append(where, expr+" "+sqlOps[f.Op]+" ?")
		}
		whereArgs = append(whereArgs, v)
	}

	groupCount := 0
	if !q.IsAggregate() {
		sel = rawSelect[q.Signal]
		columns = signalstore.RawColumns[q.Signal]
	} else {
		if q.Interval > 0 {
			iv := int64(time.Duration(q.Interval))
			sel = append(sel, "("+t.timeColumn+" / ?) * ?")
			args = append(args, iv, iv)
			columns = append(columns, signalstore.Column{Name: "time", Type: signalstore.ColumnTime})
			groupCount++
		}
		for _, g := range q.GroupBy {
			expr, exprArgs := fieldExpr(t, g.Field, g.Key)
			sel = append(sel, expr)
			args = append(args, exprArgs...)
			columns = append(columns, signalstore.Column{Name: g.Column(), Type: g.ColumnType()})
			groupCount++
		}
		rateSeconds := q.RateSeconds(start, end)
		for _, a := range q.Aggregations {
			expr, exprArgs := aggregateExpr(t, a, rateSeconds)
			sel = append(sel, expr)
			args = append(args, exprArgs...)
			columns = append(columns, signalstore.Column{Name: a.Column(), Type: a.ColumnType()})
		}
	}
	args = append(args, whereArgs...)

	var sb strings.Builder
	sb.WriteString("SELECT ")
	sb.WriteString(strings.Join(sel, ", "))
	sb.WriteString(" FROM " + t.table + " " + t.alias + " WHERE ")
	sb.WriteString(strings.Join(where, " AND "))
	if groupCount > 0 {
		sb.WriteString(" GROUP BY ")
		for i := range groupCount {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(strconv.Itoa(i + 1))
		}
	}
	sb.WriteString(" ORDER BY ")
	sb.WriteString(orderClause(q, columns, groupCount))
	sb.WriteString(" LIMIT ?")
	limit := q.EffectiveLimit()
	args = append(args, limit+1) // one more, to report truncation
	return &compiledQuery{sql: sb.String(), args: args, columns: columns, limit: limit}, nil
}

func aggregateExpr(t signalTable, a signalstore.Aggregation, rateSeconds float64) (string, []any) {
	col := t.columns[a.Field]
	switch a.Func {
	case signalstore.AggCount:
		return "count(*)", nil
	case signalstore.AggRate:
		return "count(*) / ?", []any{rateSeconds}
	case signalstore.AggAvg:
		return "avg(" + col + ")", nil
	case signalstore.AggMin:
		return "min(" + col + ")", nil
	case signalstore.AggMax:
		return "max(" + col + ")", nil
	default:
		return "percentile_cont(" + col + ", ?)", []any{a.Func.Quantile()}
	}
}

// orderClause orders by column position. Without an explicit order, raw rows
// are newest first and aggregates follow their group columns.
func orderClause(q *signalstore.Query, columns []signalstore.Column, groupCount int) string {
	var parts []string
	for _, o := range q.ExplicitOrder(columns) {
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		parts = append(parts, strconv.Itoa(o.Index+1)+dir)
	}
	switch {
	case !q.IsAggregate():
		parts = append(parts, "1 DESC", "s.rowid DESC")
	case groupCount > 0:
		for i := range groupCount {
			parts = append(parts, strconv.Itoa(i+1)+" ASC")
		}
	default:
		parts = append(parts, "1")
	}
	return strings.Join(parts, ", ")
}

// Query implements signalstore.QueryRunner.
func (s *Store) Query(ctx context.Context, q signalstore.Query) (*signalstore.QueryResult, error) {
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("invalid query: %w", err)
	}
	start, end := q.Window(time.Now())
	var result *signalstore.QueryResult
	err := s.withReader(ctx, func(c *dbConn) error {
		if rollupEligible(&q) {
			res, ok, err := queryRollup(c, &q, start, end)
			if err != nil || ok {
				result = res
				return err
			}
		}
		first, last, found, err := segmentRowRange(c, signalTables[q.Signal].table, start.UnixNano(), end.UnixNano())
		if err != nil {
			return err
		}
		if !found {
			// No segment overlaps: still compile, for the columns, over an
			// empty rowid range.
			first, last = 1, 0
		}
		cq, err := compileQuery(&q, start, end, first, last)
		if err != nil {
			return err
		}
		result, err = runCompiled(c, cq)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("typed query: %w", err)
	}
	return result, nil
}

// segmentRowRange returns the rowid range of a table's segments whose event
// times overlap [start, end).
func segmentRowRange(c *dbConn, table string, start, end int64) (first, last int64, found bool, err error) {
	err = c.query(`SELECT min(FirstRowId), max(LastRowId) FROM ollystack_segments
		WHERE TableName = ? AND MaxTime >= ? AND MinTime < ?`, []any{table, start, end},
		func(st *sqlite3.Stmt) error {
			if st.ColumnType(0) != sqlite3.NULL {
				first, last, found = st.ColumnInt64(0), st.ColumnInt64(1), true
			}
			return nil
		})
	return first, last, found, err
}

func runCompiled(c *dbConn, cq *compiledQuery) (*signalstore.QueryResult, error) {
	res := &signalstore.QueryResult{Columns: cq.columns, Rows: [][]any{}}
	err := c.query(cq.sql, cq.args, func(st *sqlite3.Stmt) error {
		if len(res.Rows) == cq.limit {
			res.Truncated = true
			return nil
		}
		row := make([]any, len(cq.columns))
		for i, col := range cq.columns {
			if st.ColumnType(i) == sqlite3.NULL {
				continue
			}
			switch col.Type {
			case signalstore.ColumnString:
				row[i] = st.ColumnText(i)
			case signalstore.ColumnInt:
				row[i] = st.ColumnInt64(i)
			case signalstore.ColumnFloat:
				row[i] = st.ColumnFloat(i)
			case signalstore.ColumnTime:
				row[i] = nanosToTime(st.ColumnInt64(i))
			case signalstore.ColumnDuration:
				row[i] = time.Duration(math.Round(st.ColumnFloat(i)))
			}
		}
		res.Rows = append(res.Rows, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
