package rca

import (
	"cmp"
	"slices"
	"time"
)

// analysis holds what the analyzers of one request share.
type analysis struct {
	ctx      Context
	baseline Baseline
	opts     Options
	tree     *spanTree
	logs     logIndex
	root     *node
	// critical is each critical-path node's self contribution in ns.
	critical map[*node]int64
	// errorBelow marks spans with an error span somewhere below them.
	errorBelow map[*node]bool
	// slowCallsBelow holds the services of the slow calls below each span;
	// built on first use by slowCallBelow.
	slowCallsBelow map[*node]serviceSummary
	// changes holds the new versions and deployment events per service.
	changes map[string]*serviceChange
}

// Analyze ranks root-cause hypotheses for one request. It never fails: with
// no spans, or no baseline, the analyzers that need them return nothing.
func Analyze(ctx Context, baseline Baseline, opts Options) Result {
	a := &analysis{ctx: ctx, baseline: baseline, opts: opts.withDefaults()}
	a.tree = buildTree(ctx.Spans)
	a.errorBelow = errorsBelow(a.tree)
	a.logs = indexLogs(ctx.Logs)
	a.root = a.tree.mainRoot()
	var res Result
	res.CriticalPath, a.critical = criticalPath(a.root)
	if a.root != nil {
		res.Duration = time.Duration(a.root.duration())
	}
	var hs []Hypothesis
	hs = append(hs, a.errorOrigins()...)
	hs = append(hs, a.latencyOutliers()...)
	hs = append(hs, a.dependencyFailures()...)
	hs = append(hs, a.newLogPatterns()...)
	hs = append(hs, a.versionChanges()...)
	hs = append(hs, a.saturations()...)
	res.Hypotheses = rank(hs, a.linkSymptoms(hs), a.opts)
	res.Deviations = a.deviations()
	return res
}

// errorsBelow marks the spans that have an error span below them.
func errorsBelow(t *spanTree) map[*node]bool {
	below := make(map[*node]bool)
	for _, n := range t.nodes {
		if !n.span.IsError() {
			continue
		}
		// Stop at the first ancestor already marked: everything above it
		// is marked too, which keeps this linear in the number of spans.
		for p := n.parent; p != nil && !below[p]; p = p.parent {
			below[p] = true
		}
	}
	return below
}

// operationStats returns the baseline of an operation when it has enough
// samples to be trusted.
func (a *analysis) operationStats(service, operation string) (OperationStats, bool) {
	st, ok := a.baseline.Operations[OperationKey{service, operation}]
	if !ok || st.Count < a.opts.MinBaselineSamples {
		return OperationStats{}, false
	}
	return st, true
}

// baselineErrorRate is the operation's healthy error rate, falling back to
// the service's, 0 when unknown.
func (a *analysis) baselineErrorRate(service, operation string) float64 {
	if st, ok := a.operationStats(service, operation); ok {
		return st.ErrorRate()
	}
	if st, ok := a.baseline.Services[service]; ok && st.Count >= a.opts.MinBaselineSamples {
		return st.ErrorRate()
	}
	return 0
}

// grouper collects one hypothesis per (kind, service, operation) in the
// order they are first met.
type grouper struct {
	byKey map[groupKey]*Hypothesis
	order []*Hypothesis
}

type groupKey struct {
	kind               Kind
	service, operation string
	variant            string // splits one operation further (log template id)
}

func newGrouper() *grouper { return &grouper{byKey: make(map[groupKey]*Hypothesis)} }

// get returns the group's hypothesis, creating it with n's span id (n may be
// nil).
func (g *grouper) get(kind Kind, service, operation string, n *node) *Hypothesis {
	return g.getVariant(kind, service, operation, "", n)
}

// getVariant is get with a further key that is not shown in the hypothesis.
func (g *grouper) getVariant(kind Kind, service, operation, variant string, n *node) *Hypothesis {
	k := groupKey{kind, service, operation, variant}
	if h := g.byKey[k]; h != nil {
		return h
	}
	h := &Hypothesis{Kind: kind, Service: service, Operation: operation}
	if n != nil {
		h.SpanID = n.span.SpanID
	}
	g.byKey[k] = h
	g.order = append(g.order, h)
	return h
}

func (g *grouper) list() []Hypothesis {
	out := make([]Hypothesis, 0, len(g.order))
	for _, h := range g.order {
		if len(h.Evidence) > 0 {
			out = append(out, *h)
		}
	}
	return out
}

