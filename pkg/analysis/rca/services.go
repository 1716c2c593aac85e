package rca

import (
	"cmp"
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
}

// ServiceScore says how likely a service caused the window's degradation.
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
	// OwnExcess sums self time above the baseline self p50 over spans whose
	// self time is above the baseline self p99.
	OwnExcess time.Duration `json:"own_excess_ns"`
	// EdgeErrorRate is the error rate of calls into the service (edges);
	// OwnEdgeErrorRate is what is left above baseline after subtracting the
	// worst deviation among its own callees (errors it merely passes on).
	EdgeErrorRate    float64 `json:"edge_error_rate"`
	OwnEdgeErrorRate float64 `json:"own_edge_error_rate"`
}

// Weights of the three shares in ServiceScore.Score.
const (
	serviceWeightErrors  = 0.5
	serviceWeightLatency = 0.3
	serviceWeightEdges   = 0.2
)

// RankServices ranks the services of a window by how much of the
// degradation originates in them rather than being passed on from callees:
//
//	errShare  = max(0, OriginErrors − ExpectedErrors) / Σ over services
//	latShare  = OwnExcess / Σ over services
//	edgeShare = OwnEdgeErrorRate / Σ over services
//	Score     = Σ w·share / Σ w   (w = 0.5, 0.3, 0.2, over the shares whose
//	                               sum is non-zero)
//
// Errors count where they originate (deepest error span), latency where the
// self time is (not the waiting parents), and edge error rates net of the
// callees' own deviations. Ties order by service name.
func RankServices(w Window, baseline Baseline, opts Options) []ServiceScore {
	opts = opts.withDefaults()
	a := &analysis{baseline: baseline, opts: opts, tree: buildTree(w.Spans)}
	scores := make(map[string]*ServiceScore)
	get := func(s string) *ServiceScore {
		return getOrNew(scores, s, func() *ServiceScore { return &ServiceScore{Service: s} })
	}
	hasErrorBelow := errorsBelow(a.tree)
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
		if st, ok := a.operationStats(s.ServiceName, s.SpanName); ok && n.selfTime > int64(max(st.SelfP99, opts.MinExcess)) {
			sc.OwnExcess += time.Duration(n.selfTime - int64(st.SelfP50))
		}
	}
	a.edgeDeviations(w.Edges, get)

	list := make([]*ServiceScore, 0, len(scores))
	for _, sc := range scores {
		list = append(list, sc)
	}
	slices.SortFunc(list, func(x, y *ServiceScore) int { return cmp.Compare(x.Service, y.Service) })
	errPart := func(sc *ServiceScore) float64 { return max(0, float64(sc.OriginErrors)-sc.ExpectedErrors) }
	latPart := func(sc *ServiceScore) float64 { return float64(sc.OwnExcess) }
	edgePart := func(sc *ServiceScore) float64 { return sc.OwnEdgeErrorRate }
	type part struct {
		weight float64
		of     func(*ServiceScore) float64
		total  float64
	}
	parts := []part{{serviceWeightErrors, errPart, 0}, {serviceWeightLatency, latPart, 0}, {serviceWeightEdges, edgePart, 0}}
	weights := 0.0
	for i := range parts {
		for _, sc := range list {
			parts[i].total += parts[i].of(sc)
		}
		if parts[i].total > 0 {
			weights += parts[i].weight
		}
	}
	out := make([]ServiceScore, 0, len(list))
	for _, sc := range list {
		if weights > 0 {
			for _, p := range parts {
				if p.total > 0 {
					sc.Score += p.weight * p.of(sc) / p.total
				}
			}
			sc.Score = clamp01(sc.Score / weights)
		}
		out = append(out, *sc)
	}
	slices.SortStableFunc(out, func(x, y ServiceScore) int { return cmp.Compare(y.Score, x.Score) })
	return out
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
	for svc, n := range requests {
		rate := float64(errs[svc]) / float64(n)
		get(svc).EdgeErrorRate = rate
		base := 0.0
		if st, ok := a.baseline.Services[svc]; ok && st.Count >= a.opts.MinBaselineSamples {
			base = st.ErrorRate()
		}
		deviation[svc] = max(0, rate-base)
	}
	for svc, dev := range deviation {
		worstCallee := 0.0
		for _, c := range callees[svc] {
			worstCallee = max(worstCallee, deviation[c])
		}
		get(svc).OwnEdgeErrorRate = max(0, dev-worstCallee)
	}
}
