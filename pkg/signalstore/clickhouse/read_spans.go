package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// traceBounds reads the exporter's trace-id lookup table (ordered by
// TraceId; Start/End are whole seconds) for the time span of some traces.
func (r readSQL) traceBounds(traceIDs []string) statement {
	return statement{sql: `SELECT toUnixTimestamp64Nano(toDateTime64(min(Start), 9)), toUnixTimestamp64Nano(toDateTime64(max(End), 9)), count()
FROM ` + r.t.q(r.t.traceIDTimes) + `
WHERE TraceId IN ?`, args: []any{groupSet(traceIDs)}}
}

// spanColumns are the exporter's otel_traces columns, in its insert order.
const spanColumns = `Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName,
    ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage,
    ` + "`Events.Timestamp`, `Events.Name`, `Events.Attributes`, `Links.TraceId`, `Links.SpanId`, `Links.TraceState`, `Links.Attributes`"

// spansByTraceIDs reads the spans of the traces within w, which the caller
// has already narrowed with traceBounds so the partitions read are only
// those of the traces' own days.
func (r readSQL) spansByTraceIDs(traceIDs []string, w window, limit int) statement {
	// With a limit, the earliest spans over all the traces; the caller
	// sorts them by trace id again.
	order := "TraceId, Timestamp, SpanId"
	if limit > 0 {
		order = "Timestamp, SpanId"
	}
	limitSQL, args := limitClause(limit, []any{groupSet(traceIDs), w.start, w.end})
	return statement{sql: `SELECT ` + spanColumns + `
FROM ` + r.t.q(r.t.traces) + `
WHERE TraceId IN ? AND Timestamp >= ` + nanoTime + ` AND Timestamp < ` + nanoTime + `
ORDER BY ` + order + limitSQL, args: args}
}

// traceWindow narrows the caller's range to where the traces' spans are.
// found is false when the lookup table knows none of the traces.
func (s *Store) traceWindow(ctx context.Context, ids []string) (w window, found bool, err error) {
	var count uint64
	err = s.query(ctx, newReadSQL(s.cfg).traceBounds(ids), func(rows driver.Rows) error {
		return rows.Scan(&w.start, &w.end, &count)
	})
	if err != nil {
		return window{}, false, fmt.Errorf("trace time bounds: %w", err)
	}
	// End is the last span's start truncated to the second.
	w.end += int64(time.Second)
	return w, count > 0, nil
}

// SpansByTraceIDs implements signalstore.SpanReader.
func (s *Store) SpansByTraceIDs(ctx context.Context, traceIDs []signalstore.TraceID, tr signalstore.TimeRange, limit int) ([]signalstore.Span, error) {
	spans := []signalstore.Span{}
	ids := traceIDStrings(traceIDs)
	if len(ids) == 0 {
		return spans, nil
	}
	bounds, found, err := s.traceWindow(ctx, ids)
	if err != nil || !found {
		return spans, err
	}
	w := windowOf(tr).intersect(bounds.start, bounds.end)
	if w.empty() {
		return spans, nil
	}
	err = s.query(ctx, newReadSQL(s.cfg).spansByTraceIDs(ids, w, limit), func(rows driver.Rows) error {
		sp, err := s.scanSpan(rows)
		if err != nil {
			return err
		}
		spans = append(spans, sp)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("spans by trace ids: %w", err)
	}
	// The server sorts the hex strings, which order like the bytes; sort
	// again anyway so the contract does not depend on server collation.
	signalstore.SortSpans(spans)
	return spans, nil
}

func (s *Store) scanSpan(rows driver.Rows) (signalstore.Span, error) {
	var (
		sp                        signalstore.Span
		traceID, spanID, parentID string
		duration                  uint64
		eventTimes                []time.Time
		eventNames                []string
		eventAttrs                []map[string]string
		linkTraceIDs, linkSpanIDs []string
		linkStates                []string
		linkAttrs                 []map[string]string
	)
	err := rows.Scan(&sp.Timestamp, &traceID, &spanID, &parentID, &sp.TraceState, &sp.SpanName, &sp.SpanKind,
		&sp.ServiceName, &sp.ResourceAttributes, &sp.ScopeName, &sp.ScopeVersion, &sp.SpanAttributes, &duration,
		&sp.StatusCode, &sp.StatusMessage, &eventTimes, &eventNames, &eventAttrs,
		&linkTraceIDs, &linkSpanIDs, &linkStates, &linkAttrs)
	if err != nil {
		return sp, err
	}
	sp.Timestamp = sp.Timestamp.UTC()
	sp.Duration = time.Duration(duration)
	if err := parseIDs(traceID, spanID, parentID, &sp.TraceID, &sp.SpanID, &sp.ParentSpanID); err != nil {
		return sp, err
	}
	sp.ResourceAttributes = nilIfEmpty(sp.ResourceAttributes)
	sp.SpanAttributes = nilIfEmpty(sp.SpanAttributes)
	sp.CorrelationID = sp.SpanAttributes[s.cfg.CorrelationAttribute]
	for i := range eventNames {
		sp.Events = append(sp.Events, signalstore.SpanEvent{Timestamp: at(eventTimes, i).UTC(), Name: eventNames[i],
			Attributes: nilIfEmpty(at(eventAttrs, i))})
	}
	for i := range linkTraceIDs {
		link := signalstore.SpanLink{TraceState: at(linkStates, i), Attributes: nilIfEmpty(at(linkAttrs, i))}
		if err := parseIDs(linkTraceIDs[i], at(linkSpanIDs, i), "", &link.TraceID, &link.SpanID, nil); err != nil {
			return sp, fmt.Errorf("link: %w", err)
		}
		sp.Links = append(sp.Links, link)
	}
	return sp, nil
}

// parseIDs parses hex ids as the exporter writes them; "" is the zero id.
func parseIDs(traceHex, spanHex, parentHex string, traceID *signalstore.TraceID, spanID, parentID *signalstore.SpanID) error {
	if err := traceID.UnmarshalText([]byte(traceHex)); err != nil {
		return err
	}
	if err := spanID.UnmarshalText([]byte(spanHex)); err != nil {
		return err
	}
	if parentID != nil {
		return parentID.UnmarshalText([]byte(parentHex))
	}
	return nil
}

// at tolerates Nested sub-columns of unequal length (the exporter writes
// them together, but a hand-made insert might not).
func at[T any](s []T, i int) T {
	var zero T
	if i < len(s) {
		return s[i]
	}
	return zero
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
