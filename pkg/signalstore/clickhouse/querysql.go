package clickhouse

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// The typed query compiles to one SELECT. Values, attribute keys and the
// correlation attribute are parameters; the SQL text holds only the fixed
// fragments below, the validated table name, and generated aliases (c0,
// c1, …) — never a name from the query (aliases of the query become
// result column names in Go, not in SQL).

// signalSource describes the table a signal reads.
type signalSource struct {
	table   func(tables) string
	attrs   string // the attribute map of FieldAttribute
	columns map[signalstore.Field]string
	raw     []string // signalstore.RawColumns order; "?" is the correlation attribute
}

var signalSources = map[signalstore.Signal]signalSource{
	signalstore.SignalSpans: {
		table: func(t tables) string { return t.traces },
		attrs: "SpanAttributes",
		columns: map[signalstore.Field]string{
			signalstore.FieldServiceName: "ServiceName",
			signalstore.FieldSpanName:    "SpanName",
			signalstore.FieldSpanKind:    "SpanKind",
			signalstore.FieldStatusCode:  "StatusCode",
			signalstore.FieldDuration:    "Duration",
			signalstore.FieldTraceID:     "TraceId",
		},
		raw: []string{"Timestamp", "TraceId", "SpanId", "ServiceName", "SpanName", "SpanKind",
			"toInt64(Duration)", "StatusCode", "SpanAttributes[?]"},
	},
	signalstore.SignalLogs: {
		table: func(t tables) string { return t.logs },
		attrs: "LogAttributes",
		columns: map[signalstore.Field]string{
			signalstore.FieldServiceName:    "ServiceName",
			signalstore.FieldSeverityText:   "SeverityText",
			signalstore.FieldSeverityNumber: "SeverityNumber",
			signalstore.FieldBody:           "Body",
			signalstore.FieldTraceID:        "TraceId",
		},
		raw: []string{"Timestamp", "TraceId", "SpanId", "ServiceName", "SeverityText",
			"toInt64(SeverityNumber)", "Body", "LogAttributes[?]"},
	},
}

var comparisons = map[signalstore.Op]string{
	signalstore.OpEq: "=", signalstore.OpNeq: "!=", signalstore.OpGt: ">", signalstore.OpGte: ">=",
	signalstore.OpLt: "<", signalstore.OpLte: "<=",
}

// quantileLevels spell the percentile functions' levels; they come from
// this closed table, not from the query.
var quantileLevels = map[signalstore.AggFunc]string{
	signalstore.AggP50: "0.5", signalstore.AggP90: "0.9", signalstore.AggP95: "0.95", signalstore.AggP99: "0.99",
}

// compiledQuery is a statement, the result columns, and which of them may
// be NULL (aggregates over no rows).
type compiledQuery struct {
	stmt     statement
	columns  []signalstore.Column
	nullable []bool
	limit    int
}

// fieldExpr is the SQL of a field and its parameters. A missing map key
// reads as ” in ClickHouse, so neq matches rows without the attribute, as
// on the embedded backend.
func (r readSQL) fieldExpr(src signalSource, f signalstore.Field, key string) (string, []any) {
	switch f {
	case signalstore.FieldAttribute:
		return src.attrs + "[?]", []any{key}
	case signalstore.FieldResource:
		return "ResourceAttributes[?]", []any{key}
	case signalstore.FieldCorrelationID:
		return src.attrs + "[?]", []any{r.corrAttr}
	default:
		return src.columns[f], nil
	}
}

