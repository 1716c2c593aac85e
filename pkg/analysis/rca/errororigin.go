package rca

import "strings"

// Evidence weights of the error-origin analyzer.
const (
	weightErrorSpan      = 0.45 // an error span with no error below it
	weightRepeatError    = 0.1  // each further span of the same operation (max 3)
	weightErrorLog       = 0.2  // an error log emitted in the origin span
	weightExceptionEvent = 0.1  // an "exception" span event on the origin
	weightPropagated     = 0.1  // per error ancestor it explains (max 3)
)

// errorOrigins finds error spans with no error span anywhere below them: the
// deepest errors, whose cause is not another error below. Ancestors that are
// errors too are taken as propagation and counted as evidence that the
// origin explains them. Failed client calls are left to dependencyFailures.
// One hypothesis per (service, operation); the weight
// of the error itself is discounted by the operation's healthy error rate,
// since an operation that often fails says less by failing once more.
func (a *analysis) errorOrigins() []Hypothesis {
	groups := newGrouper()
	spans := make(map[*Hypothesis]int)
	for _, n := range a.tree.nodes {
		if !n.span.IsError() || a.errorBelow[n] {
			continue
		}
		if _, isCall := calleeOf(n); isCall {
			// A failed call with no error below it (a timeout, an
			// uninstrumented callee) is the callee's failure, reported by
			// dependencyFailures under the callee's name.
			continue
		}
		s := n.span
		h := groups.get(KindErrorOrigin, s.ServiceName, s.SpanName, n)
		spans[h]++
		if spans[h] > 4 {
			// Repeats of one failing operation are correlated evidence;
			// beyond a few they add nothing.
			continue
		}
		base := 1 - a.baselineErrorRate(s.ServiceName, s.SpanName)
		w := weightRepeatError
		if spans[h] == 1 {
			w = weightErrorSpan
		}
		ev := spanEvidence(n, "error status with no error span below it", w*base)
		ev.Text = quote(s.StatusMessage)
		ev.Actual, ev.Expected, ev.Unit = 1, a.baselineErrorRate(s.ServiceName, s.SpanName), "error_rate"
		h.Evidence = append(h.Evidence, ev)
		for _, e := range s.Events {
			if strings.EqualFold(e.Name, "exception") {
				ev := spanEvidence(n, "exception event on the origin span", weightExceptionEvent)
				ev.Text = quote(e.Attributes["exception.type"] + ": " + e.Attributes["exception.message"])
				ev.Time = e.Timestamp
				h.Evidence = append(h.Evidence, ev)
				break
			}
		}
		inSpan, inTrace := a.logs.of(n)
		found := false
		for _, i := range inSpan {
			if isErrorLog(&a.ctx.Logs[i]) {
				h.Evidence = append(h.Evidence, logEvidence(a.ctx.Logs, i, "error log in the origin span", "", weightErrorLog))
				found = true
			}
		}
		if !found {
			// Only logs that carry the trace id but no span id: weaker,
			// they may belong to another span of the same service.
			for _, i := range inTrace {
				if isErrorLog(&a.ctx.Logs[i]) {
					h.Evidence = append(h.Evidence, logEvidence(a.ctx.Logs, i, "error log of the same trace and service", "", weightErrorLog/2))
				}
			}
		}
		propagated := 0
		ancestors(n, func(p *node) {
			if p.span.IsError() {
				propagated++
			}
		})
		if propagated > 0 {
			ev := spanEvidence(n, "error ancestors this origin explains", weightPropagated*float64(min(propagated, 3)))
			ev.Actual, ev.Unit = float64(propagated), "count"
			h.Evidence = append(h.Evidence, ev)
		}
	}
	return groups.list()
}
