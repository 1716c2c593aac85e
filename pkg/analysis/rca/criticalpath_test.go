package rca

import (
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

func pathOf(t *testing.T, b *traceBuilder) ([]PathStep, time.Duration) {
	t.Helper()
	res := Analyze(b.context(), Baseline{}, Options{})
	var sum time.Duration
	for _, s := range res.CriticalPath {
		sum += s.SelfTime
	}
	if sum != res.Duration {
		t.Errorf("self times sum to %v, end-to-end is %v", sum, res.Duration)
	}
	return res.CriticalPath, res.Duration
}

func names(steps []PathStep) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Operation
	}
	return out
}

func assertPath(t *testing.T, steps []PathStep, want map[string]time.Duration, order ...string) {
	t.Helper()
	got := names(steps)
	if len(got) != len(order) {
		t.Fatalf("path = %v, want %v", got, order)
	}
	for i := range order {
		if got[i] != order[i] {
			t.Fatalf("path = %v, want %v", got, order)
		}
		if w, ok := want[order[i]]; ok && steps[i].SelfTime != w {
			t.Errorf("%s self time = %v, want %v", order[i], steps[i].SelfTime, w)
		}
	}
}

func TestCriticalPathSequential(t *testing.T) {
	b := newTraceBuilder(0)
	root := b.add(signalstore.SpanID{}, "a", "root", "Server", 0, 100*ms)
	b.add(root, "a", "first", "Internal", 10*ms, 30*ms)
	b.add(root, "a", "second", "Internal", 50*ms, 40*ms)
	steps, _ := pathOf(t, b)
	assertPath(t, steps, map[string]time.Duration{"root": 30 * ms, "first": 30 * ms, "second": 40 * ms}, "root", "first", "second")
}

func TestCriticalPathParallel(t *testing.T) {
	// Two parallel children: only the one finishing last is waited for; the
	// other overlaps it and is not on the path.
	b := newTraceBuilder(0)
	root := b.add(signalstore.SpanID{}, "a", "root", "Server", 0, 100*ms)
	b.add(root, "b", "fast", "Client", 10*ms, 20*ms)
	slow := b.add(root, "c", "slow", "Client", 10*ms, 80*ms)
	b.add(slow, "c", "slow-inner", "Internal", 20*ms, 60*ms)
	steps, _ := pathOf(t, b)
	assertPath(t, steps, map[string]time.Duration{"root": 20 * ms, "slow": 20 * ms, "slow-inner": 60 * ms}, "root", "slow", "slow-inner")
}

func TestCriticalPathStaggeredParallel(t *testing.T) {
	// A starts first, B starts later and ends last: B is waited for, then
	// the part of A before B started.
	b := newTraceBuilder(0)
	root := b.add(signalstore.SpanID{}, "a", "root", "Server", 0, 100*ms)
	b.add(root, "a", "A", "Client", 0, 60*ms)
	b.add(root, "a", "B", "Client", 40*ms, 50*ms)
	steps, _ := pathOf(t, b)
	assertPath(t, steps, map[string]time.Duration{"root": 10 * ms, "A": 40 * ms, "B": 50 * ms}, "root", "A", "B")
}

func TestCriticalPathAsyncChildBeyondParent(t *testing.T) {
	// A fire-and-forget child outliving its parent counts only up to the
	// parent's end: the request did not wait for the rest.
	b := newTraceBuilder(0)
	root := b.add(signalstore.SpanID{}, "a", "root", "Server", 0, 50*ms)
	b.add(root, "q", "publish", "Producer", 30*ms, 500*ms)
	steps, d := pathOf(t, b)
	if d != 50*ms {
		t.Fatalf("duration = %v", d)
	}
	assertPath(t, steps, map[string]time.Duration{"root": 30 * ms, "publish": 20 * ms}, "root", "publish")
}

func TestCriticalPathChildBeforeParentStart(t *testing.T) {
	// Clock skew: a child starting before its parent is clipped to it.
	b := newTraceBuilder(0)
	root := b.add(signalstore.SpanID{}, "a", "root", "Server", 10*ms, 40*ms)
	b.add(root, "b", "skewed", "Server", 0, 30*ms)
	steps, _ := pathOf(t, b)
	assertPath(t, steps, map[string]time.Duration{"root": 20 * ms, "skewed": 20 * ms}, "root", "skewed")
}

func TestSelfTimeOverlappingChildren(t *testing.T) {
	b := newTraceBuilder(0)
	root := b.add(signalstore.SpanID{}, "a", "root", "Server", 0, 100*ms)
	b.add(root, "a", "x", "Internal", 10*ms, 30*ms) // 10..40
	b.add(root, "a", "y", "Internal", 20*ms, 40*ms) // 20..60
	b.add(root, "a", "z", "Internal", 90*ms, 50*ms) // 90..140, clipped to 100
	tree := buildTree(b.spans)
	if got := time.Duration(tree.roots[0].selfTime); got != 40*ms {
		t.Fatalf("self time = %v, want 40ms", got)
	}
}

func TestTreeCycleAndDuplicates(t *testing.T) {
	b := newTraceBuilder(0)
	x := b.add(signalstore.SpanID{}, "a", "x", "Server", 0, 10*ms)
	y := b.add(x, "a", "y", "Server", 1*ms, 5*ms)
	b.spans[0].ParentSpanID = y           // x ↔ y
	b.spans = append(b.spans, b.spans[1]) // duplicate y
	tree := buildTree(b.spans)
	if len(tree.nodes) != 2 || len(tree.roots) != 1 {
		t.Fatalf("nodes=%d roots=%d", len(tree.nodes), len(tree.roots))
	}
	_ = Analyze(b.context(), Baseline{}, Options{})
}