// rank computes confidences (see Hypothesis.Confidence), sorts best first
// with stable tie-breaks and applies the bounds of opts. links maps a
// version_change hypothesis to the symptoms of its service that began after
// the change (linkSymptoms): the strongest of them is taken in as the
// change's own evidence, the others corroborate it as usual.
func rank(hs []Hypothesis, links map[int][]symptomLink, opts Options) []Hypothesis {
	own := make([]float64, len(hs))
	for i := range hs {
		trimEvidence(&hs[i], opts)
		own[i] = combine(hs[i].Evidence)
	}
	// explained[i] is the symptom hypothesis i takes in, -1 for none.
	explained := make([]int, len(hs))
	reasons := make([]string, len(hs))
	for i := range hs {
		explained[i] = -1
		for _, l := range links[i] {
			if explained[i] < 0 || own[l.symptom] > own[explained[i]] {
				explained[i], reasons[i] = l.symptom, l.reason
			}
		}
	}
	// Corroboration per (service, kind): the product of (1 − Corroboration ·
	// own) over its hypotheses, so that each confidence costs one factor per
	// kind instead of a pass over every hypothesis (quadratic in a request
	// with thousands of failing operations).
	type serviceKind struct {
		service string
		kind    Kind
	}
	members := make(map[serviceKind][]int)
	for i := range hs {
		k := serviceKind{hs[i].Service, hs[i].Kind}
		members[k] = append(members[k], i)
	}
	support := func(k serviceKind, skip int) float64 {
		p := 1.0
		for _, j := range members[k] {
			if j != skip {
				p *= 1 - Corroboration*own[j]
			}
		}
		return p
	}
	products := make(map[serviceKind]float64, len(members))
	for k := range members {
		products[k] = support(k, -1)
	}
	for i := range hs {
		residual := 1 - own[i]
		m := explained[i]
		if m >= 0 {
			residual *= 1 - own[m]
		}
		for _, kind := range kindsInOrder {
			k := serviceKind{hs[i].Service, kind}
			switch {
			case kind == hs[i].Kind:
			case m >= 0 && kind == hs[m].Kind:
				residual *= support(k, m) // m was taken in, not corroborating
			default:
				if p, ok := products[k]; ok {
					residual *= p
				}
			}
		}
		hs[i].Confidence = min(MaxConfidence, clamp01(1-residual))
	}
	for i, m := range explained {
		if m >= 0 {
			hs[i].Evidence = append(hs[i].Evidence, explanationEvidence(hs[m], own[m], reasons[i]))
			trimEvidence(&hs[i], opts)
			hs[i].explains = true
		}
	}
	slices.SortStableFunc(hs, compareHypotheses)
	if len(hs) > opts.MaxHypotheses {
		hs = hs[:opts.MaxHypotheses]
	}
	return hs
}

// trimEvidence orders h's evidence strongest first and keeps at most
// MaxEvidence items, so the bound never lowers a confidence more than
// needed; ties keep input order.
func trimEvidence(h *Hypothesis, opts Options) {
	slices.SortStableFunc(h.Evidence, func(a, b Evidence) int { return cmp.Compare(b.Weight, a.Weight) })
	if len(h.Evidence) > opts.MaxEvidence {
		h.Evidence = h.Evidence[:opts.MaxEvidence]
	}
}

// combine is the noisy-OR of the evidence weights: each item is an
// independent chance that the hypothesis holds.
func combine(evs []Evidence) float64 {
	residual := 1.0
	for _, e := range evs {
		residual *= 1 - clamp01(e.Weight)
	}
	return clamp01(1 - residual)
}

func compareHypotheses(a, b Hypothesis) int {
	if c := cmp.Compare(b.Confidence, a.Confidence); c != 0 {
		return c
	}
	// At the confidence cap a version change still comes before the
	// symptoms it explains.
	if a.explains != b.explains {
		if a.explains {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(kindOrder[a.Kind], kindOrder[b.Kind]); c != 0 {
		return c
	}
	if c := compareStrings(a.Service, a.Operation, b.Service, b.Operation); c != 0 {
		return c
	}
	return slices.Compare(a.SpanID[:], b.SpanID[:])
}

// compareStrings orders pairs (a1, a2) and (b1, b2) by first then second.
func compareStrings(a1, a2, b1, b2 string) int {
	if c := cmp.Compare(a1, b1); c != 0 {
		return c
	}
	return cmp.Compare(a2, b2)
}
