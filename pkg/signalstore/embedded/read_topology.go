package embedded

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// ServiceEdges implements signalstore.TopologyReader from the per-minute
// edge rollup: the range is widened to whole minutes.
func (s *Store) ServiceEdges(ctx context.Context, tr signalstore.TimeRange) ([]signalstore.ServiceEdge, error) {
	start, end := tr.UnixNanos()
	if start != math.MinInt64 {
		start = bucketOf(start)
	}
	type agg struct {
		requests, errors, sum int64
		hist                  latencyHist
	}
	edges := map[[2]string]*agg{}
	err := s.withReader(ctx, func(c *dbConn) error {
		return c.query(`SELECT Caller, Callee, Requests, Errors, DurationSum, Histogram
			FROM ollystack_service_edges WHERE Bucket >= ? AND Bucket < ?`, []any{start, end},
			func(st *sqlite3.Stmt) error {
				k := [2]string{st.ColumnText(0), st.ColumnText(1)}
				a := edges[k]
				if a == nil {
					a = &agg{hist: newLatencyHist()}
					edges[k] = a
				}
				a.requests += st.ColumnInt64(2)
				a.errors += st.ColumnInt64(3)
				a.sum += st.ColumnInt64(4)
				decodeLatencyHist(st.ColumnRawBlob(5), a.hist)
				return nil
			})
	})
	if err != nil {
		return nil, fmt.Errorf("service edges: %w", err)
	}
	out := make([]signalstore.ServiceEdge, 0, len(edges))
	for k, a := range edges {
		e := signalstore.ServiceEdge{
			Caller: k[0], Callee: k[1], RequestCount: a.requests, ErrorCount: a.errors,
			P50Duration: time.Duration(a.hist.quantile(0.50)),
			P95Duration: time.Duration(a.hist.quantile(0.95)),
			P99Duration: time.Duration(a.hist.quantile(0.99)),
		}
		if a.requests > 0 {
			e.AvgDuration = time.Duration(a.sum / a.requests)
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b signalstore.ServiceEdge) int {
		return cmp.Or(cmp.Compare(a.Caller, b.Caller), cmp.Compare(a.Callee, b.Callee))
	})
	return out, nil
}

// RecentCorrelations implements signalstore.CorrelationReader. It walks the
// correlation index newest first and summarises each id it meets until the
// limit is filled, so a recent answer costs a few index probes, not a scan.
func (s *Store) RecentCorrelations(ctx context.Context, f signalstore.CorrelationFilter) ([]signalstore.CorrelationSummary, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = signalstore.DefaultCorrelationLimit
	}
	since := int64(math.MinInt64)
	if !f.Since.IsZero() {
		since = f.Since.UnixNano()
	}
	out := []signalstore.CorrelationSummary{}
	seen := map[string]bool{}
	err := s.withReader(ctx, func(c *dbConn) error {
		// The outer statement is read in full before summarising: SQLite
		// allows nested statements, but a page of candidates keeps the
		// read transaction short and the code simple.
		var before int64 = math.MaxInt64
		if !f.Until.IsZero() {
			before = f.Until.UnixNano()
		}
		scanned := 0
		for len(out) < limit && scanned < maxRecentCandidates {
			var page []string
			var pageLast int64
			err := c.query(`SELECT CorrelationId, LastSeen FROM ollystack_correlations
				WHERE LastSeen >= ? AND LastSeen < ? ORDER BY LastSeen DESC LIMIT 500`,
				[]any{since, before}, func(st *sqlite3.Stmt) error {
					page = append(page, st.ColumnText(0))
					pageLast = st.ColumnInt64(1)
					return nil
				})
			if err != nil {
				return err
			}
			if len(page) == 0 {
				return nil
			}
			scanned += len(page)
			// Rows sharing pageLast may straddle the page boundary;
			// include them all by moving the bound just past it.
			before = pageLast
			if len(page) < 500 {
				before = math.MinInt64
			}
			for _, id := range page {
				if seen[id] || len(out) >= limit {
					continue
				}
				seen[id] = true
				sum, err := summarise(c, id)
				if err != nil {
					return err
				}
				if matches(sum, f) {
					out = append(out, sum)
				}
			}
			if before == math.MinInt64 {
				return nil
			}
			if err := c.query(`SELECT DISTINCT CorrelationId FROM ollystack_correlations WHERE LastSeen = ?`,
				[]any{pageLast}, func(st *sqlite3.Stmt) error {
					id := st.ColumnText(0)
					if seen[id] || len(out) >= limit {
						return nil
					}
					seen[id] = true
					sum, err := summarise(c, id)
					if err != nil {
						return err
					}
					if matches(sum, f) {
						out = append(out, sum)
					}
					return nil
				}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recent correlations: %w", err)
	}
	slices.SortStableFunc(out, func(a, b signalstore.CorrelationSummary) int {
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), cmp.Compare(a.CorrelationID, b.CorrelationID))
	})
	return out, nil
}

func matches(sum signalstore.CorrelationSummary, f signalstore.CorrelationFilter) bool {
	if f.ErrorsOnly && sum.ErrorCount == 0 {
		return false
	}
	if f.MinDuration > 0 && sum.Duration < f.MinDuration {
		return false
	}
	if f.Service != "" && !slices.Contains(sum.Services, f.Service) {
		return false
	}
	// The index walk starts before Until, but an id's later rows may not.
	return f.Until.IsZero() || sum.LastSeen.Before(f.Until)
}

func summarise(c *dbConn, id string) (signalstore.CorrelationSummary, error) {
	sum := signalstore.CorrelationSummary{CorrelationID: id, Services: []string{}}
	var first, last int64
	err := c.query(`SELECT min(FirstSeen), max(LastSeen), count(*) FILTER (WHERE TraceId <> ?),
		sum(SpanCount), sum(ErrorCount), sum(LogCount)
		FROM ollystack_correlations WHERE CorrelationId = ?`, []any{zeroTraceID, id},
		func(st *sqlite3.Stmt) error {
			first, last = st.ColumnInt64(0), st.ColumnInt64(1)
			sum.TraceCount, sum.SpanCount = st.ColumnInt64(2), st.ColumnInt64(3)
			sum.ErrorCount, sum.LogCount = st.ColumnInt64(4), st.ColumnInt64(5)
			return nil
		})
	if err != nil {
		return sum, err
	}
	sum.FirstSeen, sum.LastSeen = nanosToTime(first), nanosToTime(last)
	sum.Duration = time.Duration(last - first)
	err = c.query(`SELECT RootService, RootSpanName FROM ollystack_correlations
		WHERE CorrelationId = ? AND RootService <> '' ORDER BY FirstSeen LIMIT 1`, []any{id},
		func(st *sqlite3.Stmt) error {
			sum.RootService, sum.RootSpanName = st.ColumnText(0), st.ColumnText(1)
			return nil
		})
	if err != nil {
		return sum, err
	}
	var services []string
	err = c.query(`SELECT Services FROM ollystack_correlations WHERE CorrelationId = ?`,
		[]any{id}, func(st *sqlite3.Stmt) error {
			services = append(services, decodeStringSet(st.ColumnText(0))...)
			return nil
		})
	sum.Services = decodeStringSet(encodeStringSet(services))
	if sum.Services == nil {
		sum.Services = []string{}
	}
	return sum, err
}
