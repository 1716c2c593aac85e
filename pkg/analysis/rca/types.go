package rca

import (
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Context is the correlated context of one request: the spans of its traces,
// their logs and the metric points of the services involved around its time.
type Context struct {
	Spans   []signalstore.Span
	Logs    []signalstore.LogRecord
	Metrics []signalstore.MetricPoint
}

// Kind names what a hypothesis claims went wrong.
type Kind string

// Hypothesis kinds.
const (
	// KindErrorOrigin: the deepest error span whose error is not explained by
	// another error below it.
	KindErrorOrigin Kind = "error_origin"
	// KindLatencyOutlier: a span whose own (self) time is far above its
	// baseline, so it is slow itself rather than waiting on a slow child.
	KindLatencyOutlier Kind = "latency_outlier"
	// KindNewLogPattern: an error or warning log template never seen in the
	// service's healthy history.
	KindNewLogPattern Kind = "new_log_pattern"
	// KindResourceSaturation: a utilisation metric (pool, connections, CPU,
	// memory, ...) at or near its limit.
	KindResourceSaturation Kind = "resource_saturation"
	// KindVersionChange: a service.version unseen in the baseline, or a
	// deployment event.
	KindVersionChange Kind = "version_change"
	// KindDependencyFailure: client calls to one callee failing, timing out
	// or being retried.
	KindDependencyFailure Kind = "dependency_failure"
)

// kindsInOrder lists every kind; the order breaks confidence ties: kinds
// that name a cause come before kinds that usually describe a symptom.
var kindsInOrder = []Kind{
	KindResourceSaturation, KindErrorOrigin, KindDependencyFailure,
	KindVersionChange, KindLatencyOutlier, KindNewLogPattern,
}

// kindOrder is the index of each kind in kindsInOrder.
var kindOrder = func() map[Kind]int {
	m := make(map[Kind]int, len(kindsInOrder))
	for i, k := range kindsInOrder {
		m[k] = i
	}
	return m
}()

// Signal names what an evidence item points at.
type Signal string

// Evidence signals.
const (
	SignalSpan   Signal = "span"
	SignalLog    Signal = "log"
	SignalMetric Signal = "metric"
)

// Evidence is one observation behind a hypothesis.
type Evidence struct {
	// Signal and Index point at the item: Index is its position in
	// Context.Spans, Context.Logs or Context.Metrics.
	Signal  Signal              `json:"signal"`
	Index   int                 `json:"index"`
	TraceID signalstore.TraceID `json:"trace_id,omitzero"`
	SpanID  signalstore.SpanID  `json:"span_id,omitzero"`
	Time    time.Time           `json:"time,omitzero"`
	// Reason is fixed wording chosen by the analyzer (never copied from input).
	Reason string `json:"reason"`
	// Name is the metric name, log template or span name concerned.
	Name string `json:"name,omitempty"`
	// Actual and Expected are the observed and baseline values in Unit
	// ("ns", "ratio", "count", ...); Expected is 0 when there is none.
	Actual   float64 `json:"actual"`
	Expected float64 `json:"expected"`
	Unit     string  `json:"unit,omitempty"`
	// Text is a truncated copy of untrusted input (log body, status message,
	// version string), as data for a reader; it never influences ranking.
	Text string `json:"text,omitempty"`
	// Weight in [0,1] is how strongly this item alone supports the hypothesis.
	Weight float64 `json:"weight"`
}

// Hypothesis is one candidate root cause.
type Hypothesis struct {
	Kind      Kind               `json:"kind"`
	Service   string             `json:"service"`
	Operation string             `json:"operation,omitempty"`
	SpanID    signalstore.SpanID `json:"span_id,omitzero"`
	// Confidence in [0, MaxConfidence]:
	//
	//	own   = 1 − Π (1 − Evidence[i].Weight)
	//	final = 1 − (1 − own) · Π_j (1 − Corroboration · own_j)
	//
	// where j ranges over the other hypotheses of the same service with a
	// different kind (independent analyzers agreeing on one service), and
	// final is capped at MaxConfidence.
	//
	// A version change that preceded symptoms of its own service (errors,
	// latency, new log patterns, failing calls into it, seen in the new
	// version or after the deployment event) explains them: with m the
	// strongest such symptom,
	//
	//	final = 1 − (1 − own) · (1 − own_m) · Π_{j ≠ m} (1 − Corroboration · own_j)
	//
	// and m's strongest evidence item joins Evidence with weight own_m. This
	// is never below the final confidence of any symptom it explains, and
	// at the cap the version change ranks first.
	Confidence float64    `json:"confidence"`
	Evidence   []Evidence `json:"evidence"`
	// explains is set on a version change that took in a symptom.
	explains bool
}

// Corroboration is the share of another same-service hypothesis' confidence
// that counts as support (see Hypothesis.Confidence).
const Corroboration = 0.3

// MaxConfidence caps every confidence: evidence from telemetry alone never
// proves a cause.
const MaxConfidence = 0.99

// PathStep is one span of the critical path.
type PathStep struct {
	SpanID    signalstore.SpanID `json:"span_id"`
	Service   string             `json:"service"`
	Operation string             `json:"operation"`
	Depth     int                `json:"depth"`
	// SelfTime is the part of end-to-end latency this span accounts for
	// itself (not covered by a critical child).
	SelfTime time.Duration `json:"self_time_ns"`
}

// Deviation compares one (service, operation) of the request with its
// baseline.
type Deviation struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Spans     int    `json:"spans"`
	Errors    int    `json:"errors"`
	// ErrorRate is Errors/Spans; BaselineErrorRate is from history.
	ErrorRate         float64 `json:"error_rate"`
	BaselineErrorRate float64 `json:"baseline_error_rate"`
	// MaxDuration and MaxSelfTime are the largest in the request.
	MaxDuration time.Duration `json:"max_duration_ns"`
	MaxSelfTime time.Duration `json:"max_self_time_ns"`
	BaselineP50 time.Duration `json:"baseline_p50_ns"`
	BaselineP99 time.Duration `json:"baseline_p99_ns"`
	HasBaseline bool          `json:"has_baseline"`
}

