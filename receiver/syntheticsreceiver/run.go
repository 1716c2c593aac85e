package syntheticsreceiver // import "github.com/ollystack/ollystack/receiver/syntheticsreceiver"

import (
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Span and metric attribute keys.
const (
	attrSynthetic     = "synthetic"
	attrCheckName     = "check.name"
	attrCheckType     = "check.type"
	attrLocation      = "location"
	attrCorrelationID = "correlation_id"
	attrStepName      = "step.name"
)

// Propagation headers set on every outgoing request.
const (
	headerTraceparent   = "traceparent"
	headerBaggage       = "baggage"
	headerCorrelationID = "X-Correlation-ID"
)

// run records one execution of a check: its ids, its steps as child spans
// and what it observed, to be turned into traces, metrics and logs.
type run struct {
	checkName     string
	checkType     string
	location      string
	correlationID string
	traceID       pcommon.TraceID
	rootSpanID    pcommon.SpanID
	start, end    time.Time

	// mu guards steps and tlsDays: browser checks record from chromedp's
	// event goroutines.
	mu      sync.Mutex
	steps   []*step
	tlsDays []tlsObservation

	failure *assertionFailure
}

// step is a child span of the run: one step or one outgoing request.
type step struct {
	name       string
	kind       ptrace.SpanKind
	spanID     pcommon.SpanID
	start, end time.Time
	attrs      pcommon.Map
	failure    *assertionFailure
}

type tlsObservation struct {
	server   string
	daysLeft float64
}

func newRun(c *compiledCheck, location string, now time.Time) *run {
	return &run{
		checkName:     c.name,
		checkType:     c.typ,
		location:      location,
		correlationID: newCorrelationID(now),
		traceID:       newTraceID(),
		rootSpanID:    newSpanID(),
		start:         now,
	}
}

// startStep opens a child span of the run.
func (r *run) startStep(name string, kind ptrace.SpanKind) *step {
	s := &step{name: name, kind: kind, spanID: newSpanID(), start: time.Now(), attrs: pcommon.NewMap()}
	r.mu.Lock()
	r.steps = append(r.steps, s)
	r.mu.Unlock()
	return s
}

// finish closes the step; a failure names the step it happened in.
func (s *step) finish(f *assertionFailure) *assertionFailure {
	s.end = time.Now()
	if f != nil && f.step == "" {
		f.step = s.name
	}
	s.failure = f
	return f
}

// propagationHeaders are the headers that let the target's own spans join
// this step's span and carry the run's correlation id.
func (r *run) propagationHeaders(s *step) [3][2]string {
	return [3][2]string{
		{headerTraceparent, traceparent(r.traceID, s.spanID)},
		{headerBaggage, baggage(r.correlationID)},
		{headerCorrelationID, r.correlationID},
	}
}

// observeTLS keeps one observation per server, the fewest days left: the
// steps of a journey to one host see its certificate once each, and several
// points of one series in a batch would be duplicate samples.
func (r *run) observeTLS(server string, daysLeft float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.tlsDays {
		if r.tlsDays[i].server == server {
			r.tlsDays[i].daysLeft = min(r.tlsDays[i].daysLeft, daysLeft)
			return
		}
	}
	r.tlsDays = append(r.tlsDays, tlsObservation{server: server, daysLeft: daysLeft})
}

func (r *run) succeeded() bool { return r.failure == nil }
