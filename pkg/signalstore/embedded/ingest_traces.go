package embedded

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"
)

// spanColumnsPerRow is the number of values one span binds.
const spanColumnsPerRow = 18

// spansPerInsert is how many spans one INSERT statement carries: a
// multi-row VALUES list shares the statement's per-execution overhead, which
// cuts the writer's CPU per span by about a fifth (measured with the ncruces
// build; more rows per statement stopped helping).
const spansPerInsert = 16

var insertSpansSQL = func() map[int]string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", spanColumnsPerRow), ", ") + ")"
	out := map[int]string{}
	for n := 1; n <= spansPerInsert; n++ {
		out[n] = `INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, ServiceName, SpanName,
	SpanKind, Duration, StatusCode, CorrelationId, ResourceId, TraceState, ScopeName, ScopeVersion,
	StatusMessage, SpanAttributes, Events, Links) VALUES ` + strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
	}
	return out
}()

// priorSpan is what edge detection needs of a span stored by an earlier
// batch of the same trace.
type priorSpan struct {
	spanID, parentSpanID [8]byte
	service              string
	timestamp, duration  int64
	isError              bool
}

// maxPriorRanges bounds the cross-batch work for one trace: a trace already
// stored in more batches than this (a long-running job) gets no further
// cross-batch edges, rather than quadratic ingest cost.
const maxPriorRanges = 64

func (w *writer) insertTraces(b *traceBatch, tx *txnState, now time.Time) error {
	resourceIDs, err := w.resolveResources(&b.resources, tx)
	if err != nil {
		return err
	}
	// Insert every span first. The batch is sorted by trace id, and rowids
	// of one writer's inserts are consecutive, so each trace's spans get a
	// contiguous rowid range.
	rowIDs := make([]int64, len(b.spans))
	for off := 0; off < len(b.spans); off += spansPerInsert {
		n := min(spansPerInsert, len(b.spans)-off)
		st, err := w.db.prepare(insertSpansSQL[n])
		if err != nil {
			return err
		}
		for i := range n {
			s := &b.spans[off+i]
			if err := bindSpan(st, i*spanColumnsPerRow, s, resourceIDs[s.resource]); err != nil {
				return fmt.Errorf("bind span: %w", err)
			}
		}
		if err := st.Exec(); err != nil {
			return fmt.Errorf("insert spans: %w", err)
		}
		last := w.db.conn.LastInsertRowID()
		for i := range n {
			rowIDs[off+i] = last - int64(n-1-i)
		}
	}
	minT, maxT := b.spans[0].timestamp, b.spans[0].timestamp
	for i := range b.spans {
		s := &b.spans[i]
		minT, maxT = min(minT, s.timestamp), max(maxT, s.timestamp)
		tx.rollup(s.timestamp, s.serviceName, s.spanName, s.duration, s.isError())
	}
	for start := 0; start < len(b.spans); {
		end := start + 1
		for end < len(b.spans) && b.spans[end].traceID == b.spans[start].traceID {
			end++
		}
		run := b.spans[start:end]
		if traceID := run[0].traceID; traceID != [16]byte{} {
			// Earlier batches' spans, read before this run's range row
			// exists so that it does not count itself.
			prior, err := w.priorSpans(traceID)
			if err != nil {
				return err
			}
			if err := w.db.exec(`INSERT INTO ollystack_trace_spans (TraceId, FirstRowId, LastRowId) VALUES (?, ?, ?)`,
				traceID[:], rowIDs[start], rowIDs[end-1]); err != nil {
				return fmt.Errorf("index trace spans: %w", err)
			}
			detectEdges(run, prior, tx)
			indexSpanCorrelations(run, tx)
		}
		start = end
	}
	tx.useResources(resourceIDs, tableTraces, rowIDs[len(rowIDs)-1])
	w.extend(tableTraces, rowIDs[0], rowIDs[len(rowIDs)-1], minT, maxT, now)
	return nil
}

// bindSpan binds without building an []any: this runs once per span and
// the boxing would dominate the allocation profile.
func bindSpan(st *sqlite3.Stmt, base int, s *spanRow, resourceID int64) error {
	return errors.Join(
		st.BindInt64(base+1, s.timestamp),
		st.BindBlob(base+2, s.traceID[:]),
		st.BindBlob(base+3, s.spanID[:]),
		st.BindBlob(base+4, s.parentSpanID[:]),
		st.BindText(base+5, s.serviceName),
		st.BindText(base+6, s.spanName),
		st.BindText(base+7, s.spanKind),
		st.BindInt64(base+8, s.duration),
		st.BindText(base+9, s.statusCode),
		st.BindText(base+10, s.correlationID),
		st.BindInt64(base+11, resourceID),
		st.BindText(base+12, s.traceState),
		st.BindText(base+13, s.scopeName),
		st.BindText(base+14, s.scopeVersion),
		st.BindText(base+15, s.statusMessage),
		st.BindText(base+16, s.attrsJSON),
		st.BindText(base+17, s.eventsJSON),
		st.BindText(base+18, s.linksJSON),
	)
}

