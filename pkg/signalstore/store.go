// Package signalstore is OllyStack's storage layer: the backend-neutral
// interfaces that the exporter writes through and the correlate / AI
// extensions read through, the typed query both backends compile, and the
// model types the read primitives return.
//
// A backend implements Writer and Reader. Optional abilities (Purger,
// io.Closer) are separate interfaces found by type assertion, so a backend
// that cannot purge simply does not implement Purger.
package signalstore

import (
	"context"
	"errors"
	"math"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// DefaultCorrelationAttribute is the span / log attribute that carries the
// correlation id unless configured otherwise (see DESIGN.md, the correlation
// model).
const DefaultCorrelationAttribute = "correlation_id"

// ErrClosed is returned by backends used after Close.
var ErrClosed = errors.New("signalstore: store is closed")

// Writer stores telemetry. A nil error means the data is durable: it survives
// a crash of the process (kill -9) and is visible to readers (immediately for
// the embedded backend, eventually for asynchronous backends such as
// ClickHouse). Implementations must not retain or modify the pdata after the
// call returns.
type Writer interface {
	WriteTraces(ctx context.Context, td ptrace.Traces) error
	WriteLogs(ctx context.Context, ld plog.Logs) error
	WriteMetrics(ctx context.Context, md pmetric.Metrics) error
}

// CorrelationReader resolves correlation ids to the traces carrying them.
type CorrelationReader interface {
	// TraceIDsForCorrelation returns every trace id whose spans or logs carry
	// the correlation id, ordered by first appearance. An unknown id yields an
	// empty slice and no error.
	TraceIDsForCorrelation(ctx context.Context, correlationID string, tr TimeRange) ([]TraceID, error)
	// RecentCorrelations lists the most recent correlation ids matching the
	// filter, newest first.
	RecentCorrelations(ctx context.Context, f CorrelationFilter) ([]CorrelationSummary, error)
}

// SpanReader returns spans.
type SpanReader interface {
	// SpansByTraceIDs returns the spans of the given traces (unknown ids
	// contribute nothing), ordered by trace id, then start time, then span
	// id. A limit <= 0 means no limit; otherwise the earliest spans over
	// all the traces (by start time, then span id) up to limit are
	// returned, and a trace of millions of spans is not read whole.
	SpansByTraceIDs(ctx context.Context, traceIDs []TraceID, tr TimeRange, limit int) ([]Span, error)
}

// LogReader returns log records. A limit <= 0 means no limit; otherwise the
// earliest records up to limit are returned.
type LogReader interface {
	// LogsByTraceIDs returns the log records of the given traces, ordered by
	// timestamp.
	LogsByTraceIDs(ctx context.Context, traceIDs []TraceID, tr TimeRange, limit int) ([]LogRecord, error)
	// LogsByCorrelationID returns the log records carrying the correlation
	// id attribute themselves (including those without trace context),
	// ordered by timestamp. Callers that want the full closure also read
	// LogsByTraceIDs for TraceIDsForCorrelation.
	LogsByCorrelationID(ctx context.Context, correlationID string, tr TimeRange, limit int) ([]LogRecord, error)
}

// MetricReader returns metric points. A limit <= 0 means no limit.
type MetricReader interface {
	// MetricPointsByExemplarTraceIDs returns the gauge, sum and histogram
	// points having at least one exemplar that names one of the trace ids,
	// ordered by timestamp. Each point carries all of its exemplars.
	MetricPointsByExemplarTraceIDs(ctx context.Context, traceIDs []TraceID, tr TimeRange, limit int) ([]MetricPoint, error)
}

// ServiceEdgeResolution is the period backends may count service edges by:
// the embedded backend keeps them in per-minute rollups.
const ServiceEdgeResolution = time.Minute

// TopologyReader returns the service graph.
type TopologyReader interface {
	// ServiceEdges returns caller → callee edges (a span of one service
	// whose parent span belongs to another) seen in the time range, with
	// request and error counts and the callee-side latency, ordered by
	// caller then callee. Backends may compute edges asynchronously, so the
	// newest seconds of data can be missing, and may count them per
	// ServiceEdgeResolution: only a range of whole such periods gets the
	// same counts from every backend.
	ServiceEdges(ctx context.Context, tr TimeRange) ([]ServiceEdge, error)
}

// QueryRunner executes typed queries. Backends compile a validated Query to
// their own SQL with bound parameters; no query text from outside a backend
// is ever executed.
type QueryRunner interface {
	Query(ctx context.Context, q Query) (*QueryResult, error)
}

// Reader is everything the correlate and AI features read.
type Reader interface {
	CorrelationReader
	SpanReader
	LogReader
	MetricReader
	TopologyReader
	QueryRunner
}

// Store is a backend that both writes and reads, as the signalstore extension
// hands it out.
type Store interface {
	Writer
	Reader
}

// Purger deletes all stored data. Used by tests and admin tooling; backends
// that cannot purge do not implement it.
type Purger interface {
	Purge(ctx context.Context) error
}

// DocumentStore keeps the small JSON documents the AI features produce
// (analyses, investigations) next to the telemetry they describe, so they
// survive a restart. It is optional: a backend that cannot keep documents
// does not implement it, and callers find it by type assertion or through
// the signalstore extension.
type DocumentStore interface {
	// PutDocument inserts the document, or replaces the one with the same
	// Kind and ID. A nil error means it is durable, like Writer's.
	PutDocument(ctx context.Context, d Document) error
	// GetDocument returns the document (kind, id), or an error wrapping
	// ErrNotFound.
	GetDocument(ctx context.Context, kind, id string) (Document, error)
	// ListDocuments returns the documents matching the filter, most
	// recently updated first.
	ListDocuments(ctx context.Context, f DocumentFilter) ([]Document, error)
}

// ErrNotFound is wrapped by reads of one thing that does not exist.
var ErrNotFound = errors.New("signalstore: not found")

// Document is one stored JSON document.
type Document struct {
	// Kind groups documents of one shape, e.g. "analysis".
	Kind string `json:"kind"`
	// ID is unique within Kind.
	ID string `json:"id"`
	// Ref is what the document is about, e.g. a correlation id; indexed,
	// may be empty.
	Ref string `json:"ref,omitempty"`
	// Updated is when the document was last written; ListDocuments orders
	// by it. Writers set it; backends keep it as given.
	Updated time.Time `json:"updated"`
	// Body is the document, a JSON value of at most MaxDocumentBytes.
	Body []byte `json:"body"`
}

// Document limits, checked by PutDocument.
const (
	MaxDocumentBytes  = 1 << 20
	MaxDocumentKeyLen = 256 // Kind, ID and Ref each
)

// Document kinds of OllyStack's own components.
const (
	// DocumentKindAnalysis is the latest analysis of one correlation by
	// the AI extension (Ref: the correlation id), shown by the correlate
	// API as ai_insights.
	DocumentKindAnalysis = "analysis"
	// DocumentKindInvestigation is one investigation of the AI extension.
	DocumentKindInvestigation = "investigation"
)

// DocumentFilter selects ListDocuments.
type DocumentFilter struct {
	// Kind is required.
	Kind string
	// Ref, if set, keeps documents about this.
	Ref string
	// Limit caps the answer; zero or negative means DefaultDocumentLimit.
	Limit int
}

// DefaultDocumentLimit is the ListDocuments limit when none is given.
const DefaultDocumentLimit = 100

// TimeRange bounds a read to [Start, End). A zero Start or End leaves that
// side open. Backends use it to prune partitions, so callers that know the
// time window of a correlation should pass it.
type TimeRange struct {
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
}

// UnixNanos returns the range as Unix-nanosecond bounds for backends to
// compare with. An open side, or one beyond MinTime..MaxTime (which would
// wrap around), becomes math.MinInt64 or math.MaxInt64.
func (tr TimeRange) UnixNanos() (start, end int64) {
	start, end = math.MinInt64, math.MaxInt64
	if !tr.Start.IsZero() && tr.Start.After(MinTime) {
		start = tr.Start.UnixNano()
		if tr.Start.After(MaxTime) {
			start = math.MaxInt64
		}
	}
	if !tr.End.IsZero() && tr.End.Before(MaxTime) {
		end = tr.End.UnixNano()
		if tr.End.Before(MinTime) {
			end = math.MinInt64
		}
	}
	return start, end
}

// Contains reports whether t lies in the range.
func (tr TimeRange) Contains(t time.Time) bool {
	if !tr.Start.IsZero() && t.Before(tr.Start) {
		return false
	}
	if !tr.End.IsZero() && !t.Before(tr.End) {
		return false
	}
	return true
}

// CorrelationFilter selects RecentCorrelations.
type CorrelationFilter struct {
	// Service keeps correlations in which this service emitted a span.
	Service string `json:"service,omitempty"`
	// ErrorsOnly keeps correlations with at least one error span.
	ErrorsOnly bool `json:"errors_only,omitempty"`
	// MinDuration keeps correlations whose first-to-last span time is at
	// least this long.
	MinDuration time.Duration `json:"min_duration_ns,omitempty"`
	// Since keeps correlations last seen at or after this time; zero means
	// no lower bound.
	Since time.Time `json:"since,omitzero"`
	// Until keeps correlations last seen before this time; zero means no
	// upper bound. It lets a past window be listed however much traffic
	// came after it.
	Until time.Time `json:"until,omitzero"`
	// Limit caps the answer; zero or negative means DefaultCorrelationLimit.
	Limit int `json:"limit,omitempty"`
}

// DefaultCorrelationLimit is the RecentCorrelations limit when none is given.
const DefaultCorrelationLimit = 100