// Result is the output of Analyze.
type Result struct {
	// Hypotheses are ranked by Confidence, best first.
	Hypotheses []Hypothesis `json:"hypotheses"`
	// CriticalPath lists the spans determining end-to-end latency of the
	// longest root, parents before children, in time order.
	CriticalPath []PathStep `json:"critical_path"`
	// Duration is the end-to-end latency of that root.
	Duration   time.Duration `json:"duration_ns"`
	Deviations []Deviation   `json:"deviations"`
}

// Options tunes Analyze. Zero fields take the defaults.
type Options struct {
	// MinBaselineSamples is how many healthy spans an operation needs before
	// its quantiles are trusted (default 20).
	MinBaselineSamples int64
	// MinExcess is the smallest latency excess worth a hypothesis (default 1ms).
	MinExcess time.Duration
	// SaturationThreshold is the utilisation from which a metric counts as
	// saturated (default 0.8).
	SaturationThreshold float64
	// MaxHypotheses bounds the result (default 20).
	MaxHypotheses int
	// MaxEvidence bounds the evidence items per hypothesis (default 10).
	MaxEvidence int
	// DeployWindow is how long after a deployment event a symptom of the
	// deployed service is still explained by it (default 30 minutes).
	DeployWindow time.Duration
}

func (o Options) withDefaults() Options {
	if o.MinBaselineSamples <= 0 {
		o.MinBaselineSamples = 20
	}
	if o.MinExcess <= 0 {
		o.MinExcess = time.Millisecond
	}
	if !(o.SaturationThreshold > 0 && o.SaturationThreshold < 1) {
		o.SaturationThreshold = 0.8
	}
	if o.MaxHypotheses <= 0 {
		o.MaxHypotheses = 20
	}
	if o.MaxEvidence <= 0 {
		o.MaxEvidence = 10
	}
	if o.DeployWindow <= 0 {
		o.DeployWindow = 30 * time.Minute
	}
	return o
}
