package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// ErrorFingerprint is one kind of error: error spans and ERROR-or-worse logs
// with the same service, operation, exception type and digit-masked
// message. It is specific to this backend (the embedded one has no such
// rollup), so it is a method of Store rather than of signalstore.Reader.
type ErrorFingerprint struct {
	Fingerprint   uint64              `json:"fingerprint"`
	Signal        string              `json:"signal"` // "span" or "log"
	ServiceName   string              `json:"service_name"`
	Operation     string              `json:"operation,omitempty"`
	ExceptionType string              `json:"exception_type,omitempty"`
	Message       string              `json:"message"`
	Count         int64               `json:"count"`
	FirstSeen     time.Time           `json:"first_seen"`
	LastSeen      time.Time           `json:"last_seen"`
	SampleTraceID signalstore.TraceID `json:"sample_trace_id,omitzero"`
}

// errorFingerprints reads the rollup by day partitions; counts are whole
// days' counts of the fingerprints seen in the window.
func (r readSQL) errorFingerprints(w window, service string, limit int) statement {
	args := []any{w.start, w.end}
	serviceFilter := ""
	if service != "" {
		serviceFilter = " AND ServiceName = ?"
		args = append(args, service)
	}
	args = append(args, w.start, w.end, limit)
	return statement{sql: `SELECT Fingerprint, Signal, ServiceName,
    any(Operation), any(ExceptionType), any(Message),
    toInt64(sum(Count)) AS occurrences,
    min(FirstSeen) AS first_seen,
    max(LastSeen) AS last_seen,
    any(SampleTraceId)
FROM ` + r.t.q(r.t.errorFingerprints) + `
WHERE Day >= ` + nanoDate + ` AND Day <= ` + nanoDate + serviceFilter + `
GROUP BY Fingerprint, Signal, ServiceName
HAVING last_seen >= ` + nanoTime + ` AND first_seen < ` + nanoTime + `
ORDER BY occurrences DESC, Fingerprint
LIMIT ?`, args: args}
}

// ErrorFingerprints lists the most frequent kinds of error seen in the
// range (default_lookback when it has no start), optionally of one
// service. limit <= 0 means 100.
func (s *Store) ErrorFingerprints(ctx context.Context, tr signalstore.TimeRange, service string, limit int) ([]ErrorFingerprint, error) {
	if limit <= 0 {
		limit = signalstore.DefaultCorrelationLimit
	}
	out := []ErrorFingerprint{}
	w := s.boundedWindow(tr)
	// Nothing is indexed in the future: an open end (year 2262) reads no
	// more partitions than tomorrow does.
	w.end = min(w.end, time.Now().Add(24*time.Hour).UnixNano())
	if w.empty() {
		return out, nil
	}
	err := s.query(ctx, newReadSQL(s.cfg).errorFingerprints(w, service, limit), func(rows driver.Rows) error {
		var (
			e        ErrorFingerprint
			sampleID string
		)
		if err := rows.Scan(&e.Fingerprint, &e.Signal, &e.ServiceName, &e.Operation, &e.ExceptionType, &e.Message,
			&e.Count, &e.FirstSeen, &e.LastSeen, &sampleID); err != nil {
			return err
		}
		e.FirstSeen, e.LastSeen = e.FirstSeen.UTC(), e.LastSeen.UTC()
		// A malformed sample id only loses the sample, not the row.
		_ = e.SampleTraceID.UnmarshalText([]byte(sampleID))
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("error fingerprints: %w", err)
	}
	return out, nil
}
