package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// The response types below are the JSON shapes of openapi.json; the spans,
// logs, metric points and correlation summaries are the signalstore model
// types as they are, so every backend answers alike.

// correlatedContext is the answer of GET /api/v1/correlate/{id}, the seed's
// CorrelatedContext.
type correlatedContext struct {
	CorrelationID string                    `json:"correlation_id"`
	TimeRange     timeRange                 `json:"time_range"`
	Summary       summary                   `json:"summary"`
	Traces        []traceGroup              `json:"traces"`
	Logs          []signalstore.LogRecord   `json:"logs"`
	Metrics       []signalstore.MetricPoint `json:"metrics"`
	Timeline      []timelineEvent           `json:"timeline"`
	Services      []string                  `json:"services"`
	Errors        []errorGroup              `json:"errors"`
	AIInsights    aiInsights                `json:"ai_insights"`
	Truncated     truncation                `json:"truncated"`

	// lastSignal is the newest event time of the answer; the cache keeps
	// only untruncated answers whose lastSignal is older than the quiet
	// period.
	lastSignal time.Time
	// spans are all spans of the answer in time order, kept for the
	// impact analysis.
	spans []signalstore.Span
}

type timeRange struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

type summary struct {
	TraceCount     int      `json:"trace_count"`
	SpanCount      int      `json:"span_count"`
	LogCount       int      `json:"log_count"`
	MetricCount    int      `json:"metric_count"`
	ErrorCount     int      `json:"error_count"`
	DurationNanos  int64    `json:"duration_ns"`
	Services       []string `json:"services"`
	EntryService   string   `json:"entry_service,omitempty"`
	EntryOperation string   `json:"entry_operation,omitempty"`
	// Status is "error" when any span or log of the correlation is an
	// error, else "ok".
	Status string `json:"status"`
}

// truncation says which parts of an answer were cut by the configured
// limits.
type truncation = signalstore.Truncation

// traceGroup is one trace of a correlation; spans keep their
// parent_span_id so clients can rebuild the tree.
type traceGroup struct {
	TraceID       signalstore.TraceID `json:"trace_id"`
	RootSpanID    signalstore.SpanID  `json:"root_span_id,omitzero"`
	RootService   string              `json:"root_service,omitempty"`
	RootOperation string              `json:"root_operation,omitempty"`
	Start         time.Time           `json:"start"`
	DurationNanos int64               `json:"duration_ns"`
	SpanCount     int                 `json:"span_count"`
	ErrorCount    int                 `json:"error_count"`
	Services      []string            `json:"services"`
	Spans         []signalstore.Span  `json:"spans"`
}

// Timeline event types.
const (
	eventSpan   = "span"
	eventLog    = "log"
	eventError  = "error"
	eventMetric = "metric"
)

type timelineEvent struct {
	Timestamp     time.Time           `json:"timestamp"`
	Type          string              `json:"type"`
	Service       string              `json:"service"`
	Name          string              `json:"name"`
	TraceID       signalstore.TraceID `json:"trace_id,omitzero"`
	SpanID        signalstore.SpanID  `json:"span_id,omitzero"`
	DurationNanos int64               `json:"duration_ns,omitempty"`
	Status        string              `json:"status,omitempty"`
	Severity      string              `json:"severity,omitempty"`
	Message       string              `json:"message,omitempty"`
	Value         *float64            `json:"value,omitempty"`
}

// errorGroup gathers the error spans and error logs that share a
// fingerprint: service, exception type and normalised message.
type errorGroup struct {
	Fingerprint   string                `json:"fingerprint"`
	Service       string                `json:"service"`
	ExceptionType string                `json:"exception_type,omitempty"`
	Message       string                `json:"message"`
	Count         int                   `json:"count"`
	SpanCount     int                   `json:"span_count"`
	LogCount      int                   `json:"log_count"`
	FirstSeen     time.Time             `json:"first_seen"`
	LastSeen      time.Time             `json:"last_seen"`
	TraceIDs      []signalstore.TraceID `json:"trace_ids"`
	// OriginCandidate marks groups containing an error span none of whose
	// children failed (or a log of such a span): where the failure most
	// likely started rather than where it propagated to.
	OriginCandidate bool `json:"origin_candidate"`
}

// aiInsights is the latest analysis of the correlation by the AI extension,
// read from the store's documents on every answer (never cached with it);
// only hypotheses (empty) when none exists.
type aiInsights struct {
	AnalysisType string    `json:"analysis_type,omitempty"`
	AnalyzedAt   time.Time `json:"analyzed_at,omitzero"`
	RootCause    string    `json:"root_cause,omitempty"`
	Confidence   float64   `json:"confidence,omitempty"`
	Summary      string    `json:"summary,omitempty"`
	// Source says who wrote the summary: "template" or "llm".
	Source     string `json:"source,omitempty"`
	Hypotheses []any  `json:"hypotheses"`
}

type timelineResponse struct {
	CorrelationID string          `json:"correlation_id"`
	TimeRange     timeRange       `json:"time_range"`
	Events        []timelineEvent `json:"events"`
	Truncated     truncation      `json:"truncated"`
}

type traceResponse struct {
	Trace          traceGroup              `json:"trace"`
	Logs           []signalstore.LogRecord `json:"logs"`
	CorrelationIDs []string                `json:"correlation_ids"`
	Truncated      truncation              `json:"truncated"`
}

type correlationsResponse struct {
	Correlations []signalstore.CorrelationSummary `json:"correlations"`
	Count        int                              `json:"count"`
}

type servicesResponse struct {
	TimeRange     timeRange `json:"time_range"`
	WindowSeconds float64   `json:"window_seconds"`
	Services      []string  `json:"services"`
	// ServicesTruncated is set when the window has more services with spans
	// than signalstore.MaxQueryLimit: services lists the first ones by name.
	ServicesTruncated bool          `json:"services_truncated,omitempty"`
	Edges             []serviceEdge `json:"edges"`
}

type serviceEdge struct {
	Caller           string  `json:"caller"`
	Callee           string  `json:"callee"`
	RequestCount     int64   `json:"request_count"`
	ErrorCount       int64   `json:"error_count"`
	RequestRate      float64 `json:"request_rate"`
	ErrorRate        float64 `json:"error_rate"`
	AvgDurationNanos int64   `json:"avg_duration_ns"`
	P50DurationNanos int64   `json:"p50_duration_ns"`
	P95DurationNanos int64   `json:"p95_duration_ns"`
	P99DurationNanos int64   `json:"p99_duration_ns"`
}
