package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// metricTable is one of the exporter's metric tables and the expressions
// that fill the columns it does not have, so all three scan alike.
type metricTable struct {
	metricType string
	name       func(tables) string
	valueCols  string
}

var metricTables = []metricTable{
	{signalstore.MetricTypeGauge, func(t tables) string { return t.gauge },
		"Value, toUInt64(0), toFloat64(0), CAST([] AS Array(UInt64)), CAST([] AS Array(Float64)), toFloat64(0), toFloat64(0), toInt32(0), false"},
	{signalstore.MetricTypeSum, func(t tables) string { return t.sum },
		"Value, toUInt64(0), toFloat64(0), CAST([] AS Array(UInt64)), CAST([] AS Array(Float64)), toFloat64(0), toFloat64(0), AggregationTemporality, IsMonotonic"},
	{signalstore.MetricTypeHistogram, func(t tables) string { return t.histogram },
		"toFloat64(0), Count, Sum, BucketCounts, ExplicitBounds, Min, Max, AggregationTemporality, false"},
}

// metricPointsByExemplarTraceIDs reads one metric table. Its time
// predicate uses the exporter's minmax index on TimeUnix (whole seconds).
func (r readSQL) metricPointsByExemplarTraceIDs(mt metricTable, traceIDs []string, w window, limit int) statement {
	limitSQL, args := limitClause(limit, []any{traceIDs, w.start, w.end})
	return statement{sql: `SELECT TimeUnix, StartTimeUnix, ServiceName, MetricName, MetricDescription, MetricUnit,
    ResourceAttributes, ScopeName, Attributes, ` + mt.valueCols + `,
    ` + "`Exemplars.TimeUnix`, `Exemplars.Value`, `Exemplars.TraceId`, `Exemplars.SpanId`, `Exemplars.FilteredAttributes`" + `
FROM ` + r.t.q(mt.name(r.t)) + `
WHERE hasAny(` + "`Exemplars.TraceId`" + `, ?) AND TimeUnix >= ` + nanoTime + ` AND TimeUnix < ` + nanoTime + `
ORDER BY TimeUnix, MetricName` + limitSQL, args: args}
}

// temporalityNames spell pmetric.AggregationTemporality as pdata does.
var temporalityNames = map[int32]string{1: "Delta", 2: "Cumulative"}

// MetricPointsByExemplarTraceIDs implements signalstore.MetricReader. The
// traces' span times widened by trace_slack bound the read; for traces with
// no stored spans (sampled away, say) the caller's range does, and without
// one default_lookback.
func (s *Store) MetricPointsByExemplarTraceIDs(ctx context.Context, traceIDs []signalstore.TraceID, tr signalstore.TimeRange, limit int) ([]signalstore.MetricPoint, error) {
	points := []signalstore.MetricPoint{}
	ids := traceIDStrings(traceIDs)
	if len(ids) == 0 {
		return points, nil
	}
	w, err := s.slackTraceWindow(ctx, ids, tr)
	if err != nil {
		return nil, err
	}
	if w.empty() {
		return points, nil
	}
	// Metric times are whole seconds: round the start down so a range
	// starting mid-second keeps that second's points, as the caller's
	// nanosecond range would.
	w.start -= w.start % int64(time.Second)
	rs := newReadSQL(s.cfg)
	for _, mt := range metricTables {
		err := s.query(ctx, rs.metricPointsByExemplarTraceIDs(mt, ids, w, limit), func(rows driver.Rows) error {
			p, err := scanMetricPoint(rows, mt.metricType)
			if err != nil {
				return err
			}
			points = append(points, p)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("metric points by exemplar trace ids (%s): %w", mt.metricType, err)
		}
	}
	signalstore.SortMetricPoints(points)
	if limit > 0 && len(points) > limit {
		points = points[:limit]
	}
	return points, nil
}

// slackTraceWindow bounds a read of what the traces' spans point to (logs,
// exemplars): the traces' span times widened by trace_slack, within the
// caller's range; for traces with no stored spans, the caller's range, and
// without one default_lookback.
func (s *Store) slackTraceWindow(ctx context.Context, ids []string, tr signalstore.TimeRange) (window, error) {
	w := s.boundedWindow(tr)
	bounds, found, err := s.traceWindow(ctx, ids)
	if err != nil {
		return window{}, err
	}
	if found {
		bounds = bounds.widen(s.cfg.TraceSlack)
		w = windowOf(tr).intersect(bounds.start, bounds.end)
	}
	return w, nil
}

// boundedWindow is the caller's range with an open start replaced by
// default_lookback, for reads that would otherwise scan all history.
func (s *Store) boundedWindow(tr signalstore.TimeRange) window {
	if tr.Start.IsZero() {
		tr.Start = time.Now().Add(-s.cfg.DefaultLookback)
	}
	return windowOf(tr)
}

func scanMetricPoint(rows driver.Rows, metricType string) (signalstore.MetricPoint, error) {
	var (
		p                    = signalstore.MetricPoint{MetricType: metricType}
		start                time.Time
		minV, maxV           float64
		temporality          int32
		exTimes              []time.Time
		exValues             []float64
		exTraceIDs, exSpanID []string
		exAttrs              []map[string]string
	)
	err := rows.Scan(&p.TimeUnix, &start, &p.ServiceName, &p.MetricName, &p.MetricDescription, &p.MetricUnit,
		&p.ResourceAttributes, &p.ScopeName, &p.Attributes,
		&p.Value, &p.Count, &p.Sum, &p.BucketCounts, &p.ExplicitBounds, &minV, &maxV, &temporality, &p.IsMonotonic,
		&exTimes, &exValues, &exTraceIDs, &exSpanID, &exAttrs)
	if err != nil {
		return p, err
	}
	p.TimeUnix = p.TimeUnix.UTC()
	if start.Unix() > 0 {
		p.StartTimeUnix = start.UTC()
	}
	p.ResourceAttributes = nilIfEmpty(p.ResourceAttributes)
	p.Attributes = nilIfEmpty(p.Attributes)
	p.AggregationTemporality = temporalityNames[temporality]
	if metricType == signalstore.MetricTypeHistogram {
		// The exporter's histogram table has no "min/max present" flag;
		// a histogram row always reports them.
		p.Min, p.Max = &minV, &maxV
	}
	if len(p.BucketCounts) == 0 {
		p.BucketCounts = nil
	}
	if len(p.ExplicitBounds) == 0 {
		p.ExplicitBounds = nil
	}
	for i := range exTimes {
		ex := signalstore.Exemplar{TimeUnix: exTimes[i].UTC(), Value: at(exValues, i),
			FilteredAttributes: nilIfEmpty(at(exAttrs, i))}
		if err := parseIDs(at(exTraceIDs, i), at(exSpanID, i), "", &ex.TraceID, &ex.SpanID, nil); err != nil {
			return p, fmt.Errorf("exemplar: %w", err)
		}
		p.Exemplars = append(p.Exemplars, ex)
	}
	// The exporter stores NaN and ±Inf as they are; JSON cannot carry them.
	p.MakeFinite()
	return p, nil
}
