package embedded

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// maxRecentCandidates bounds how many index rows RecentCorrelations walks
// before it gives up filling the limit: a filter matching nothing must not
// scan the whole index.
const maxRecentCandidates = 50_000

var zeroTraceID = make([]byte, 16)

func nanosToTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func uniqueTraceIDs(ids []signalstore.TraceID) []signalstore.TraceID {
	out := make([]signalstore.TraceID, 0, len(ids))
	for _, id := range ids {
		if !id.IsEmpty() && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// resourceCache decodes each resource's attributes once per read call.
type resourceCache map[int64]map[string]string

func (rc resourceCache) get(id int64, text string) (map[string]string, error) {
	m, ok := rc[id]
	if !ok {
		var err error
		if m, err = decodeAttributes(text); err != nil {
			return nil, fmt.Errorf("resource %d: %w", id, err)
		}
		rc[id] = m
	}
	return maps.Clone(m), nil
}

// TraceIDsForCorrelation implements signalstore.CorrelationReader.
func (s *Store) TraceIDsForCorrelation(ctx context.Context, correlationID string, tr signalstore.TimeRange) ([]signalstore.TraceID, error) {
	start, end := tr.UnixNanos()
	ids := []signalstore.TraceID{}
	err := s.withReader(ctx, func(c *dbConn) error {
		return c.query(`SELECT TraceId FROM ollystack_correlations
			WHERE CorrelationId = ? AND TraceId <> ? AND LastSeen >= ? AND FirstSeen < ?
			ORDER BY FirstSeen, TraceId`, []any{correlationID, zeroTraceID, start, end},
			func(st *sqlite3.Stmt) error {
				var id signalstore.TraceID
				copy(id[:], st.ColumnRawBlob(0))
				ids = append(ids, id)
				return nil
			})
	})
	if err != nil {
		return nil, fmt.Errorf("trace ids for correlation: %w", err)
	}
	return ids, nil
}

const spanColumns = `s.Timestamp, s.TraceId, s.SpanId, s.ParentSpanId, s.ServiceName, s.SpanName, s.SpanKind,
	s.Duration, s.StatusCode, s.CorrelationId, s.ResourceId, coalesce(r.ResourceAttributes, '{}'), s.TraceState,
	s.ScopeName, s.ScopeVersion, s.StatusMessage, s.SpanAttributes, s.Events, s.Links`

// SpansByTraceIDs implements signalstore.SpanReader.
func (s *Store) SpansByTraceIDs(ctx context.Context, traceIDs []signalstore.TraceID, tr signalstore.TimeRange, limit int) ([]signalstore.Span, error) {
	start, end := tr.UnixNanos()
	spans := []signalstore.Span{}
	resources := resourceCache{}
	// With a limit, each trace yields its earliest spans up to it, and the
	// spans read are cut back to it whenever they reach twice as many:
	// memory stays bounded whatever the size and number of the traces.
	orderSQL, limitArgs := orderLimit("s.Timestamp, s.SpanId", limit)
	scan := appendScanned(&spans, resources, scanSpan)
	if limit > 0 {
		appendSpan := scan
		scan = func(st *sqlite3.Stmt) error {
			if len(spans) >= 2*limit {
				spans = earliestSpans(spans, limit)
			}
			return appendSpan(st)
		}
	}
	err := s.withReader(ctx, func(c *dbConn) error {
		return queryPerTraceID(c, traceIDs, `SELECT `+spanColumns+`
			FROM ollystack_trace_spans x
			JOIN otel_traces s ON s.rowid BETWEEN x.FirstRowId AND x.LastRowId
			LEFT JOIN ollystack_resources r ON r.ResourceId = s.ResourceId
			WHERE x.TraceId = ? AND s.TraceId = ? AND s.Timestamp >= ? AND s.Timestamp < ?`+orderSQL,
			start, end, scan, limitArgs...)
	})
	if err != nil {
		return nil, fmt.Errorf("spans by trace ids: %w", err)
	}
	spans = earliestSpans(spans, limit)
	signalstore.SortSpans(spans)
	return spans, nil
}

// earliestSpans keeps the limit earliest spans (all with limit <= 0).
func earliestSpans(spans []signalstore.Span, limit int) []signalstore.Span {
	if limit <= 0 || len(spans) <= limit {
		return spans
	}
	signalstore.SortSpansByTime(spans)
	clear(spans[limit:]) // let the cut spans' maps be collected
	return spans[:limit]
}

// queryPerTraceID runs query once for each distinct non-empty trace id,
// binding the id twice (index table, then signal table), the time bounds
// and then extra.
func queryPerTraceID(c *dbConn, traceIDs []signalstore.TraceID, query string, start, end int64, fn func(st *sqlite3.Stmt) error, extra ...any) error {
	for _, id := range uniqueTraceIDs(traceIDs) {
		if err := c.query(query, append([]any{id[:], id[:], start, end}, extra...), fn); err != nil {
			return err
		}
	}
	return nil
}

// appendScanned is a row callback that scans each row with scan and
// appends the result to out.
func appendScanned[T any](out *[]T, resources resourceCache, scan func(*sqlite3.Stmt, resourceCache) (T, error)) func(st *sqlite3.Stmt) error {
	return func(st *sqlite3.Stmt) error {
		v, err := scan(st, resources)
		if err != nil {
			return err
		}
		*out = append(*out, v)
		return nil
	}
}

func scanSpan(st *sqlite3.Stmt, resources resourceCache) (signalstore.Span, error) {
	var sp signalstore.Span
	sp.Timestamp = nanosToTime(st.ColumnInt64(0))
	copy(sp.TraceID[:], st.ColumnRawBlob(1))
	copy(sp.SpanID[:], st.ColumnRawBlob(2))
	copy(sp.ParentSpanID[:], st.ColumnRawBlob(3))
	sp.ServiceName = st.ColumnText(4)
	sp.SpanName = st.ColumnText(5)
	sp.SpanKind = st.ColumnText(6)
	sp.Duration = time.Duration(st.ColumnInt64(7))
	sp.StatusCode = st.ColumnText(8)
	sp.CorrelationID = st.ColumnText(9)
	var err error
	if sp.ResourceAttributes, err = resources.get(st.ColumnInt64(10), st.ColumnText(11)); err != nil {
		return sp, err
	}
	sp.TraceState = st.ColumnText(12)
	sp.ScopeName = st.ColumnText(13)
	sp.ScopeVersion = st.ColumnText(14)
	sp.StatusMessage = st.ColumnText(15)
	if sp.SpanAttributes, err = decodeAttributes(st.ColumnText(16)); err != nil {
		return sp, err
	}
	if sp.Events, err = decodeEvents(st.ColumnText(17)); err != nil {
		return sp, err
	}
	if sp.Links, err = decodeLinks(st.ColumnText(18)); err != nil {
		return sp, err
	}
	return sp, nil
}

type storedEvent struct {
	T int64             `json:"t"`
	N string            `json:"n"`
	A map[string]string `json:"a"`
}

type storedLink struct {
	TID string            `json:"tid"`
	SID string            `json:"sid"`
	TS  string            `json:"ts"`
	A   map[string]string `json:"a"`
}

type storedExemplar struct {
	T   int64             `json:"t"`
	V   float64           `json:"v"`
	TID string            `json:"tid"`
	SID string            `json:"sid"`
	A   map[string]string `json:"a"`
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func decodeEvents(text string) ([]signalstore.SpanEvent, error) {
	if text == "" {
		return nil, nil
	}
	var stored []storedEvent
	if err := json.Unmarshal([]byte(text), &stored); err != nil {
		return nil, fmt.Errorf("decode span events: %w", err)
	}
	out := make([]signalstore.SpanEvent, len(stored))
	for i, e := range stored {
		out[i] = signalstore.SpanEvent{Timestamp: nanosToTime(e.T), Name: e.N, Attributes: nilIfEmpty(e.A)}
	}
	return out, nil
}

func decodeLinks(text string) ([]signalstore.SpanLink, error) {
	if text == "" {
		return nil, nil
	}
	var stored []storedLink
	if err := json.Unmarshal([]byte(text), &stored); err != nil {
		return nil, fmt.Errorf("decode span links: %w", err)
	}
	out := make([]signalstore.SpanLink, len(stored))
	for i, l := range stored {
		out[i] = signalstore.SpanLink{TraceState: l.TS, Attributes: nilIfEmpty(l.A)}
		// Ids were written by this package as hex; a zero id stays zero.
		_ = out[i].TraceID.UnmarshalText([]byte(l.TID))
		_ = out[i].SpanID.UnmarshalText([]byte(l.SID))
	}
	return out, nil
}

const logColumns = `l.Timestamp, l.TraceId, l.SpanId, l.TraceFlags, l.SeverityText, l.SeverityNumber, l.ServiceName,
	l.CorrelationId, l.ResourceId, coalesce(r.ResourceAttributes, '{}'), l.ScopeName, l.ScopeVersion, l.EventName,
	l.Body, l.LogAttributes`

func scanLog(st *sqlite3.Stmt, resources resourceCache) (signalstore.LogRecord, error) {
	var l signalstore.LogRecord
	l.Timestamp = nanosToTime(st.ColumnInt64(0))
	copy(l.TraceID[:], st.ColumnRawBlob(1))
	copy(l.SpanID[:], st.ColumnRawBlob(2))
	l.TraceFlags = uint32(st.ColumnInt64(3))
	l.SeverityText = st.ColumnText(4)
	l.SeverityNumber = int32(st.ColumnInt64(5))
	l.ServiceName = st.ColumnText(6)
	l.CorrelationID = st.ColumnText(7)
	var err error
	if l.ResourceAttributes, err = resources.get(st.ColumnInt64(8), st.ColumnText(9)); err != nil {
		return l, err
	}
	l.ScopeName = st.ColumnText(10)
	l.ScopeVersion = st.ColumnText(11)
	l.EventName = st.ColumnText(12)
	l.Body = st.ColumnText(13)
	if l.LogAttributes, err = decodeAttributes(st.ColumnText(14)); err != nil {
		return l, err
	}
	return l, nil
}

// orderLimit keeps, for a positive limit, the first rows up to it in the
// order orderBy while SQLite reads them, so that a limited read holds the
// limit in memory rather than every matching row.
func orderLimit(orderBy string, limit int) (string, []any) {
	if limit <= 0 {
		return "", nil
	}
	return ` ORDER BY ` + orderBy + ` LIMIT ?`, []any{int64(limit)}
}

// logOrder is the order of signalstore.SortLogs.
const logOrder = "l.Timestamp, l.TraceId"

func sortAndLimitLogs(logs []signalstore.LogRecord, limit int) []signalstore.LogRecord {
	signalstore.SortLogs(logs)
	if limit > 0 && len(logs) > limit {
		logs = logs[:limit]
	}
	return logs
}

// LogsByTraceIDs implements signalstore.LogReader.
func (s *Store) LogsByTraceIDs(ctx context.Context, traceIDs []signalstore.TraceID, tr signalstore.TimeRange, limit int) ([]signalstore.LogRecord, error) {
	start, end := tr.UnixNanos()
	logs := []signalstore.LogRecord{}
	resources := resourceCache{}
	orderSQL, limitArgs := orderLimit(logOrder, limit)
	err := s.withReader(ctx, func(c *dbConn) error {
		return queryPerTraceID(c, traceIDs, `SELECT `+logColumns+`
			FROM ollystack_trace_logs x
			JOIN otel_logs l ON l.rowid BETWEEN x.FirstRowId AND x.LastRowId
			LEFT JOIN ollystack_resources r ON r.ResourceId = l.ResourceId
			WHERE x.TraceId = ? AND l.TraceId = ? AND l.Timestamp >= ? AND l.Timestamp < ?`+orderSQL,
			start, end, appendScanned(&logs, resources, scanLog), limitArgs...)
	})
	if err != nil {
		return nil, fmt.Errorf("logs by trace ids: %w", err)
	}
	return sortAndLimitLogs(logs, limit), nil
}

// LogsByCorrelationID implements signalstore.LogReader.
func (s *Store) LogsByCorrelationID(ctx context.Context, correlationID string, tr signalstore.TimeRange, limit int) ([]signalstore.LogRecord, error) {
	start, end := tr.UnixNanos()
	logs := []signalstore.LogRecord{}
	resources := resourceCache{}
	orderSQL, limitArgs := orderLimit(logOrder, limit)
	err := s.withReader(ctx, func(c *dbConn) error {
		return c.query(`SELECT `+logColumns+`
			FROM ollystack_correlation_logs x
			JOIN otel_logs l ON l.rowid BETWEEN x.FirstRowId AND x.LastRowId
			LEFT JOIN ollystack_resources r ON r.ResourceId = l.ResourceId
			WHERE x.CorrelationId = ? AND l.CorrelationId = ? AND l.Timestamp >= ? AND l.Timestamp < ?`+orderSQL,
			append([]any{correlationID, correlationID, start, end}, limitArgs...), appendScanned(&logs, resources, scanLog))
	})
	if err != nil {
		return nil, fmt.Errorf("logs by correlation id: %w", err)
	}
	return sortAndLimitLogs(logs, limit), nil
}

// metricSelect reads one point of each metric table into the same column
// layout, so that scanMetricPoint serves all three.
var metricSelect = map[string]string{
	tableMetricsGauge: `SELECT m.TimeUnix, m.StartTimeUnix, m.ServiceName, m.MetricName, m.ResourceId,
		coalesce(r.ResourceAttributes, '{}'), m.ScopeName, m.MetricDescription, m.MetricUnit, m.Attributes, m.Exemplars,
		m.Value, 0, 0, NULL, NULL, '', '', 0, 0
		FROM otel_metrics_gauge m LEFT JOIN ollystack_resources r ON r.ResourceId = m.ResourceId WHERE m.rowid = ?`,
	tableMetricsSum: `SELECT m.TimeUnix, m.StartTimeUnix, m.ServiceName, m.MetricName, m.ResourceId,
		coalesce(r.ResourceAttributes, '{}'), m.ScopeName, m.MetricDescription, m.MetricUnit, m.Attributes, m.Exemplars,
		m.Value, 0, 0, NULL, NULL, '', '', m.IsMonotonic, m.AggregationTemporality
		FROM otel_metrics_sum m LEFT JOIN ollystack_resources r ON r.ResourceId = m.ResourceId WHERE m.rowid = ?`,
	tableMetricsHistogram: `SELECT m.TimeUnix, m.StartTimeUnix, m.ServiceName, m.MetricName, m.ResourceId,
		coalesce(r.ResourceAttributes, '{}'), m.ScopeName, m.MetricDescription, m.MetricUnit, m.Attributes, m.Exemplars,
		0, m.Count, m.Sum, m.Min, m.Max, m.BucketCounts, m.ExplicitBounds, 0, m.AggregationTemporality
		FROM otel_metrics_histogram m LEFT JOIN ollystack_resources r ON r.ResourceId = m.ResourceId WHERE m.rowid = ?`,
}

var metricTypeOfTable = map[string]string{
	tableMetricsGauge:     signalstore.MetricTypeGauge,
	tableMetricsSum:       signalstore.MetricTypeSum,
	tableMetricsHistogram: signalstore.MetricTypeHistogram,
}

// temporalityNames spell pmetric.AggregationTemporality as pdata does.
var temporalityNames = map[int64]string{1: "Delta", 2: "Cumulative"}

// MetricPointsByExemplarTraceIDs implements signalstore.MetricReader.
func (s *Store) MetricPointsByExemplarTraceIDs(ctx context.Context, traceIDs []signalstore.TraceID, tr signalstore.TimeRange, limit int) ([]signalstore.MetricPoint, error) {
	start, end := tr.UnixNanos()
	points := []signalstore.MetricPoint{}
	resources := resourceCache{}
	type rowRef struct {
		table string
		rowID int64
	}
	err := s.withReader(ctx, func(c *dbConn) error {
		var refs []rowRef
		for _, id := range uniqueTraceIDs(traceIDs) {
			err := c.query(`SELECT MetricTable, RowId FROM ollystack_exemplar_traces WHERE TraceId = ?`,
				[]any{id[:]}, func(st *sqlite3.Stmt) error {
					ref := rowRef{st.ColumnText(0), st.ColumnInt64(1)}
					if !slices.Contains(refs, ref) {
						refs = append(refs, ref)
					}
					return nil
				})
			if err != nil {
				return err
			}
		}
		for _, ref := range refs {
			q, ok := metricSelect[ref.table]
			if !ok {
				continue
			}
			err := c.query(q, []any{ref.rowID}, func(st *sqlite3.Stmt) error {
				p, err := scanMetricPoint(st, resources)
				if err != nil {
					return err
				}
				ts := p.TimeUnix.UnixNano()
				if ts < start || ts >= end {
					return nil
				}
				p.MetricType = metricTypeOfTable[ref.table]
				points = append(points, p)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("metric points by exemplar trace ids: %w", err)
	}
	signalstore.SortMetricPoints(points)
	if limit > 0 && len(points) > limit {
		points = points[:limit]
	}
	return points, nil
}

func scanMetricPoint(st *sqlite3.Stmt, resources resourceCache) (signalstore.MetricPoint, error) {
	var p signalstore.MetricPoint
	p.TimeUnix = nanosToTime(st.ColumnInt64(0))
	if start := st.ColumnInt64(1); start != 0 {
		p.StartTimeUnix = nanosToTime(start)
	}
	p.ServiceName = st.ColumnText(2)
	p.MetricName = st.ColumnText(3)
	var err error
	if p.ResourceAttributes, err = resources.get(st.ColumnInt64(4), st.ColumnText(5)); err != nil {
		return p, err
	}
	p.ScopeName = st.ColumnText(6)
	p.MetricDescription = st.ColumnText(7)
	p.MetricUnit = st.ColumnText(8)
	if p.Attributes, err = decodeAttributes(st.ColumnText(9)); err != nil {
		return p, err
	}
	if p.Exemplars, err = decodeExemplars(st.ColumnText(10)); err != nil {
		return p, err
	}
	p.Value = st.ColumnFloat(11)
	p.Count = uint64(st.ColumnInt64(12))
	p.Sum = st.ColumnFloat(13)
	if st.ColumnType(14) != sqlite3.NULL {
		v := st.ColumnFloat(14)
		p.Min = &v
	}
	if st.ColumnType(15) != sqlite3.NULL {
		v := st.ColumnFloat(15)
		p.Max = &v
	}
	if text := st.ColumnText(16); text != "" {
		if err := json.Unmarshal([]byte(text), &p.BucketCounts); err != nil {
			return p, fmt.Errorf("decode bucket counts: %w", err)
		}
	}
	if text := st.ColumnText(17); text != "" {
		if err := json.Unmarshal([]byte(text), &p.ExplicitBounds); err != nil {
			return p, fmt.Errorf("decode explicit bounds: %w", err)
		}
	}
	p.IsMonotonic = st.ColumnBool(18)
	p.AggregationTemporality = temporalityNames[st.ColumnInt64(19)]
	p.MakeFinite() // rows written before writes made them finite
	return p, nil
}

func decodeExemplars(text string) ([]signalstore.Exemplar, error) {
	if text == "" {
		return nil, nil
	}
	var stored []storedExemplar
	if err := json.Unmarshal([]byte(text), &stored); err != nil {
		return nil, fmt.Errorf("decode exemplars: %w", err)
	}
	out := make([]signalstore.Exemplar, len(stored))
	for i, e := range stored {
		out[i] = signalstore.Exemplar{TimeUnix: nanosToTime(e.T), Value: e.V, FilteredAttributes: nilIfEmpty(e.A)}
		_ = out[i].TraceID.UnmarshalText([]byte(e.TID))
		_ = out[i].SpanID.UnmarshalText([]byte(e.SID))
	}
	return out, nil
}
