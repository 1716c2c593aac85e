package rca

import (
	"cmp"
	"math"
	"slices"
	"sort"
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
	// The intervals of the spans waiting on another service, merged once per
	// parent and service: the reactive sibling rule then costs each span
	// binary searches instead of a pass over all its siblings.
	waiting := make(map[waitKey][]interval)
	for _, c := range t.nodes {
		if _, remote := remoteCallee(c); remote && c.parent != nil {
			k := waitKey{c.parent, c.span.ServiceName}
			waiting[k] = append(waiting[k], interval{c.start, c.end})
		}
	}
	waits := make(map[waitKey]*intervalUnion, len(waiting))
	for k, ivs := range waiting {
		waits[k] = newIntervalUnion(ivs)
	}
	for _, n := range t.nodes {
		var siblingWaits *intervalUnion
		if n.parent != nil {
			siblingWaits = waits[waitKey{n.parent, n.span.ServiceName}]
		}
		n.selfTime = selfTime(n, siblingWaits)
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

// waitKey names the children of one parent and one service.
type waitKey struct {
	parent  *node
	service string
}

// selfTime is the span's duration not covered by the union of its children's
// intervals (clipped to the span), so waiting on a child is not self time.
// A span that calls no other service itself also does not count the time
// during which a sibling of the same service waits on another service
// (siblingWaits): reactive servers record the request handler and the
// outgoing call as siblings, and the handler's span then lasts as long as
// the call without doing anything of its own.
func selfTime(n *node, siblingWaits *intervalUnion) int64 {
	if siblingWaits != nil {
		// The rule is for spans that call no other service, which also
		// keeps a span among siblingWaits from covering itself.
		if _, remote := remoteCallee(n); remote {
			siblingWaits = nil
		}
	}
	if len(n.children) == 0 && siblingWaits == nil {
		return n.duration()
	}
	own := make([]interval, 0, len(n.children))
	for _, c := range n.children {
		own = append(own, interval{max(c.start, n.start), min(c.end, n.end)})
	}
	own = mergeIntervals(own)
	covered := int64(0)
	for _, iv := range own {
		covered += iv.hi - iv.lo
	}
	if siblingWaits != nil {
		// |own ∪ (waits ∩ n)| = |own| + |waits ∩ n| − |own ∩ waits|, as own
		// lies within n.
		covered += siblingWaits.overlap(n.start, n.end)
		for _, iv := range own {
			covered -= siblingWaits.overlap(iv.lo, iv.hi)
		}
	}
	return max(0, n.duration()-covered)
}

// interval is [lo, hi) in unix nanoseconds.
type interval struct{ lo, hi int64 }

// mergeIntervals sorts ivs and merges them in place into disjoint, non-empty
// intervals in ascending order.
func mergeIntervals(ivs []interval) []interval {
	slices.SortFunc(ivs, func(a, b interval) int { return cmp.Compare(a.lo, b.lo) })
	out := ivs[:0]
	for _, iv := range ivs {
		if iv.hi <= iv.lo {
			continue
		}
		if last := len(out) - 1; last >= 0 && iv.lo <= out[last].hi {
			out[last].hi = max(out[last].hi, iv.hi)
			continue
		}
		out = append(out, iv)
	}
	return out
}

// intervalUnion is a union of intervals with the running total of their
// lengths, so that its overlap with any interval takes a binary search.
type intervalUnion struct {
	ivs []interval // disjoint, ascending
	// before[i] is the total length of ivs[:i]. For extreme timestamps the
	// totals may wrap around; overlap only takes differences whose true
	// value fits in int64, which wrapping arithmetic still gets exactly.
	before []int64
}

func newIntervalUnion(ivs []interval) *intervalUnion {
	u := &intervalUnion{ivs: mergeIntervals(ivs)}
	u.before = make([]int64, len(u.ivs)+1)
	for i, iv := range u.ivs {
		u.before[i+1] = u.before[i] + (iv.hi - iv.lo)
	}
	return u
}

// overlap returns the length of the union's intersection with [lo, hi).
func (u *intervalUnion) overlap(lo, hi int64) int64 {
	if hi <= lo {
		return 0
	}
	// ivs[i:j] are the intervals that meet [lo, hi).
	i := sort.Search(len(u.ivs), func(k int) bool { return u.ivs[k].hi > lo })
	j := sort.Search(len(u.ivs), func(k int) bool { return u.ivs[k].lo >= hi })
	if i >= j {
		return 0
	}
	total := u.before[j] - u.before[i]
	// Comparisons rather than max(0, …): the differences may wrap around.
	if first := u.ivs[i]; first.lo < lo {
		total -= lo - first.lo
	}
	if last := u.ivs[j-1]; last.hi > hi {
		total -= last.hi - hi
	}
	return total
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
