package rca

import (
	"slices"
	"time"
)

// Evidence weights of the latency-outlier analyzer.
const (
	// weightSelfBeyondP99 scales how far self time is beyond its baseline
	// p99: (1 − p99/actual).
	weightSelfBeyondP99 = 0.6
	// weightLatencyImpact scales the share of end-to-end latency the excess
	// accounts for on the critical path.
	weightLatencyImpact = 0.5
	// weightRepeat per further outlier span of the same operation, up to
	// weightRepeatMax (shared with the error-origin analyzer).
	weightRepeat    = 0.05
	weightRepeatMax = 0.2
)

// latencyOutliers flags spans whose self time (duration minus time covered by
// children) exceeds the operation's self-time p99 by at least MinExcess.
// Judging self time rather than duration is what keeps the parents of a slow
// span from being blamed: they wait on it, but their own time is normal. The
// impact evidence uses the span's critical-path contribution, so a slow span
// on a parallel branch that did not decide end-to-end latency ranks lower.
// One hypothesis per (service, operation), on its worst span.
func (a *analysis) latencyOutliers() []Hypothesis {
	type outlier struct {
		worst  *node
		stats  OperationStats
		spans  int
		excess int64
	}
	var order []OperationKey
	outliers := make(map[OperationKey]*outlier)
	for _, n := range a.tree.nodes {
		s := n.span
		st, ok := a.operationStats(s.ServiceName, s.SpanName)
		if !ok {
			continue
		}
		// An operation whose self time is normally (near) zero, such as a
		// parent fully covered by its children, still needs MinExcess of
		// its own before it counts as slow.
		st.SelfP99 = max(st.SelfP99, a.opts.MinExcess)
		excess := n.selfTime - int64(st.SelfP50)
		if n.selfTime <= int64(st.SelfP99) || excess < int64(a.opts.MinExcess) {
			continue
		}
		k := OperationKey{s.ServiceName, s.SpanName}
		o := outliers[k]
		if o == nil {
			o = &outlier{stats: st}
			outliers[k] = o
			order = append(order, k)
		}
		o.spans++
		if o.worst == nil || excess > o.excess {
			o.worst, o.excess = n, excess
		}
	}
	total := float64(0)
	if a.root != nil {
		total = float64(a.root.duration())
	}
	groups := newGrouper()
	for _, k := range order {
		o := outliers[k]
		n, st := o.worst, o.stats
		h := groups.get(KindLatencyOutlier, k.Service, k.Operation, n)
		ev := spanEvidence(n, "self time above the baseline p99", weightSelfBeyondP99*(1-float64(st.SelfP99)/float64(n.selfTime)))
		ev.Actual, ev.Expected, ev.Unit = float64(n.selfTime), float64(st.SelfP99), "ns"
		h.Evidence = append(h.Evidence, ev)
		if onPath, ok := a.critical[n]; ok && total > 0 {
			share := float64(min(o.excess, onPath)) / total
			ev := spanEvidence(n, "share of end-to-end latency the excess accounts for on the critical path", weightLatencyImpact*share)
			ev.Actual, ev.Unit = share, "ratio"
			h.Evidence = append(h.Evidence, ev)
		}
		if o.spans > 1 {
			// Repeats of one slow operation are correlated, not independent
			// evidence: they add a little, capped.
			ev := spanEvidence(n, "further spans of the operation above the baseline p99", min(weightRepeatMax, weightRepeat*float64(o.spans-1)))
			ev.Actual, ev.Unit = float64(o.spans-1), "count"
			h.Evidence = append(h.Evidence, ev)
		}
	}
	return groups.list()
}

// deviations compares each (service, operation) of the request with its
// baseline: error rate and worst duration and self time.
func (a *analysis) deviations() []Deviation {
	byKey := make(map[OperationKey]*Deviation)
	var keys []OperationKey
	for _, n := range a.tree.nodes {
		k := OperationKey{n.span.ServiceName, n.span.SpanName}
		d := byKey[k]
		if d == nil {
			d = &Deviation{Service: k.Service, Operation: k.Operation}
			if st, ok := a.operationStats(k.Service, k.Operation); ok {
				d.HasBaseline = true
				d.BaselineErrorRate = st.ErrorRate()
				d.BaselineP50, d.BaselineP99 = st.P50, st.P99
			}
			byKey[k] = d
			keys = append(keys, k)
		}
		d.Spans++
		if n.span.IsError() {
			d.Errors++
		}
		d.MaxDuration = max(d.MaxDuration, time.Duration(n.duration()))
		d.MaxSelfTime = max(d.MaxSelfTime, time.Duration(n.selfTime))
	}
	slices.SortFunc(keys, func(x, y OperationKey) int {
		return compareStrings(x.Service, x.Operation, y.Service, y.Operation)
	})
	out := make([]Deviation, 0, len(keys))
	for _, k := range keys {
		d := byKey[k]
		d.ErrorRate = float64(d.Errors) / float64(d.Spans)
		out = append(out, *d)
	}
	return out
}
