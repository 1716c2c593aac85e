package embedded

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/ncruces/go-sqlite3"
)

// txnState accumulates, across every request of one group commit, the index
// and rollup updates, so that each correlation, edge and rollup row is
// upserted once per transaction rather than once per span.
type txnState struct {
	newResources map[[sha256.Size]byte]int64
	// resourceUses is the last rowid each resource may be referenced
	// from, per data table, for ollystack_resource_uses.
	resourceUses map[resourceUse]int64
	correlations map[corrKey]*corrAgg
	edges        map[edgeKey]*latencyAgg
	rollups      map[rollupKey]*latencyAgg
}

type corrKey struct {
	correlationID string
	traceID       [16]byte
}

type corrAgg struct {
	firstSeen, lastSeen   int64
	spans, errors, logs   int64
	rootService, rootName string
	rootStart             int64
	services              []string
}

func (a *corrAgg) addService(s string) {
	if !containsString(a.services, s) {
		a.services = append(a.services, s)
	}
}

type edgeKey struct {
	bucket         int64
	caller, callee string
}

type rollupKey struct {
	bucket        int64
	service, name string
}

type latencyAgg struct {
	requests, errors int64
	sum, min, max    int64
	hist             latencyHist
}

func (a *latencyAgg) add(duration int64, isErr bool) {
	if a.requests == 0 || duration < a.min {
		a.min = duration
	}
	a.max = max(a.max, duration)
	a.requests++
	if isErr {
		a.errors++
	}
	a.sum += duration
	a.hist.add(duration)
}

func newTxnState() *txnState {
	return &txnState{
		newResources: map[[sha256.Size]byte]int64{},
		resourceUses: map[resourceUse]int64{},
		correlations: map[corrKey]*corrAgg{},
		edges:        map[edgeKey]*latencyAgg{},
		rollups:      map[rollupKey]*latencyAgg{},
	}
}

func (t *txnState) correlation(id string, traceID [16]byte, first, last int64) *corrAgg {
	k := corrKey{id, traceID}
	a := t.correlations[k]
	if a == nil {
		a = &corrAgg{firstSeen: first, lastSeen: last}
		t.correlations[k] = a
	}
	a.firstSeen = min(a.firstSeen, first)
	a.lastSeen = max(a.lastSeen, last)
	return a
}

// useResources records that rows of table up to lastRowID may reference
// the resources. Every resource of a request gets a use, even one none of
// its rows references (a resource whose only metrics were dropped), so no
// resource row is ever left without one.
func (t *txnState) useResources(ids []int64, table string, lastRowID int64) {
	for _, id := range ids {
		k := resourceUse{id, table}
		t.resourceUses[k] = max(t.resourceUses[k], lastRowID)
	}
}

func bucketOf(ts int64) int64 {
	b := ts - ts%rollupBucketNanos
	if ts < 0 && ts%rollupBucketNanos != 0 {
		b -= rollupBucketNanos
	}
	return b
}

func (t *txnState) edge(ts int64, caller, callee string, duration int64, isErr bool) {
	k := edgeKey{bucketOf(ts), caller, callee}
	a := t.edges[k]
	if a == nil {
		a = &latencyAgg{hist: newLatencyHist()}
		t.edges[k] = a
	}
	a.add(duration, isErr)
}

func (t *txnState) rollup(ts int64, service, name string, duration int64, isErr bool) {
	k := rollupKey{bucketOf(ts), service, name}
	a := t.rollups[k]
	if a == nil {
		a = &latencyAgg{hist: newLatencyHist()}
		t.rollups[k] = a
	}
	a.add(duration, isErr)
}

