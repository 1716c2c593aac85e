package rca

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// node is one span in the request's span tree.
type node struct {
	span     *signalstore.Span
	index    int // position in Context.Spans
	parent   *node
	children []*node // in canonical order
	depth    int
	// start and end are unix nanoseconds; end >= start.
	start, end int64
	selfTime   int64 // duration not covered by any child's interval
}

func (n *node) duration() int64 { return n.end - n.start }

type spanKey struct {
	trace signalstore.TraceID
	span  signalstore.SpanID
}

// spanTree indexes the spans of a request. Spans with an empty or duplicate
// id are left out (the first in canonical order wins); parent cycles are
// broken so that every node is reachable from a root.
type spanTree struct {
	nodes []*node // canonical order: start time, trace id, span id, index
	byKey map[spanKey]*node
	roots []*node
}

func buildTree(spans []signalstore.Span) *spanTree {
	order := make([]int, len(spans))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		sa, sb := &spans[a], &spans[b]
		if c := sa.Timestamp.Compare(sb.Timestamp); c != 0 {
			return c
		}
		if c := slices.Compare(sa.TraceID[:], sb.TraceID[:]); c != 0 {
			return c
		}
		return slices.Compare(sa.SpanID[:], sb.SpanID[:])
	})
	t := &spanTree{byKey: make(map[spanKey]*node, len(spans))}
	for _, i := range order {
		s := &spans[i]
		key := spanKey{s.TraceID, s.SpanID}
		if s.SpanID.IsEmpty() || t.byKey[key] != nil {
			continue
		}
		start := s.Timestamp.UnixNano()
		n := &node{span: s, index: i, start: start, end: addClamped(start, s.Duration)}
		t.byKey[key] = n
		t.nodes = append(t.nodes, n)
	}
	for _, n := range t.nodes {
		p := n.span.ParentSpanID
		if p.IsEmpty() || p == n.span.SpanID {
			continue
		}
		if parent := t.byKey[spanKey{n.span.TraceID, p}]; parent != nil {
			n.parent = parent
		}
	}
	t.link()
	remoteSiblings := make(map[*node][]*node) // by parent
	for _, n := range t.nodes {
		if len(n.children) > 1 {
			remoteSiblings[n] = remoteChildren(n)
		}
	}
	for _, n := range t.nodes {
		var siblings []*node
		if n.parent != nil {
			siblings = remoteSiblings[n.parent]
		}
		n.selfTime = selfTime(n, siblings)
	}
	return t
}

// link fills children, roots and depths, cutting parent cycles: a node not
// reachable from a root is in (or below) a cycle, and the first such node in
// canonical order becomes a root.
func (t *spanTree) link() {
	for _, n := range t.nodes {
		if n.parent == nil {
			t.roots = append(t.roots, n)
		}
	}
	reached := make(map[*node]bool, len(t.nodes))
	for _, n := range t.nodes {
		if n.parent != nil {
			n.parent.children = append(n.parent.children, n)
		}
	}
	var queue []*node
	visit := func(root *node) {
		queue = append(queue[:0], root)
		reached[root] = true
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			for _, c := range n.children {
				if !reached[c] {
					reached[c] = true
					c.depth = n.depth + 1
					queue = append(queue, c)
				}
			}
		}
	}
	for _, r := range t.roots {
		visit(r)
	}
	for _, n := range t.nodes {
		if reached[n] {
			continue
		}
		p := n.parent
		p.children = slices.DeleteFunc(p.children, func(c *node) bool { return c == n })
		n.parent = nil
		n.depth = 0
		t.roots = append(t.roots, n)
		visit(n)
	}
}

// mainRoot is the root whose subtree decides end-to-end latency: the longest
// root span, earliest first on ties.
func (t *spanTree) mainRoot() *node {
	var best *node
	for _, r := range t.roots {
		if best == nil || r.duration() > best.duration() {
			best = r
		}
	}
	return best
}

// selfTime is the span's duration not covered by the union of its children's
// intervals (clipped to the span), so waiting on a child is not self time.
// A span that calls no other service itself also does not count the time
// during which a sibling of the same service waits on another service
// (remoteSiblings): reactive servers record the request handler and the
// outgoing call as siblings, and the handler's span then lasts as long as
// the call without doing anything of its own.
func selfTime(n *node, remoteSiblings []*node) int64 {
	if len(remoteSiblings) > 0 {
		if _, remote := remoteCallee(n); remote {
			remoteSiblings = nil
		}
	}
	if len(n.children) == 0 && len(remoteSiblings) == 0 {
		return n.duration()
	}
	type interval struct{ lo, hi int64 }
	ivs := make([]interval, 0, len(n.children)+len(remoteSiblings))
	addClipped := func(c *node) {
		lo, hi := max(c.start, n.start), min(c.end, n.end)
		if hi > lo {
			ivs = append(ivs, interval{lo, hi})
		}
	}
	for _, c := range n.children {
		addClipped(c)
	}
	for _, s := range remoteSiblings {
		if s != n && s.span.ServiceName == n.span.ServiceName {
			addClipped(s)
		}
	}
	if len(ivs) == 0 {
		return n.duration()
	}
	slices.SortFunc(ivs, func(a, b interval) int { return cmp.Compare(a.lo, b.lo) })
	covered, curLo, curHi := int64(0), int64(0), int64(0)
	open := false
	for _, iv := range ivs {
		if open && iv.lo <= curHi {
			curHi = max(curHi, iv.hi)
			continue
		}
		if open {
			covered += curHi - curLo
		}
		curLo, curHi, open = iv.lo, iv.hi, true
	}
	if open {
		covered += curHi - curLo
	}
	return max(0, n.duration()-covered)
}

// remoteChildren returns the children of n that wait on a span of another
// service (see remoteCallee).
func remoteChildren(n *node) []*node {
	var out []*node
	for _, c := range n.children {
		if _, remote := remoteCallee(c); remote {
			out = append(out, c)
		}
	}
	return out
}

// remoteCallee returns the service of n's children when they include spans
// of exactly one other service: n then waits on a call to it, and its self
// time is that call's network and queueing time. Children of several other
// services leave the self time with n's service.
func remoteCallee(n *node) (string, bool) {
	callee := ""
	for _, c := range n.children {
		svc := c.span.ServiceName
		if svc == n.span.ServiceName || svc == callee {
			continue
		}
		if callee != "" {
			return "", false
		}
		callee = svc
	}
	return callee, callee != ""
}

// addClamped returns start+d in nanoseconds without overflow; a negative
// duration counts as zero.
func addClamped(start int64, d time.Duration) int64 {
	if d <= 0 {
		return start
	}
	if start > 0 && int64(d) > math.MaxInt64-start {
		return math.MaxInt64
	}
	return start + int64(d)
}

// ancestors calls fn for each ancestor of n, nearest first.
func ancestors(n *node, fn func(*node)) {
	for p := n.parent; p != nil; p = p.parent {
		fn(p)
	}
}
