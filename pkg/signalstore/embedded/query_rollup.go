package embedded

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Latency questions ("p95 by service over the last hour") would otherwise
// scan every span of the window. A query that only groups by service and
// span name, filters them by equality and aggregates count, rate and
// duration is answered from ollystack_span_rollup for the whole minutes of
// its window, plus the raw spans of the partial minutes at either end.
// Counts, rates, min, max and avg are exact; percentiles come from the
// rollup's log histogram, within signalstore.LatencyQuantileRelativeError.

func rollupEligible(q *signalstore.Query) bool {
	if q.Signal != signalstore.SignalSpans || len(q.Aggregations) == 0 {
		return false
	}
	if q.Interval > 0 && time.Duration(q.Interval)%time.Minute != 0 {
		return false
	}
	for _, f := range q.Filters {
		if f.Op != signalstore.OpEq || (f.Field != signalstore.FieldServiceName && f.Field != signalstore.FieldSpanName) {
			return false
		}
	}
	for _, g := range q.GroupBy {
		if g.Field != signalstore.FieldServiceName && g.Field != signalstore.FieldSpanName {
			return false
		}
	}
	for _, a := range q.Aggregations {
		if a.Field != "" && a.Field != signalstore.FieldDuration {
			return false
		}
	}
	return true
}

type rollupGroup struct {
	key  []any // time bucket (if any), then group-by values
	agg  latencyAgg
	seen bool
}

// queryRollup answers an eligible query; ok is false when the window holds
// no whole minute, so the raw path is no slower.
func queryRollup(c *dbConn, q *signalstore.Query, start, end time.Time) (_ *signalstore.QueryResult, ok bool, _ error) {
	startNs, endNs := start.UnixNano(), end.UnixNano()
	alignedStart := bucketOf(startNs + rollupBucketNanos - 1)
	alignedEnd := bucketOf(endNs)
	if alignedStart >= alignedEnd {
		return nil, false, nil
	}
	where, args := "", []any{}
	for _, f := range q.Filters {
		col := "ServiceName"
		if f.Field == signalstore.FieldSpanName {
			col = "SpanName"
		}
		where += " AND " + col + " = ?"
		args = append(args, string(f.Value))
	}
	var interval int64
	if q.Interval > 0 {
		interval = int64(time.Duration(q.Interval))
	}
	groups := map[string]*rollupGroup{}
	var order []*rollupGroup
	group := func(ts int64, service, name string) *rollupGroup {
		var key []any
		if interval > 0 {
			key = append(key, nanosToTime(ts/interval*interval))
		}
		for _, g := range q.GroupBy {
			if g.Field == signalstore.FieldServiceName {
				key = append(key, service)
			} else {
				key = append(key, name)
			}
		}
		k := groupKeyString(key)
		g := groups[k]
		if g == nil {
			g = &rollupGroup{key: key, agg: latencyAgg{hist: newLatencyHist()}}
			groups[k] = g
			order = append(order, g)
		}
		return g
	}
	err := c.query(`SELECT Bucket, ServiceName, SpanName, Requests, Errors, DurationSum, DurationMin, DurationMax, Histogram
		FROM ollystack_span_rollup WHERE Bucket >= ? AND Bucket < ?`+where,
		append([]any{alignedStart, alignedEnd}, args...), func(st *sqlite3.Stmt) error {
			g := group(st.ColumnInt64(0), st.ColumnText(1), st.ColumnText(2))
			// Columns: 3 Requests, 4 Errors, 5 DurationSum, 6 DurationMin,
			// 7 DurationMax, 8 Histogram.
			n, dmin, dmax := st.ColumnInt64(3), st.ColumnInt64(6), st.ColumnInt64(7)
			if !g.seen || dmin < g.agg.min {
				g.agg.min = dmin
			}
			g.agg.max = max(g.agg.max, dmax)
			g.seen = true
			g.agg.requests += n
			g.agg.errors += st.ColumnInt64(4)
			g.agg.sum += st.ColumnInt64(5)
			decodeLatencyHist(st.ColumnRawBlob(8), g.agg.hist)
			return nil
		})
	if err != nil {
		return nil, false, err
	}
	// The partial minutes at the edges come from the spans themselves.
	for _, edge := range [][2]int64{{startNs, alignedStart}, {alignedEnd, endNs}} {
		if edge[0] >= edge[1] {
			continue
		}
		first, last, found, err := segmentRowRange(c, tableTraces, edge[0], edge[1])
		if err != nil {
			return nil, false, err
		}
		if !found {
			continue
		}
		err = c.query(`SELECT Timestamp, ServiceName, SpanName, Duration FROM otel_traces
			WHERE rowid BETWEEN ? AND ? AND Timestamp >= ? AND Timestamp < ?`+where,
			append([]any{first, last, edge[0], edge[1]}, args...), func(st *sqlite3.Stmt) error {
				g := group(st.ColumnInt64(0), st.ColumnText(1), st.ColumnText(2))
				d := st.ColumnInt64(3)
				if !g.seen || d < g.agg.min {
					g.agg.min = d
				}
				g.agg.max = max(g.agg.max, d)
				g.seen = true
				g.agg.requests++
				g.agg.sum += d
				g.agg.hist.add(d)
				return nil
			})
		if err != nil {
			return nil, false, err
		}
	}
	return rollupResult(q, order, q.RateSeconds(start, end)), true, nil
}