// flushTxnState upserts the accumulated index and rollup rows.
func (w *writer) flushTxnState(t *txnState) error {
	for k, last := range t.resourceUses {
		// max: after a table was emptied its rowids restart low, and an
		// older, higher mark is still a safe bound.
		err := w.db.exec(`INSERT INTO ollystack_resource_uses (ResourceId, TableName, LastRowId) VALUES (?, ?, ?)
			ON CONFLICT (ResourceId, TableName) DO UPDATE SET LastRowId = max(LastRowId, excluded.LastRowId)`,
			k.id, k.table, last)
		if err != nil {
			return fmt.Errorf("record resource use: %w", err)
		}
	}
	for k, a := range t.correlations {
		err := w.db.exec(`INSERT INTO ollystack_correlations
			(CorrelationId, TraceId, FirstSeen, LastSeen, SpanCount, ErrorCount, LogCount, RootService, RootSpanName, Services)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (CorrelationId, TraceId) DO UPDATE SET
				FirstSeen = min(FirstSeen, excluded.FirstSeen),
				LastSeen = max(LastSeen, excluded.LastSeen),
				SpanCount = SpanCount + excluded.SpanCount,
				ErrorCount = ErrorCount + excluded.ErrorCount,
				LogCount = LogCount + excluded.LogCount,
				RootService = CASE WHEN RootService = '' THEN excluded.RootService ELSE RootService END,
				RootSpanName = CASE WHEN RootService = '' THEN excluded.RootSpanName ELSE RootSpanName END,
				Services = ollystack_set_union(Services, excluded.Services)`,
			k.correlationID, k.traceID[:], a.firstSeen, a.lastSeen, a.spans, a.errors, a.logs, a.rootService, a.rootName,
			encodeStringSet(a.services))
		if err != nil {
			return fmt.Errorf("update correlation index: %w", err)
		}
	}
	for k, a := range t.edges {
		err := w.db.exec(`INSERT INTO ollystack_service_edges (Bucket, Caller, Callee, Requests, Errors, DurationSum, Histogram)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (Bucket, Caller, Callee) DO UPDATE SET
				Requests = Requests + excluded.Requests,
				Errors = Errors + excluded.Errors,
				DurationSum = DurationSum + excluded.DurationSum,
				Histogram = ollystack_hist_merge(Histogram, excluded.Histogram)`,
			k.bucket, k.caller, k.callee, a.requests, a.errors, a.sum, a.hist.encode())
		if err != nil {
			return fmt.Errorf("update service edges: %w", err)
		}
	}
	for k, a := range t.rollups {
		err := w.db.exec(`INSERT INTO ollystack_span_rollup
			(Bucket, ServiceName, SpanName, Requests, Errors, DurationSum, DurationMin, DurationMax, Histogram)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (Bucket, ServiceName, SpanName) DO UPDATE SET
				Requests = Requests + excluded.Requests,
				Errors = Errors + excluded.Errors,
				DurationSum = DurationSum + excluded.DurationSum,
				DurationMin = min(DurationMin, excluded.DurationMin),
				DurationMax = max(DurationMax, excluded.DurationMax),
				Histogram = ollystack_hist_merge(Histogram, excluded.Histogram)`,
			k.bucket, k.service, k.name, a.requests, a.errors, a.sum, a.min, a.max, a.hist.encode())
		if err != nil {
			return fmt.Errorf("update span rollup: %w", err)
		}
	}
	return nil
}

// encodeStringSet writes a sorted JSON array of distinct strings.
func encodeStringSet(set []string) string {
	sorted := slices.Clone(set)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	b, _ := json.Marshal(sorted) // a []string always marshals
	return string(b)
}

// decodeStringSet reads encodeStringSet's output; malformed text yields nil
// (it only ever comes from encodeStringSet).
func decodeStringSet(text string) []string {
	var set []string
	_ = json.Unmarshal([]byte(text), &set)
	return set
}

// registerWriterFunctions defines the SQL functions the writer's upserts
// use: ollystack_hist_merge(a, b) adds two encoded latency histograms,
// ollystack_set_union(a, b) merges two encoded string sets.
func registerWriterFunctions(conn *sqlite3.Conn) error {
	err := conn.CreateFunction("ollystack_set_union", 2, sqlite3.DETERMINISTIC|sqlite3.DIRECTONLY,
		func(ctx sqlite3.Context, arg ...sqlite3.Value) {
			ctx.ResultText(encodeStringSet(append(decodeStringSet(arg[0].Text()), decodeStringSet(arg[1].Text())...)))
		})
	if err != nil {
		return fmt.Errorf("register ollystack_set_union: %w", err)
	}
	return registerHistMerge(conn)
}

func registerHistMerge(conn *sqlite3.Conn) error {
	err := conn.CreateFunction("ollystack_hist_merge", 2, sqlite3.DETERMINISTIC|sqlite3.DIRECTONLY,
		func(ctx sqlite3.Context, arg ...sqlite3.Value) {
			h := newLatencyHist()
			decodeLatencyHist(arg[0].RawBlob(), h)
			decodeLatencyHist(arg[1].RawBlob(), h)
			ctx.ResultBlob(h.encode())
		})
	if err != nil {
		return fmt.Errorf("register ollystack_hist_merge: %w", err)
	}
	return nil
}
