package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// readSQL builds the statements of the read primitives. It holds only
// validated configuration; every caller-supplied value becomes a parameter.
type readSQL struct {
	t        tables
	corrAttr string
}

func newReadSQL(cfg *Config) readSQL {
	return readSQL{t: cfg.tables(), corrAttr: cfg.CorrelationAttribute}
}

// traceIDsForCorrelation reads the correlation index by its primary key
// (CorrelationId first): a handful of rows per id, never the span table.
func (r readSQL) traceIDsForCorrelation(correlationID string, w window) statement {
	return statement{sql: `SELECT TraceId, min(FirstSeen) AS first_seen, max(LastSeen) AS last_seen
FROM ` + r.t.q(r.t.correlations) + `
WHERE CorrelationId = ? AND TraceId != ''
GROUP BY TraceId
HAVING last_seen >= ` + nanoTime + ` AND first_seen < ` + nanoTime + `
ORDER BY first_seen, TraceId`, args: []any{correlationID, w.start, w.end}}
}

// correlationBounds is the time span of everything carrying the id, for
// pruning the log table when reading logs by correlation id.
func (r readSQL) correlationBounds(correlationID string) statement {
	return statement{sql: `SELECT toUnixTimestamp64Nano(min(FirstSeen)), toUnixTimestamp64Nano(max(LastSeen)), count()
FROM ` + r.t.q(r.t.correlations) + `
WHERE CorrelationId = ?`, args: []any{correlationID}}
}

// recentCorrelations finds the ids active since the bound, and before the
// upper one if any (pruned by the Day partition), then summarises each over
// all its index rows, so an id that started before the bound is still
// summarised in full.
//
// An index row's Day is the day its spans started, but its LastSeen is
// their latest end: a span that starts before midnight and ends after the
// bound is last seen on the bound's day in a row of the day before. The
// lower Day bound therefore reaches back one day (spans longer than a day
// are not looked for); LastSeen decides.
func (r readSQL) recentCorrelations(f signalstore.CorrelationFilter, since time.Time, limit int) statement {
	index := r.t.q(r.t.correlations)
	rows := "Day >= " + nanoDate + " - 1 AND LastSeen >= " + nanoTime
	args := []any{since.UnixNano(), since.UnixNano()}
	having := []string{"last_seen >= " + nanoTime}
	havingArgs := []any{since.UnixNano()}
	if !f.Until.IsZero() {
		until := f.Until.UnixNano()
		rows += " AND Day <= " + nanoDate + " AND LastSeen < " + nanoTime
		args = append(args, until, until)
		having = append(having, "last_seen < "+nanoTime)
		havingArgs = append(havingArgs, until)
	}
	args = append(args, havingArgs...)
	if f.Service != "" {
		having = append(having, "has(service_list, ?)")
		args = append(args, f.Service)
	}
	if f.ErrorsOnly {
		having = append(having, "errors > 0")
	}
	if f.MinDuration > 0 {
		having = append(having, "toUnixTimestamp64Nano(last_seen) - toUnixTimestamp64Nano(first_seen) >= ?")
		args = append(args, int64(f.MinDuration))
	}
	args = append(args, limit)
	return statement{sql: `SELECT CorrelationId,
    min(FirstSeen) AS first_seen,
    max(LastSeen) AS last_seen,
    toInt64(uniqExactIf(TraceId, TraceId != '')) AS traces,
    toInt64(sum(SpanCount)) AS spans,
    toInt64(sum(ErrorCount)) AS errors,
    toInt64(sum(LogCount)) AS logs,
    arraySort(groupUniqArrayArray(Services)) AS service_list,
    tupleElement(argMinMerge(Root), 1) = 1 AS has_root,
    tupleElement(argMinMerge(Root), 2) AS root_service,
    tupleElement(argMinMerge(Root), 3) AS root_span
FROM ` + index + `
WHERE CorrelationId IN (
    SELECT DISTINCT CorrelationId FROM ` + index + `
    WHERE ` + rows + `
)
GROUP BY CorrelationId
HAVING ` + strings.Join(having, " AND ") + `
ORDER BY last_seen DESC, CorrelationId
LIMIT ?`, args: args}
}

// TraceIDsForCorrelation implements signalstore.CorrelationReader.
func (s *Store) TraceIDsForCorrelation(ctx context.Context, correlationID string, tr signalstore.TimeRange) ([]signalstore.TraceID, error) {
	ids := []signalstore.TraceID{}
	w := windowOf(tr)
	if w.empty() {
		return ids, nil
	}
	err := s.query(ctx, newReadSQL(s.cfg).traceIDsForCorrelation(correlationID, w), func(rows driver.Rows) error {
		var (
			hexID       string
			first, last time.Time
		)
		if err := rows.Scan(&hexID, &first, &last); err != nil {
			return err
		}
		id, err := signalstore.ParseTraceID(hexID)
		if err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("trace ids for correlation: %w", err)
	}
	return ids, nil
}

// RecentCorrelations implements signalstore.CorrelationReader. Without
// Since it looks back DefaultLookback from Until, or from now.
func (s *Store) RecentCorrelations(ctx context.Context, f signalstore.CorrelationFilter) ([]signalstore.CorrelationSummary, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = signalstore.DefaultCorrelationLimit
	}
	since := f.Since
	if since.IsZero() {
		end := f.Until
		if end.IsZero() {
			end = time.Now()
		}
		since = end.Add(-s.cfg.DefaultLookback)
	}
	out := []signalstore.CorrelationSummary{}
	err := s.query(ctx, newReadSQL(s.cfg).recentCorrelations(f, since, limit), func(rows driver.Rows) error {
		var (
			sum         signalstore.CorrelationSummary
			first, last time.Time
			hasRoot     uint8
			rootService string
			rootSpan    string
		)
		if err := rows.Scan(&sum.CorrelationID, &first, &last, &sum.TraceCount, &sum.SpanCount, &sum.ErrorCount,
			&sum.LogCount, &sum.Services, &hasRoot, &rootService, &rootSpan); err != nil {
			return err
		}
		sum.FirstSeen, sum.LastSeen = first.UTC(), last.UTC()
		sum.Duration = last.Sub(first)
		if hasRoot == 1 {
			sum.RootService, sum.RootSpanName = rootService, rootSpan
		}
		if sum.Services == nil {
			sum.Services = []string{}
		}
		out = append(out, sum)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recent correlations: %w", err)
	}
	return out, nil
}