func groupKeyString(key []any) string {
	var sb strings.Builder
	for _, k := range key {
		switch v := k.(type) {
		case time.Time:
			sb.WriteString(v.Format(time.RFC3339Nano))
		case string:
			sb.WriteString(v)
		}
		sb.WriteByte(0)
	}
	return sb.String()
}

func rollupResult(q *signalstore.Query, groups []*rollupGroup, rateSeconds float64) *signalstore.QueryResult {
	var columns []signalstore.Column
	if q.Interval > 0 {
		columns = append(columns, signalstore.Column{Name: "time", Type: signalstore.ColumnTime})
	}
	for _, g := range q.GroupBy {
		columns = append(columns, signalstore.Column{Name: g.Column(), Type: g.ColumnType()})
	}
	groupCount := len(columns)
	for _, a := range q.Aggregations {
		columns = append(columns, signalstore.Column{Name: a.Column(), Type: a.ColumnType()})
	}
	// Like SQL, an aggregate without grouping yields one row even over no
	// data.
	if groupCount == 0 && len(groups) == 0 {
		groups = []*rollupGroup{{agg: latencyAgg{hist: newLatencyHist()}}}
	}
	rows := make([][]any, 0, len(groups))
	for _, g := range groups {
		row := append([]any{}, g.key...)
		a := &g.agg
		for _, ag := range q.Aggregations {
			switch ag.Func {
			case signalstore.AggCount:
				row = append(row, a.requests)
			case signalstore.AggRate:
				row = append(row, float64(a.requests)/rateSeconds)
			default:
				if a.requests == 0 {
					row = append(row, nil)
					continue
				}
				switch ag.Func {
				case signalstore.AggAvg:
					row = append(row, time.Duration((a.sum+a.requests/2)/a.requests))
				case signalstore.AggMin:
					row = append(row, time.Duration(a.min))
				case signalstore.AggMax:
					row = append(row, time.Duration(a.max))
				default:
					row = append(row, time.Duration(a.hist.quantile(ag.Func.Quantile())))
				}
			}
		}
		rows = append(rows, row)
	}
	sortRows(rows, q.ExplicitOrder(columns), groupCount)
	res := &signalstore.QueryResult{Columns: columns, Rows: rows}
	if limit := q.EffectiveLimit(); len(rows) > limit {
		res.Rows, res.Truncated = rows[:limit], true
	}
	return res
}

// sortRows applies the explicit order, then the group columns ascending, as
// orderClause does in SQL (NULLs first ascending, as SQLite sorts them).
func sortRows(rows [][]any, keys []signalstore.ColumnOrder, groupCount int) {
	for i := range groupCount {
		keys = append(keys, signalstore.ColumnOrder{Index: i})
	}
	slices.SortStableFunc(rows, func(a, b []any) int {
		for _, k := range keys {
			d := compareValues(a[k.Index], b[k.Index])
			if k.Desc {
				d = -d
			}
			if d != 0 {
				return d
			}
		}
		return 0
	})
}

func compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch x := a.(type) {
	case string:
		return cmp.Compare(x, b.(string))
	case int64:
		return cmp.Compare(x, b.(int64))
	case float64:
		return cmp.Compare(x, b.(float64))
	case time.Duration:
		return cmp.Compare(x, b.(time.Duration))
	case time.Time:
		return x.Compare(b.(time.Time))
	}
	return 0
}
