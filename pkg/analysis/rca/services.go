package rca

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Window is the telemetry of a time window, for ranking services without one
// request in hand (for example when an alert fires).
type Window struct {
	// Spans of the window, any number of traces.
	Spans []signalstore.Span
	// Edges of the service graph over the window.
	Edges []signalstore.ServiceEdge
	// Logs of the window; RankServices compares each service's mix of log
	// templates with Baseline.Templates.
	Logs []signalstore.LogRecord
}

// ServiceScore says how likely a service caused the window's degradation;
// the fields after Score are the evidence it was computed from.
type ServiceScore struct {
	Service string  `json:"service"`
	Score   float64 `json:"score"`
	Spans   int     `json:"spans"`
	// OriginErrors are error spans with no error span below them;
	// PropagatedErrors are error spans with one (they only pass errors on).
	OriginErrors     int `json:"origin_errors"`
	PropagatedErrors int `json:"propagated_errors"`
	// ExpectedErrors is Spans times the baseline error rate.
	ExpectedErrors float64 `json:"expected_errors"`
	// ErrorExcess is how far OriginErrors exceed ExpectedErrors beyond
	// chance (see RankServices).
	ErrorExcess float64 `json:"error_excess"`
	// OwnExcess is the latency the service added itself: per operation, the
	// sum of (self time − baseline self p50) over spans whose self time is
	// above the baseline self p99 and MinExcess ("slow" spans), kept in the
	// proportion of slow spans beyond chance (see RankServices). Spans
	// waiting on a span of another service are left out: their self time is
	// the call's network and queueing time, counted in EdgeExcess.
	OwnExcess time.Duration `json:"own_excess_ns"`
	// EdgeExcess is this service's part of the same excess measured on the
	// calls between it and other services (see RankServices).
	EdgeExcess time.Duration `json:"edge_excess_ns"`
	// SlowCallRatio is the share of the service's calls (in and out, to and
	// from other services) whose waiting time was slow.
	SlowCallRatio float64 `json:"slow_call_ratio"`
	// LogShift is the share of the service's window log lines by which its
	// mix of templates departed from the baseline's beyond chance: templates
	// that became rarer or vanished (a code path no longer taken), more
	// frequent, or new (see templateShift). Needs Window.Logs and
	// Baseline.Templates.
	LogShift float64 `json:"log_shift"`
	// EdgeErrorRate is the error rate of calls into the service (edges);
	// OwnEdgeErrorRate is what is left above baseline after subtracting the
	// worst deviation among its own callees (errors it merely passes on).
	EdgeErrorRate    float64 `json:"edge_error_rate"`
	OwnEdgeErrorRate float64 `json:"own_edge_error_rate"`
	// OwnEdgeErrors is the count behind OwnEdgeErrorRate, beyond chance:
	// errors of calls into the service less those its worst callee's
	// deviation explains, above the baseline rate (as for ErrorExcess).
	OwnEdgeErrors float64 `json:"own_edge_errors"`
}

// tailRate is the share of healthy calls above their baseline p99, by
// definition of the quantile: a service's slow-call ratio counts only above it.
const tailRate = 0.01

