package rca

import (
	"github.com/ollystack/ollystack/pkg/analysis/logpattern"
)

// Evidence weights of the new-log-pattern analyzer.
const (
	weightNewErrorTemplate = 0.4  // first error log of a template unseen in the baseline
	weightNewWarnTemplate  = 0.2  // first warning log of such a template
	weightRepeatNewLog     = 0.05 // each further log of the template
)

// newLogPatterns mines the request's error and warning logs and reports the
// templates the baseline miner of the same service would not match: a
// message never seen while the service was healthy. It needs
// Baseline.Templates; without it there is nothing to compare with.
func (a *analysis) newLogPatterns() []Hypothesis {
	if a.baseline.Templates == nil || len(a.ctx.Logs) == 0 {
		return nil
	}
	local, err := logpattern.New(logpattern.Config{})
	if err != nil {
		return nil
	}
	groups := newGrouper()
	seen := make(map[*Hypothesis]int)
	for i := range a.ctx.Logs {
		l := &a.ctx.Logs[i]
		isErr := isErrorLog(l)
		if !isErr && !isWarnLog(l) {
			continue
		}
		if _, known := a.baseline.Templates.Match(l.ServiceName, l.Body); known {
			continue
		}
		m := local.Add(l.Body)
		n := a.tree.byKey[spanKey{l.TraceID, l.SpanID}]
		operation := ""
		if n != nil {
			operation = n.span.SpanName
		}
		// Group by template id so each novel message is one hypothesis.
		h := groups.getVariant(KindNewLogPattern, l.ServiceName, operation, m.ID, n)
		if h.SpanID.IsEmpty() {
			h.SpanID = l.SpanID
		}
		w := weightRepeatNewLog
		if seen[h] == 0 {
			w = weightNewWarnTemplate
			if isErr {
				w = weightNewErrorTemplate
			}
		}
		seen[h]++
		ev := logEvidence(a.ctx.Logs, i, "log template unseen in the service's baseline", m.Template, w)
		ev.Actual, ev.Unit = float64(seen[h]), "count"
		h.Evidence = append(h.Evidence, ev)
	}
	return groups.list()
}
