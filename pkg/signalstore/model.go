package signalstore

import (
	"math"
	"time"
)

// The model types are what the read primitives return. They mirror the
// columns of the contrib ClickHouse exporter schema so that both backends
// answer alike: attribute maps are flattened to strings (pcommon.Value
// AsString), SpanKind and StatusCode use pdata's String() spelling
// ("Server", "Error"), durations are nanoseconds.

// Span is one row of otel_traces.
type Span struct {
	Timestamp          time.Time         `json:"timestamp"`
	TraceID            TraceID           `json:"trace_id"`
	SpanID             SpanID            `json:"span_id"`
	ParentSpanID       SpanID            `json:"parent_span_id,omitzero"`
	TraceState         string            `json:"trace_state,omitempty"`
	SpanName           string            `json:"span_name"`
	SpanKind           string            `json:"span_kind"`
	ServiceName        string            `json:"service_name"`
	ResourceAttributes map[string]string `json:"resource_attributes,omitempty"`
	ScopeName          string            `json:"scope_name,omitempty"`
	ScopeVersion       string            `json:"scope_version,omitempty"`
	SpanAttributes     map[string]string `json:"span_attributes,omitempty"`
	Duration           time.Duration     `json:"duration_ns"`
	StatusCode         string            `json:"status_code"`
	StatusMessage      string            `json:"status_message,omitempty"`
	Events             []SpanEvent       `json:"events,omitempty"`
	Links              []SpanLink        `json:"links,omitempty"`
	// CorrelationID is the value of the configured correlation attribute,
	// lifted out of SpanAttributes for convenience ("" when absent).
	CorrelationID string `json:"correlation_id,omitempty"`
}

// IsError reports whether the span's status is Error.
func (s *Span) IsError() bool { return s.StatusCode == StatusCodeError }

// Status code spellings as stored (pdata's ptrace.StatusCode String()).
const (
	StatusCodeUnset = "Unset"
	StatusCodeOk    = "Ok"
	StatusCodeError = "Error"
)

