package embedded

import (
	"errors"
	"fmt"
	"time"
)

const insertLogSQL = `INSERT INTO otel_logs (Timestamp, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber,
	ServiceName, CorrelationId, ResourceId, ScopeName, ScopeVersion, EventName, Body, LogAttributes)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertLogs appends the (trace id, correlation id)-sorted records and
// indexes each contiguous run once: by trace id for records with trace
// context, by correlation id for records carrying the attribute.
func (w *writer) insertLogs(b *logBatch, tx *txnState, now time.Time) error {
	resourceIDs, err := w.resolveResources(&b.resources, tx)
	if err != nil {
		return err
	}
	st, err := w.db.prepare(insertLogSQL)
	if err != nil {
		return err
	}
	rowIDs := make([]int64, len(b.logs))
	minT, maxT := b.logs[0].timestamp, b.logs[0].timestamp
	for i := range b.logs {
		l := &b.logs[i]
		err := errors.Join(
			st.BindInt64(1, l.timestamp),
			st.BindBlob(2, l.traceID[:]),
			st.BindBlob(3, l.spanID[:]),
			st.BindInt64(4, int64(l.traceFlags)),
			st.BindText(5, l.severityText),
			st.BindInt64(6, int64(l.severityNumber)),
			st.BindText(7, l.serviceName),
			st.BindText(8, l.correlationID),
			st.BindInt64(9, resourceIDs[l.resource]),
			st.BindText(10, l.scopeName),
			st.BindText(11, l.scopeVersion),
			st.BindText(12, l.eventName),
			st.BindText(13, l.body),
			st.BindText(14, l.attrsJSON),
		)
		if err != nil {
			return fmt.Errorf("bind log record: %w", err)
		}
		if err := st.Exec(); err != nil {
			return fmt.Errorf("insert log record: %w", err)
		}
		rowIDs[i] = w.db.conn.LastInsertRowID()
		minT, maxT = min(minT, l.timestamp), max(maxT, l.timestamp)
	}
	for start := 0; start < len(b.logs); {
		end := start + 1
		for end < len(b.logs) && b.logs[end].traceID == b.logs[start].traceID {
			end++
		}
		traceID := b.logs[start].traceID
		if traceID != [16]byte{} {
			if err := w.db.exec(`INSERT INTO ollystack_trace_logs (TraceId, FirstRowId, LastRowId) VALUES (?, ?, ?)`,
				traceID[:], rowIDs[start], rowIDs[end-1]); err != nil {
				return fmt.Errorf("index trace logs: %w", err)
			}
		}
		for cs := start; cs < end; {
			ce := cs + 1
			for ce < end && b.logs[ce].correlationID == b.logs[cs].correlationID {
				ce++
			}
			if id := b.logs[cs].correlationID; id != "" {
				if err := w.db.exec(`INSERT INTO ollystack_correlation_logs (CorrelationId, FirstRowId, LastRowId) VALUES (?, ?, ?)`,
					id, rowIDs[cs], rowIDs[ce-1]); err != nil {
					return fmt.Errorf("index correlation logs: %w", err)
				}
				first, last := b.logs[cs].timestamp, b.logs[cs].timestamp
				for i := cs; i < ce; i++ {
					first, last = min(first, b.logs[i].timestamp), max(last, b.logs[i].timestamp)
				}
				a := tx.correlation(id, traceID, first, last)
				a.logs += int64(ce - cs)
				for i := cs; i < ce; i++ {
					a.addService(b.logs[i].serviceName)
				}
			}
			cs = ce
		}
		start = end
	}
	tx.useResources(resourceIDs, tableLogs, rowIDs[len(rowIDs)-1])
	w.extend(tableLogs, rowIDs[0], rowIDs[len(rowIDs)-1], minT, maxT, now)
	return nil
}

var insertMetricSQL = map[string]string{
	tableMetricsGauge: `INSERT INTO otel_metrics_gauge (TimeUnix, StartTimeUnix, ServiceName, MetricName, ResourceId,
		Value, Flags, ScopeName, ScopeVersion, MetricDescription, MetricUnit, Attributes, Exemplars)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	tableMetricsSum: `INSERT INTO otel_metrics_sum (TimeUnix, StartTimeUnix, ServiceName, MetricName, ResourceId,
		Value, Flags, AggregationTemporality, IsMonotonic, ScopeName, ScopeVersion, MetricDescription, MetricUnit,
		Attributes, Exemplars)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	tableMetricsHistogram: `INSERT INTO otel_metrics_histogram (TimeUnix, StartTimeUnix, ServiceName, MetricName,
		ResourceId, Count, Sum, Min, Max, Flags, AggregationTemporality, ScopeName, ScopeVersion, MetricDescription,
		MetricUnit, BucketCounts, ExplicitBounds, Attributes, Exemplars)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
}

func metricArgs(p *metricRow, resourceID int64) []any {
	switch p.table {
	case tableMetricsGauge:
		return []any{p.timeUnix, p.startTimeUnix, p.serviceName, p.metricName, resourceID, p.value, p.flags,
			p.scopeName, p.scopeVersion, p.description, p.unit, p.attrsJSON, p.exemplarsJSON}
	case tableMetricsSum:
		return []any{p.timeUnix, p.startTimeUnix, p.serviceName, p.metricName, resourceID, p.value, p.flags,
			p.temporality, p.isMonotonic, p.scopeName, p.scopeVersion, p.description, p.unit, p.attrsJSON,
			p.exemplarsJSON}
	default:
		return []any{p.timeUnix, p.startTimeUnix, p.serviceName, p.metricName, resourceID, int64(p.count),
			p.sum, p.min, p.max, p.flags, p.temporality, p.scopeName, p.scopeVersion, p.description, p.unit,
			p.bucketCountsJSON, p.boundsJSON, p.attrsJSON, p.exemplarsJSON}
	}
}

func (w *writer) insertMetrics(b *metricBatch, tx *txnState, now time.Time) error {
	resourceIDs, err := w.resolveResources(&b.resources, tx)
	if err != nil {
		return err
	}
	// A batch's points go to up to three tables; each of its resources
	// gets a use in each of them.
	lastRowIDs := map[string]int64{}
	for i := range b.points {
		p := &b.points[i]
		if err := w.db.exec(insertMetricSQL[p.table], metricArgs(p, resourceIDs[p.resource])...); err != nil {
			return fmt.Errorf("insert %s point: %w", p.table, err)
		}
		rowID := w.db.conn.LastInsertRowID()
		for _, tid := range p.exemplarTraceIDs {
			if err := w.db.exec(`INSERT OR IGNORE INTO ollystack_exemplar_traces (TraceId, MetricTable, RowId) VALUES (?, ?, ?)`,
				tid[:], p.table, rowID); err != nil {
				return fmt.Errorf("index exemplar trace: %w", err)
			}
		}
		w.extend(p.table, rowID, rowID, p.timeUnix, p.timeUnix, now)
		lastRowIDs[p.table] = rowID
	}
	for table, last := range lastRowIDs {
		tx.useResources(resourceIDs, table, last)
	}
	return nil
}