// RankServices ranks the services of a window by how much of its anomaly
// originates in them rather than being passed on. Each service's Score is its
// share of the window's anomaly, four fractions summed:
//
//	raw(S)   = ErrorExcess(S) / spans of the window
//	         + (OwnExcess(S) + EdgeExcess(S)) / Σ self time of the window's spans
//	         + OwnEdgeErrors(S) / requests of all edges
//	         + LogShift(S)
//	Score(S) = raw(S) / Σ_services raw
//
// The first three measure impact (how much of the window's requests, time
// and calls S's own failures and slowness account for), the last a change of
// behaviour (how much of S's own logging departed from its usual mix; a
// share of S's lines, since chatty services would otherwise win on volume).
// The terms are dimensionless and weighted alike: there is no fitted weight.
// Scores sum to 1 unless nothing is anomalous (all 0); ties order by name.
//
// Errors count where they originate (deepest error span); latency where the
// self time is, not in the parents waiting on it. Every count is taken
// beyond chance (beyondChance: errorNoise = 2 standard deviations of the
// window's Poisson noise and of the baseline rate's uncertainty): origin
// errors against the baseline error rate, slow spans against the 1% a
// healthy window has above its p99 (the excess time is kept in that
// proportion), log templates against their baseline share, edge errors
// against the baseline rate after what the worst callee explains.
//
// A span of service A whose children include spans of one other service B
// (a client call) has as self time the call's network and queueing time,
// which either side may have caused (a delayed network interface of B slows
// every call into and out of B; a starved caller answers its responses late).
// Its excess goes to the edge A–B and is split between A and B in proportion
// to how consistently each one's calls are slow:
//
//	slow(S)       = max(0, slow calls of S / calls of S − 0.01)   over all edges of S
//	EdgeExcess(S) = Σ_{edges S–X} excess(S–X) · slow(S) / (slow(S) + slow(X))
//
// (halves when both are 0), so the service common to the slow calls takes
// them, not each of its neighbours.
func RankServices(w Window, baseline Baseline, opts Options) []ServiceScore {
	opts = opts.withDefaults()
	a := &analysis{baseline: baseline, opts: opts, tree: buildTree(w.Spans)}
	scores := make(map[string]*ServiceScore)
	get := func(s string) *ServiceScore {
		return getOrNew(scores, s, func() *ServiceScore { return &ServiceScore{Service: s} })
	}
	hasErrorBelow := errorsBelow(a.tree)
	// Latency excess per operation and, for spans waiting on another
	// service, per callee: "" for the operation's own spans.
	sums := make(map[excessKey]*excessSum)
	for _, n := range a.tree.nodes {
		s := n.span
		sc := get(s.ServiceName)
		sc.Spans++
		sc.ExpectedErrors += a.baselineErrorRate(s.ServiceName, s.SpanName)
		if s.IsError() {
			if hasErrorBelow[n] {
				sc.PropagatedErrors++
			} else {
				sc.OriginErrors++
			}
		}
		st, ok := a.operationStats(s.ServiceName, s.SpanName)
		if !ok {
			continue
		}
		callee, _ := remoteCallee(n)
		k := excessKey{OperationKey{s.ServiceName, s.SpanName}, callee}
		sum := getOrNew(sums, k, func() *excessSum { return &excessSum{baseline: st.Count} })
		sum.add(st.selfExcess(n.selfTime, opts.MinExcess))
	}
	edges := make(map[serviceEdgeKey]*edgeExcess)
	for k, sum := range sums {
		if k.callee == "" {
			sc := get(k.op.Service)
			sc.OwnExcess = addDurations(sc.OwnExcess, sum.net())
			continue
		}
		e := getOrNew(edges, serviceEdgeKey{k.op.Service, k.callee}, func() *edgeExcess { return &edgeExcess{} })
		e.calls += sum.spans
		e.slow += sum.slow
		e.excess = addDurations(e.excess, sum.net())
	}
	for _, sc := range scores {
		sc.ErrorExcess = a.errorExcess(sc)
	}
	attributeEdgeExcess(edges, get)
	a.logShifts(w.Logs, get)
	a.edgeDeviations(w.Edges, get)

	return a.combine(scores, w)
}

// combine sets each score to the service's share of the window's anomaly
// (see RankServices) and orders them, best first, ties by name.
func (a *analysis) combine(scores map[string]*ServiceScore, w Window) []ServiceScore {
	var spans, self, requests float64
	for _, n := range a.tree.nodes {
		spans++
		self += float64(n.selfTime)
	}
	for _, e := range w.Edges {
		requests += float64(max(0, e.RequestCount))
	}
	fraction := func(x, of float64) float64 {
		if of <= 0 {
			return 0
		}
		return x / of
	}
	out := make([]ServiceScore, 0, len(scores))
	for _, sc := range scores {
		out = append(out, *sc)
	}
	// Summed in name order, so the result does not depend on map order even
	// in its last bits.
	slices.SortFunc(out, func(x, y ServiceScore) int { return cmp.Compare(x.Service, y.Service) })
	total := 0.0
	for i := range out {
		sc := &out[i]
		sc.Score = fraction(sc.ErrorExcess, spans) + fraction(float64(sc.OwnExcess)+float64(sc.EdgeExcess), self) +
			fraction(sc.OwnEdgeErrors, requests) + sc.LogShift
		total += sc.Score
	}
	for i := range out {
		out[i].Score = clamp01(fraction(out[i].Score, total))
	}
	slices.SortFunc(out, func(x, y ServiceScore) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.Service, y.Service))
	})
	return out
}

// errorNoise is how many standard deviations of chance a count must exceed
// its expectation by before the rest counts. 2 is the usual ~95% one; 3
// (arguing that every service is tested at once) was measured too and
// ranked worse on the Nezha faults (README).
const errorNoise = 2

// beyondChance is observed − expected less errorNoise standard deviations of
// chance, at least 0. expected is n times a baseline rate estimated from k
// events in N (p = (k + ½)/(N + 1)); the variance is the window's Poisson
// noise (expected) plus the rate's own uncertainty over n (n²·p(1−p)/(N+1)).
// Without a baseline (N = 0) there is nothing to allow for.
func beyondChance(observed, expected, n, k, N float64) float64 {
	if N <= 0 {
		return max(0, observed-expected)
	}
	p := (k + 0.5) / (N + 1)
	variance := expected + n*n*p*(1-p)/(N+1)
	return max(0, observed-expected-errorNoise*math.Sqrt(variance))
}

