package rca

// Evidence weights of the dependency-failure analyzer.
const (
	weightFailedCall      = 0.35 // the first failed client call to the callee
	weightFurtherFailure  = 0.1  // each further failed call
	weightRetryPerAttempt = 0.12 // each repeated call from one parent (max weightRetryMax)
	weightRetryMax        = 0.5
	weightSlowCall        = 0.3 // scaled by (1 − p99/actual) of the client operation
	propagatedCallFactor  = 0.25
)

// calleeAttributes name a client span's callee when no server span of it is in
// the request (uninstrumented databases, caches, third parties), in order of
// preference.
var calleeAttributes = []string{
	"peer.service", "db.system.name", "db.system", "messaging.system",
	"rpc.service", "server.address", "net.peer.name", "http.host",
}

// dependencyFailures groups client calls by callee and operation and flags
// callees whose calls failed, or were slower than the client operation's
// p99, with repeated calls from the same parent counted as retries. The
// hypothesis names the callee, since that is what the caller depended on.
func (a *analysis) dependencyFailures() []Hypothesis {
	var groups []*callGroup
	byKey := make(map[OperationKey]*callGroup)
	for _, n := range a.tree.nodes {
		callee, ok := calleeOf(n)
		if !ok {
			continue
		}
		k := OperationKey{callee, n.span.SpanName}
		g := byKey[k]
		if g == nil {
			g = &callGroup{callee: callee, operation: n.span.SpanName}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.calls = append(g.calls, n)
	}
	hypotheses := newGrouper()
	for _, g := range groups {
		evs := a.callEvidence(g)
		if len(evs) == 0 {
			continue // every call healthy: repeated calls alone are not a failure
		}
		h := hypotheses.get(KindDependencyFailure, g.callee, g.operation, a.tree.byKey[spanKey{evs[0].TraceID, evs[0].SpanID}])
		h.Evidence = evs
		if retries, first := retriesOf(g.calls); retries > 0 {
			ev := spanEvidence(first, "repeated calls to the callee from one parent (retries)", min(weightRetryMax, weightRetryPerAttempt*float64(retries)))
			ev.Actual, ev.Unit = float64(retries), "count"
			h.Evidence = append(h.Evidence, ev)
		}
	}
	return hypotheses.list()
}

// callGroup is the calls of one client operation to one callee.
type callGroup struct {
	callee, operation string
	calls             []*node // in start-time order
}

// callEvidence returns an evidence item per failed or slow call of g.
func (a *analysis) callEvidence(g *callGroup) []Evidence {
	var evs []Evidence
	failed := 0
	for _, n := range g.calls {
		if n.span.IsError() {
			w := weightFurtherFailure
			if failed == 0 {
				w = weightFailedCall
			}
			failed++
			reason := "failed client call to the callee"
			if a.calleeFailedBelow(n) {
				// The callee only passed on an error from further down;
				// that deeper origin is the better hypothesis.
				w *= propagatedCallFactor
				reason = "failed client call; the callee's error comes from further below"
			}
			ev := spanEvidence(n, reason, w)
			ev.Text = quote(n.span.StatusMessage)
			evs = append(evs, ev)
			continue
		}
		if st, slow := a.slowCall(n); slow {
			w := weightSlowCall * (1 - float64(st.P99)/float64(n.duration()))
			reason := "client call slower than its baseline p99"
			if a.slowCallBelow(n) {
				w *= propagatedCallFactor
				reason = "client call slower than its baseline p99; the callee waited on a slow call itself"
			}
			ev := spanEvidence(n, reason, w)
			ev.Actual, ev.Expected, ev.Unit = float64(n.duration()), float64(st.P99), "ns"
			evs = append(evs, ev)
		}
	}
	return evs
}

// calleeOf names the callee of a client span: the service of its child in
// another service, else the first calleeAttributes value. Spans of other
// kinds are not calls (a server span directly above another service's span
// is left to the error-origin and latency analyzers).
func calleeOf(n *node) (string, bool) {
	s := n.span
	if s.SpanKind != "Client" && s.SpanKind != "SPAN_KIND_CLIENT" {
		return "", false
	}
	for _, c := range n.children {
		if c.span.ServiceName != s.ServiceName && c.span.ServiceName != "" {
			return c.span.ServiceName, true
		}
	}
	for _, k := range calleeAttributes {
		if v := s.SpanAttributes[k]; v != "" {
			return v, true
		}
	}
	return "", false
}

// retriesOf counts calls beyond the first made by the same parent, and
// returns the first call of the parent with the most.
func retriesOf(calls []*node) (int, *node) {
	perParent := make(map[*node][]*node)
	var parents []*node
	for _, c := range calls {
		if _, seen := perParent[c.parent]; !seen {
			parents = append(parents, c.parent)
		}
		perParent[c.parent] = append(perParent[c.parent], c)
	}
	retries, first, most := 0, calls[0], 0
	for _, p := range parents {
		cs := perParent[p]
		retries += len(cs) - 1
		if len(cs) > most {
			most, first = len(cs), cs[0] // calls are in start-time order
		}
	}
	return retries, first
}

// calleeFailedBelow reports whether a failed call's callee span has an error
// below it (its failure was passed on from a deeper dependency).
func (a *analysis) calleeFailedBelow(n *node) bool {
	for _, c := range n.children {
		if c.span.IsError() && a.errorBelow[c] {
			return true
		}
	}
	return false
}

// slowCall reports whether a span took longer than its operation's p99 by
// at least MinExcess, and returns the operation's baseline.
func (a *analysis) slowCall(n *node) (OperationStats, bool) {
	st, ok := a.operationStats(n.span.ServiceName, n.span.SpanName)
	slow := ok && st.P99 > 0 && n.duration() > int64(st.P99) && n.duration()-int64(st.P50) >= int64(a.opts.MinExcess)
	return st, slow
}

// slowCallBelow reports whether a call below n (made by its callee or
// further down) was slow too: then n's slowness was passed on.
func (a *analysis) slowCallBelow(n *node) bool {
	if a.slowCallsBelow == nil {
		a.slowCallsBelow = a.slowCallServicesBelow()
	}
	return a.slowCallsBelow[n].other(n.span.ServiceName)
}

// slowCallServicesBelow summarises, for each span, the services of the slow
// calls below it. Each slow call marks its ancestors and stops at the first
// one the call does not change: everything above that one already holds the
// call's service (or two services). A summary changes at most twice, which
// keeps this linear in the number of spans however deep the tree, where
// walking each slow call's subtree was quadratic on a chain of slow calls.
func (a *analysis) slowCallServicesBelow() map[*node]serviceSummary {
	below := make(map[*node]serviceSummary)
	for _, c := range a.tree.nodes {
		if _, isCall := calleeOf(c); !isCall {
			continue
		}
		if _, slow := a.slowCall(c); !slow {
			continue
		}
		for p := c.parent; p != nil; p = p.parent {
			s, changed := below[p].with(c.span.ServiceName)
			if !changed {
				break
			}
			below[p] = s
		}
	}
	return below
}

// serviceSummary is a set of services reduced to what slowCallBelow asks of
// it: whether it holds a service other than a given one. It keeps the first
// service and whether there are others.
type serviceSummary struct {
	first string
	count int // 0, 1, or 2 for two or more
}

// with returns the summary with service added, and whether that changed it.
func (s serviceSummary) with(service string) (serviceSummary, bool) {
	switch {
	case s.count == 0:
		return serviceSummary{first: service, count: 1}, true
	case s.count == 1 && service != s.first:
		return serviceSummary{first: s.first, count: 2}, true
	}
	return s, false
}

// other reports whether the set holds a service other than service.
func (s serviceSummary) other(service string) bool {
	return s.count > 1 || s.count == 1 && s.first != service
}