// SpanEvent is one entry of Span.Events.
type SpanEvent struct {
	Timestamp  time.Time         `json:"timestamp"`
	Name       string            `json:"name"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// SpanLink is one entry of Span.Links.
type SpanLink struct {
	TraceID    TraceID           `json:"trace_id"`
	SpanID     SpanID            `json:"span_id"`
	TraceState string            `json:"trace_state,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// LogRecord is one row of otel_logs.
type LogRecord struct {
	Timestamp          time.Time         `json:"timestamp"`
	TraceID            TraceID           `json:"trace_id,omitzero"`
	SpanID             SpanID            `json:"span_id,omitzero"`
	TraceFlags         uint32            `json:"trace_flags,omitempty"`
	SeverityText       string            `json:"severity_text,omitempty"`
	SeverityNumber     int32             `json:"severity_number,omitempty"`
	ServiceName        string            `json:"service_name"`
	Body               string            `json:"body"`
	ResourceAttributes map[string]string `json:"resource_attributes,omitempty"`
	ScopeName          string            `json:"scope_name,omitempty"`
	ScopeVersion       string            `json:"scope_version,omitempty"`
	LogAttributes      map[string]string `json:"log_attributes,omitempty"`
	EventName          string            `json:"event_name,omitempty"`
	CorrelationID      string            `json:"correlation_id,omitempty"`
}

// Metric types, the suffix of the otel_metrics_* table a point lives in.
const (
	MetricTypeGauge     = "gauge"
	MetricTypeSum       = "sum"
	MetricTypeHistogram = "histogram"
)

// MetricPoint is one row of otel_metrics_gauge, _sum or _histogram. Value is
// set for gauge and sum; Count, Sum, Min, Max, BucketCounts and
// ExplicitBounds for histogram.
type MetricPoint struct {
	MetricType             string            `json:"metric_type"`
	MetricName             string            `json:"metric_name"`
	MetricDescription      string            `json:"metric_description,omitempty"`
	MetricUnit             string            `json:"metric_unit,omitempty"`
	ServiceName            string            `json:"service_name"`
	ResourceAttributes     map[string]string `json:"resource_attributes,omitempty"`
	ScopeName              string            `json:"scope_name,omitempty"`
	Attributes             map[string]string `json:"attributes,omitempty"`
	StartTimeUnix          time.Time         `json:"start_time,omitzero"`
	TimeUnix               time.Time         `json:"time"`
	Value                  float64           `json:"value,omitempty"`
	Count                  uint64            `json:"count,omitempty"`
	Sum                    float64           `json:"sum,omitempty"`
	Min                    *float64          `json:"min,omitempty"`
	Max                    *float64          `json:"max,omitempty"`
	BucketCounts           []uint64          `json:"bucket_counts,omitempty"`
	ExplicitBounds         []float64         `json:"explicit_bounds,omitempty"`
	IsMonotonic            bool              `json:"is_monotonic,omitempty"`
	AggregationTemporality string            `json:"aggregation_temporality,omitempty"`
	Exemplars              []Exemplar        `json:"exemplars,omitempty"`
}

// MakeFinite replaces the NaN and ±Inf values of p, which JSON cannot carry
// (an API answer holding one could not be encoded at all), by 0, and a
// non-finite Min or Max by none. Backends call it on what they read.
func (p *MetricPoint) MakeFinite() {
	p.Value, p.Sum = FiniteOrZero(p.Value), FiniteOrZero(p.Sum)
	if p.Min != nil && !IsFinite(*p.Min) {
		p.Min = nil
	}
	if p.Max != nil && !IsFinite(*p.Max) {
		p.Max = nil
	}
	for i, b := range p.ExplicitBounds {
		p.ExplicitBounds[i] = FiniteOrZero(b)
	}
	for i := range p.Exemplars {
		p.Exemplars[i].Value = FiniteOrZero(p.Exemplars[i].Value)
	}
}

// IsFinite reports whether v is neither NaN nor ±Inf.
func IsFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// FiniteOrZero maps NaN and ±Inf to 0.
func FiniteOrZero(v float64) float64 {
	if !IsFinite(v) {
		return 0
	}
	return v
}

// Exemplar is one exemplar of a metric point.
type Exemplar struct {
	TimeUnix           time.Time         `json:"time"`
	Value              float64           `json:"value"`
	TraceID            TraceID           `json:"trace_id,omitzero"`
	SpanID             SpanID            `json:"span_id,omitzero"`
	FilteredAttributes map[string]string `json:"filtered_attributes,omitempty"`
}

// ServiceEdge is one caller → callee edge of the service graph, aggregated
// over a time range. Latency is the callee's server-side span duration.
type ServiceEdge struct {
	Caller       string        `json:"caller"`
	Callee       string        `json:"callee"`
	RequestCount int64         `json:"request_count"`
	ErrorCount   int64         `json:"error_count"`
	AvgDuration  time.Duration `json:"avg_duration_ns"`
	// P50/P95/P99 are estimated from a log-bucketed histogram; the relative
	// error is below LatencyQuantileRelativeError.
	P50Duration time.Duration `json:"p50_duration_ns"`
	P95Duration time.Duration `json:"p95_duration_ns"`
	P99Duration time.Duration `json:"p99_duration_ns"`
}

// LatencyQuantileRelativeError bounds the relative error of rollup-based
// quantiles (ServiceEdge percentiles).
const LatencyQuantileRelativeError = 0.05

// CorrelationSummary describes one correlation id for listings.
type CorrelationSummary struct {
	CorrelationID string    `json:"correlation_id"`
	FirstSeen     time.Time `json:"first_seen"`
	LastSeen      time.Time `json:"last_seen"`
	// Duration is from the earliest span start to the latest span end.
	Duration   time.Duration `json:"duration_ns"`
	TraceCount int64         `json:"trace_count"`
	SpanCount  int64         `json:"span_count"`
	ErrorCount int64         `json:"error_count"`
	LogCount   int64         `json:"log_count"`
	Services   []string      `json:"services"`
	// RootService and RootSpanName name the earliest root span seen, if
	// any (the entry operation).
	RootService  string `json:"root_service,omitempty"`
	RootSpanName string `json:"root_span_name,omitempty"`
}