// compileQuery compiles a validated query over [start, end). The time
// predicate on Timestamp is always present: both tables are partitioned by
// toDate(Timestamp), and otel_logs is also sorted by it.
func (r readSQL) compileQuery(q *signalstore.Query, start, end time.Time) (*compiledQuery, error) {
	src, ok := signalSources[q.Signal]
	if !ok {
		return nil, fmt.Errorf("signal %q has no table", q.Signal)
	}
	cq := &compiledQuery{limit: q.EffectiveLimit()}
	var selects []string
	var selectArgs []any
	addColumn := func(expr string, args []any, col signalstore.Column, nullable bool) {
		selects = append(selects, expr+" AS c"+strconv.Itoa(len(selects)))
		selectArgs = append(selectArgs, args...)
		cq.columns = append(cq.columns, col)
		cq.nullable = append(cq.nullable, nullable)
	}

	where := []string{"Timestamp >= " + nanoTime, "Timestamp < " + nanoTime}
	whereArgs := []any{start.UnixNano(), end.UnixNano()}
	for _, f := range q.Filters {
		expr, exprArgs := r.fieldExpr(src, f.Field, f.Key)
		v, err := f.BindValue()
		if err != nil {
			return nil, fmt.Errorf("filter on %s: %w", f.Field, err)
		}
		if f.Op == signalstore.OpContains {
			where = append(where, "position("+expr+", ?) > 0")
		} else {
			where = append(where, expr+" "+comparisons[f.Op]+" ?")
		}
		whereArgs = append(whereArgs, append(exprArgs, v)...)
	}

	groups := 0
	if !q.IsAggregate() {
		for i, col := range signalstore.RawColumns[q.Signal] {
			expr := src.raw[i]
			var args []any
			if strings.Contains(expr, "?") {
				args = []any{r.corrAttr}
			}
			addColumn(expr, args, col, false)
		}
	} else {
		if q.Interval > 0 {
			iv := int64(time.Duration(q.Interval))
			addColumn("fromUnixTimestamp64Nano(toInt64(intDiv(toUnixTimestamp64Nano(Timestamp), ?) * ?))", []any{iv, iv},
				signalstore.Column{Name: "time", Type: signalstore.ColumnTime}, false)
			groups++
		}
		for _, g := range q.GroupBy {
			expr, args := r.fieldExpr(src, g.Field, g.Key)
			typ := g.ColumnType()
			if typ == signalstore.ColumnInt {
				expr = "toInt64(" + expr + ")"
			}
			addColumn(expr, args, signalstore.Column{Name: g.Column(), Type: typ}, false)
			groups++
		}
		rateSeconds := q.RateSeconds(start, end)
		for _, a := range q.Aggregations {
			expr, args, nullable := aggregateExpr(src, a, rateSeconds)
			addColumn(expr, args, signalstore.Column{Name: a.Column(), Type: a.ColumnType()}, nullable)
		}
	}

	var sb strings.Builder
	sb.WriteString("SELECT " + strings.Join(selects, ", "))
	sb.WriteString("\nFROM " + r.t.q(src.table(r.t)))
	sb.WriteString("\nWHERE " + strings.Join(where, " AND "))
	if groups > 0 {
		sb.WriteString("\nGROUP BY " + aliases(0, groups))
	}
	sb.WriteString("\nORDER BY " + orderClause(q, cq.columns, groups))
	sb.WriteString("\nLIMIT ?")
	args := append(append(selectArgs, whereArgs...), cq.limit+1) // one more, to report truncation
	cq.stmt = statement{sql: sb.String(), args: args}
	return cq, nil
}

func aliases(from, to int) string {
	parts := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		parts = append(parts, "c"+strconv.Itoa(i))
	}
	return strings.Join(parts, ", ")
}

// aggregateExpr returns the aggregate, its parameters and whether it is
// NULL over no rows (the -OrNull combinator, so an empty group reads as nil
// as on the embedded backend rather than NaN or 0).
func aggregateExpr(src signalSource, a signalstore.Aggregation, rateSeconds float64) (string, []any, bool) {
	col := src.columns[a.Field]
	nullableFloat := func(agg string) string { return "CAST(" + agg + " AS Nullable(Float64))" }
	switch a.Func {
	case signalstore.AggCount:
		return "toInt64(count())", nil, false
	case signalstore.AggRate:
		return "count() / ?", []any{rateSeconds}, false
	case signalstore.AggAvg:
		return nullableFloat("avgOrNull(" + col + ")"), nil, true
	case signalstore.AggMin:
		return nullableFloat("minOrNull(" + col + ")"), nil, true
	case signalstore.AggMax:
		return nullableFloat("maxOrNull(" + col + ")"), nil, true
	default:
		return nullableFloat("quantileOrNull(" + quantileLevels[a.Func] + ")(" + col + ")"), nil, true
	}
}

// orderClause orders by generated aliases. Without an explicit order, raw
// rows are newest first and aggregates follow their group columns.
func orderClause(q *signalstore.Query, columns []signalstore.Column, groups int) string {
	var parts []string
	for _, o := range q.ExplicitOrder(columns) {
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		parts = append(parts, "c"+strconv.Itoa(o.Index)+dir)
	}
	switch {
	case !q.IsAggregate():
		parts = append(parts, "c0 DESC", "c2 DESC")
	case groups > 0:
		for i := range groups {
			parts = append(parts, "c"+strconv.Itoa(i)+" ASC")
		}
	default:
		parts = append(parts, "c0")
	}
	return strings.Join(parts, ", ")
}
