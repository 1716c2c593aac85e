package clickhouse

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// serviceEdges joins child spans in the window to their parents, read from
// the narrow ollystack_service_spans table. Parents start before their
// children, so the parent side looks back trace_slack further. The right
// side of the join is held in memory: the window bounds its size, which is
// why an open range falls back to default_lookback.
func (r readSQL) serviceEdges(w window, parentStart int64) statement {
	spans := r.t.q(r.t.serviceSpans)
	return statement{sql: `SELECT p.ServiceName AS caller, c.ServiceName AS callee,
    toInt64(count()) AS requests,
    toInt64(countIf(c.IsError = 1)) AS errors,
    avg(c.Duration) AS avg_duration,
    quantiles(0.5, 0.95, 0.99)(c.Duration) AS latency
FROM (
    SELECT TraceId, ParentSpanId, ServiceName, Duration, IsError FROM ` + spans + `
    WHERE ParentSpanId != '' AND Timestamp >= ` + nanoTime + ` AND Timestamp < ` + nanoTime + `
) AS c
INNER JOIN (
    SELECT TraceId, SpanId, ServiceName FROM ` + spans + `
    WHERE Timestamp >= ` + nanoTime + ` AND Timestamp < ` + nanoTime + `
) AS p ON c.TraceId = p.TraceId AND c.ParentSpanId = p.SpanId
WHERE p.ServiceName != c.ServiceName
GROUP BY caller, callee
ORDER BY caller, callee`, args: []any{w.start, w.end, parentStart, w.end}}
}

// ServiceEdges implements signalstore.TopologyReader.
func (s *Store) ServiceEdges(ctx context.Context, tr signalstore.TimeRange) ([]signalstore.ServiceEdge, error) {
	edges := []signalstore.ServiceEdge{}
	w := s.boundedWindow(tr)
	if w.empty() {
		return edges, nil
	}
	parentStart := w.widen(s.cfg.TraceSlack).start
	err := s.query(ctx, newReadSQL(s.cfg).serviceEdges(w, parentStart), func(rows driver.Rows) error {
		var (
			e       signalstore.ServiceEdge
			avg     float64
			latency []float64
		)
		if err := rows.Scan(&e.Caller, &e.Callee, &e.RequestCount, &e.ErrorCount, &avg, &latency); err != nil {
			return err
		}
		e.AvgDuration = nanos(avg)
		if len(latency) == 3 {
			e.P50Duration, e.P95Duration, e.P99Duration = nanos(latency[0]), nanos(latency[1]), nanos(latency[2])
		}
		edges = append(edges, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("service edges: %w", err)
	}
	return edges, nil
}

func nanos(f float64) time.Duration {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return time.Duration(math.Round(f))
}