// errorExcess is OriginErrors beyond ExpectedErrors and chance, with the
// service's baseline errors and spans as k and N.
func (a *analysis) errorExcess(sc *ServiceScore) float64 {
	st := a.baseline.Services[sc.Service]
	return beyondChance(float64(sc.OriginErrors), sc.ExpectedErrors, float64(sc.Spans), float64(st.Errors), float64(st.Count))
}

type excessKey struct {
	op     OperationKey
	callee string
}

// excessSum accumulates the latency excess of one operation's spans.
type excessSum struct {
	baseline    int64 // spans behind the operation's baseline
	spans, slow int64
	excess      time.Duration
}

func (e *excessSum) add(excess time.Duration) {
	e.spans++
	if excess > 0 {
		e.slow++
		e.excess = addDurations(e.excess, excess)
	}
}

// addDurations adds two non-negative durations, saturating instead of
// wrapping around: a few spans whose start time was left at 0 last half a
// century each, and their sum must not turn into a negative excess.
func addDurations(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// durationOf converts non-negative nanoseconds to a Duration, saturating
// (float64 rounds math.MaxInt64 up to 2⁶³, which does not convert).
func durationOf(ns float64) time.Duration {
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(max(0, ns))
}

// net is the part of the excess beyond chance: the slow spans a healthy
// window also has (tailRate of them, by definition of p99, estimated from
// the baseline's spans) and their noise are taken out in proportion,
//
//	net = excess · beyondChance(slow, tailRate·spans, spans, tailRate·N, N) / slow
func (e *excessSum) net() time.Duration {
	if e.slow == 0 {
		return 0
	}
	n, N := float64(e.spans), float64(e.baseline)
	beyond := beyondChance(float64(e.slow), tailRate*n, n, tailRate*N, N)
	return durationOf(float64(e.excess) * beyond / float64(e.slow))
}

// edgeExcess is the latency excess of the calls from one service to another.
type edgeExcess struct {
	calls, slow int64
	excess      time.Duration
}

type serviceEdgeKey struct{ caller, callee string }

// attributeEdgeExcess splits each edge's net excess between caller and
// callee by how consistently each one's calls (over all its edges) are
// slow, see RankServices.
func attributeEdgeExcess(edges map[serviceEdgeKey]*edgeExcess, get func(string) *ServiceScore) {
	calls := make(map[string]int64)
	slow := make(map[string]int64)
	for k, e := range edges {
		for _, svc := range []string{k.caller, k.callee} {
			calls[svc] += e.calls
			slow[svc] += e.slow
		}
	}
	consistency := make(map[string]float64, len(calls))
	for svc, n := range calls {
		ratio := float64(slow[svc]) / float64(n)
		get(svc).SlowCallRatio = ratio
		consistency[svc] = max(0, ratio-tailRate)
	}
	for k, e := range edges {
		excess := float64(e.excess)
		if excess == 0 {
			continue
		}
		callerShare := 0.5
		if total := consistency[k.caller] + consistency[k.callee]; total > 0 {
			callerShare = consistency[k.caller] / total
		}
		caller, callee := get(k.caller), get(k.callee)
		caller.EdgeExcess = addDurations(caller.EdgeExcess, durationOf(excess*callerShare))
		callee.EdgeExcess = addDurations(callee.EdgeExcess, durationOf(excess*(1-callerShare)))
	}
}

// edgeDeviations fills the edge error rates: a callee's error rate above its
// baseline, minus the largest such deviation among its own callees, so a
// service failing only because its dependency fails scores little.
func (a *analysis) edgeDeviations(edges []signalstore.ServiceEdge, get func(string) *ServiceScore) {
	requests := make(map[string]int64)
	errs := make(map[string]int64)
	callees := make(map[string][]string)
	for _, e := range edges {
		if e.RequestCount <= 0 || e.ErrorCount < 0 {
			continue
		}
		requests[e.Callee] += e.RequestCount
		errs[e.Callee] += min(e.ErrorCount, e.RequestCount)
		if e.Caller != e.Callee {
			callees[e.Caller] = append(callees[e.Caller], e.Callee)
		}
	}
	deviation := make(map[string]float64)
	baseRate := make(map[string]float64)
	for svc, n := range requests {
		rate := float64(errs[svc]) / float64(n)
		get(svc).EdgeErrorRate = rate
		if st, ok := a.baseline.Services[svc]; ok && st.Count >= a.opts.MinBaselineSamples {
			baseRate[svc] = st.ErrorRate()
		}
		deviation[svc] = max(0, rate-baseRate[svc])
	}
	for svc, dev := range deviation {
		worstCallee := 0.0
		for _, c := range callees[svc] {
			worstCallee = max(worstCallee, deviation[c])
		}
		sc := get(svc)
		sc.OwnEdgeErrorRate = max(0, dev-worstCallee)
		n := float64(requests[svc])
		st := a.baseline.Services[svc]
		sc.OwnEdgeErrors = beyondChance(float64(errs[svc])-n*worstCallee, n*baseRate[svc], n, float64(st.Errors), float64(st.Count))
	}
}
