package clickhouse

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// logColumns are the exporter's otel_logs columns the model carries.
const logColumns = `Timestamp, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber, ServiceName, Body,
    ResourceAttributes, ScopeName, ScopeVersion, LogAttributes, EventName`

// limitClause appends LIMIT ? when limit > 0.
func limitClause(limit int, args []any) (string, []any) {
	if limit <= 0 {
		return "", args
	}
	return "\nLIMIT ?", append(args, limit)
}

// logsByTraceIDs reads logs of the traces within w. otel_logs is ordered
// by (toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp), so the time
// predicate prunes both partitions and granules; the exporter's bloom
// filter on TraceId does the rest.
func (r readSQL) logsByTraceIDs(traceIDs []string, w window, limit int) statement {
	limitSQL, args := limitClause(limit, []any{groupSet(traceIDs), w.start, w.end})
	return statement{sql: `SELECT ` + logColumns + `
FROM ` + r.t.q(r.t.logs) + `
WHERE TraceId IN ? AND Timestamp >= ` + nanoTime + ` AND Timestamp < ` + nanoTime + `
ORDER BY Timestamp, TraceId` + limitSQL, args: args}
}

// logsByCorrelationID reads the logs carrying the id within w, which the
// caller has narrowed to the id's first/last seen from the index.
func (r readSQL) logsByCorrelationID(correlationID string, w window, limit int) statement {
	limitSQL, args := limitClause(limit, []any{r.corrAttr, correlationID, w.start, w.end})
	return statement{sql: `SELECT ` + logColumns + `
FROM ` + r.t.q(r.t.logs) + `
WHERE LogAttributes[?] = ? AND Timestamp >= ` + nanoTime + ` AND Timestamp < ` + nanoTime + `
ORDER BY Timestamp, TraceId` + limitSQL, args: args}
}

// LogsByTraceIDs implements signalstore.LogReader. The traces' span times
// (widened by trace_slack) bound the read; traces with no stored spans fall
// back to the caller's range, and without one to default_lookback.
func (s *Store) LogsByTraceIDs(ctx context.Context, traceIDs []signalstore.TraceID, tr signalstore.TimeRange, limit int) ([]signalstore.LogRecord, error) {
	ids := traceIDStrings(traceIDs)
	if len(ids) == 0 {
		return []signalstore.LogRecord{}, nil
	}
	w, err := s.slackTraceWindow(ctx, ids, tr)
	if err != nil {
		return nil, err
	}
	if w.empty() {
		return []signalstore.LogRecord{}, nil
	}
	logs, err := s.readLogs(ctx, newReadSQL(s.cfg).logsByTraceIDs(ids, w, limit))
	if err != nil {
		return nil, fmt.Errorf("logs by trace ids: %w", err)
	}
	return logs, nil
}

// LogsByCorrelationID implements signalstore.LogReader. The correlation
// index bounds the read; an id it does not know has no logs.
func (s *Store) LogsByCorrelationID(ctx context.Context, correlationID string, tr signalstore.TimeRange, limit int) ([]signalstore.LogRecord, error) {
	rs := newReadSQL(s.cfg)
	var (
		bounds window
		count  uint64
	)
	err := s.query(ctx, rs.correlationBounds(correlationID), func(rows driver.Rows) error {
		return rows.Scan(&bounds.start, &bounds.end, &count)
	})
	if err != nil {
		return nil, fmt.Errorf("logs by correlation id: bounds: %w", err)
	}
	w := windowOf(tr).intersect(bounds.start, bounds.end+1) // LastSeen is inclusive
	if count == 0 || w.empty() {
		return []signalstore.LogRecord{}, nil
	}
	logs, err := s.readLogs(ctx, rs.logsByCorrelationID(correlationID, w, limit))
	if err != nil {
		return nil, fmt.Errorf("logs by correlation id: %w", err)
	}
	return logs, nil
}

func (s *Store) readLogs(ctx context.Context, st statement) ([]signalstore.LogRecord, error) {
	logs := []signalstore.LogRecord{}
	err := s.query(ctx, st, func(rows driver.Rows) error {
		var (
			l               signalstore.LogRecord
			traceID, spanID string
			flags, severity uint8
		)
		if err := rows.Scan(&l.Timestamp, &traceID, &spanID, &flags, &l.SeverityText, &severity, &l.ServiceName,
			&l.Body, &l.ResourceAttributes, &l.ScopeName, &l.ScopeVersion, &l.LogAttributes, &l.EventName); err != nil {
			return err
		}
		l.Timestamp = l.Timestamp.UTC()
		l.TraceFlags, l.SeverityNumber = uint32(flags), int32(severity)
		if err := parseIDs(traceID, spanID, "", &l.TraceID, &l.SpanID, nil); err != nil {
			return err
		}
		l.ResourceAttributes = nilIfEmpty(l.ResourceAttributes)
		l.LogAttributes = nilIfEmpty(l.LogAttributes)
		l.CorrelationID = l.LogAttributes[s.cfg.CorrelationAttribute]
		logs = append(logs, l)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Same order as the embedded backend: time, then trace id bytes.
	signalstore.SortLogs(logs)
	return logs, nil
}