// priorSpans loads the spans of traceID that earlier batches stored. For a
// new trace this is one miss in the trace index.
func (w *writer) priorSpans(traceID [16]byte) ([]priorSpan, error) {
	var ranges [][2]int64
	err := w.db.query(`SELECT FirstRowId, LastRowId FROM ollystack_trace_spans WHERE TraceId = ?`,
		[]any{traceID[:]}, func(st *sqlite3.Stmt) error {
			ranges = append(ranges, [2]int64{st.ColumnInt64(0), st.ColumnInt64(1)})
			return nil
		})
	if err != nil || len(ranges) == 0 || len(ranges) > maxPriorRanges {
		return nil, err
	}
	var out []priorSpan
	for _, r := range ranges {
		err := w.db.query(`SELECT SpanId, ParentSpanId, ServiceName, Timestamp, Duration, StatusCode
			FROM otel_traces WHERE rowid BETWEEN ? AND ? AND TraceId = ?`,
			[]any{r[0], r[1], traceID[:]}, func(st *sqlite3.Stmt) error {
				var p priorSpan
				copy(p.spanID[:], st.ColumnRawBlob(0))
				copy(p.parentSpanID[:], st.ColumnRawBlob(1))
				p.service = st.ColumnText(2)
				p.timestamp = st.ColumnInt64(3)
				p.duration = st.ColumnInt64(4)
				p.isError = st.ColumnText(5) == "Error"
				out = append(out, p)
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("load earlier spans of trace: %w", err)
		}
	}
	return out, nil
}

// detectEdges counts a caller → callee edge for every span whose parent span
// belongs to another service, exactly once: when the later of the two spans
// arrives. Spans of this batch look up parents in the batch and in earlier
// batches; earlier spans whose parent arrives now are counted now.
func detectEdges(run []spanRow, prior []priorSpan, tx *txnState) {
	services := make(map[[8]byte]string, len(run)+len(prior))
	for i := range prior {
		services[prior[i].spanID] = prior[i].service
	}
	inRun := make(map[[8]byte]string, len(run))
	for i := range run {
		services[run[i].spanID] = run[i].serviceName
		inRun[run[i].spanID] = run[i].serviceName
	}
	for i := range run {
		s := &run[i]
		if s.parentSpanID == [8]byte{} {
			continue
		}
		if caller, ok := services[s.parentSpanID]; ok && caller != s.serviceName {
			tx.edge(s.timestamp, caller, s.serviceName, s.duration, s.isError())
		}
	}
	for i := range prior {
		p := &prior[i]
		if p.parentSpanID == [8]byte{} {
			continue
		}
		caller, parentIsNew := inRun[p.parentSpanID]
		if !parentIsNew || caller == p.service {
			continue
		}
		if priorHas(prior, p.parentSpanID) {
			continue // already counted when p or its parent arrived
		}
		tx.edge(p.timestamp, caller, p.service, p.duration, p.isError)
	}
}

func priorHas(prior []priorSpan, id [8]byte) bool {
	for i := range prior {
		if prior[i].spanID == id {
			return true
		}
	}
	return false
}

// indexSpanCorrelations updates the per-trace correlation index: every
// correlation id carried by a span of the run gets the run's counts (all
// spans of the trace belong to the answer for that id, DESIGN.md).
func indexSpanCorrelations(run []spanRow, tx *txnState) {
	var ids []string
	first, last := run[0].timestamp, run[0].end()
	var errs int64
	root := -1
	for i := range run {
		s := &run[i]
		first, last = min(first, s.timestamp), max(last, s.end())
		if s.isError() {
			errs++
		}
		if s.parentSpanID == [8]byte{} && (root < 0 || s.timestamp < run[root].timestamp) {
			root = i
		}
		if s.correlationID != "" && !containsString(ids, s.correlationID) {
			ids = append(ids, s.correlationID)
		}
	}
	for _, id := range ids {
		a := tx.correlation(id, run[0].traceID, first, last)
		a.spans += int64(len(run))
		a.errors += errs
		if root >= 0 && (a.rootService == "" || run[root].timestamp < a.rootStart) {
			a.rootService, a.rootName, a.rootStart = run[root].serviceName, run[root].spanName, run[root].timestamp
		}
		for i := range run {
			a.addService(run[i].serviceName)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
