package rca

import (
	"cmp"
	"slices"
	"time"
)

// criticalPath walks back from the end of root: at each span, the child that
// finished last before the cursor is what the span was waiting for, so it is
// on the path; the cursor then moves to that child's start and the next
// child finishing before it is taken, and so on. Time between critical
// children is the span's own contribution. Children are clipped to their
// parent's interval, so an async child that outlives its parent only counts
// up to the parent's end, and overlapping parallel children contribute only
// the one that finished last.
//
// It returns the steps in path order (parents before the children they
// waited on, children in time order) and each node's critical self time.
func criticalPath(root *node) ([]PathStep, map[*node]int64) {
	contribution := make(map[*node]int64)
	if root == nil {
		return nil, contribution
	}
	var steps []PathStep
	// walk visits n clipped to [start, end], the part of it its parent
	// waited for.
	var walk func(n *node, start, end int64)
	walk = func(n *node, start, end int64) {
		stepAt := len(steps)
		steps = append(steps, PathStep{
			SpanID: n.span.SpanID, Service: n.span.ServiceName,
			Operation: n.span.SpanName, Depth: n.depth,
		})
		byEnd := slices.Clone(n.children)
		slices.SortStableFunc(byEnd, func(a, b *node) int { return cmp.Compare(b.end, a.end) })
		cursor, self := end, int64(0)
		var critical []*node
		var criticalStarts, criticalEnds []int64
		for _, c := range byEnd {
			if cursor <= start {
				break
			}
			if c.start >= cursor || c.end <= start {
				continue // outside what the parent still waits for
			}
			childEnd := min(c.end, cursor)
			self += cursor - childEnd
			critical = append(critical, c)
			criticalEnds = append(criticalEnds, childEnd)
			criticalStarts = append(criticalStarts, max(c.start, start))
			cursor = max(c.start, start)
		}
		self += max(0, cursor-start)
		steps[stepAt].SelfTime = time.Duration(self)
		contribution[n] = self
		// Walk the chosen children in time order so the path reads forwards.
		for i := len(critical) - 1; i >= 0; i-- {
			walk(critical[i], criticalStarts[i], criticalEnds[i])
		}
	}
	walk(root, root.start, root.end)
	return steps, contribution
}
