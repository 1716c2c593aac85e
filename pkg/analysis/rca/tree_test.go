package rca

import (
	"cmp"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// selfTimeReference is the first, quadratic implementation of selfTime: it
// unions the span's children with every remote-waiting sibling of its
// service, all clipped to the span. selfTime must give the same results.
func selfTimeReference(n *node, remoteSiblings []*node) int64 {
	if len(remoteSiblings) > 0 {
		if _, remote := remoteCallee(n); remote {
			remoteSiblings = nil
		}
	}
	if len(n.children) == 0 && len(remoteSiblings) == 0 {
		return n.duration()
	}
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

// checkSelfTime builds the tree of spans and compares every node's self time
// with selfTimeReference. It returns how many nodes the sibling rule changed.
func checkSelfTime(t *testing.T, spans []signalstore.Span) (ruleApplied int) {
	t.Helper()
	tree := buildTree(spans)
	for _, n := range tree.nodes {
		var siblings []*node
		if n.parent != nil {
			for _, c := range n.parent.children {
				if _, remote := remoteCallee(c); remote {
					siblings = append(siblings, c)
				}
			}
		}
		want := selfTimeReference(n, siblings)
		if n.selfTime != want {
			t.Fatalf("span %x (service %q, [%d, %d], %d children, %d remote siblings): self time %d, reference %d",
				n.span.SpanID, n.span.ServiceName, n.start, n.end, len(n.children), len(siblings), n.selfTime, want)
		}
		if want != selfTimeReference(n, nil) {
			ruleApplied++
		}
	}
	return ruleApplied
}

// byteReader returns the bytes of data one at a time, then zeros: fuzz
// inputs of any length decode to a whole test case.
func byteReader(data []byte) func() int {
	return func() int {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return int(b)
	}
}

// randomSpans decodes bytes into spans of three services whose parents are
// mostly among the first few spans, so that parents have many children of
// both kinds (local, and waiting on another service). Times lie on a coarse
// grid (equal timestamps, overlaps, windows partly covering siblings); some
// durations are zero, negative or huge, and some starts extreme, so that
// merged intervals are longer than int64 can hold.
func randomSpans(data []byte) []signalstore.Span {
	next := byteReader(data)
	services := []string{"a", "b", "c"}
	spans := make([]signalstore.Span, 1+next())
	for i := range spans {
		s := &spans[i]
		s.TraceID[0] = 1
		binary.BigEndian.PutUint64(s.SpanID[:], uint64(i+1))
		switch p := next(); {
		case p < 32: // a root
		case p < 160: // one of the first few spans: wide fan-outs
			binary.BigEndian.PutUint64(s.ParentSpanID[:], uint64(1+p%4))
		default: // any span, cycles included
			binary.BigEndian.PutUint64(s.ParentSpanID[:], uint64(1+p%len(spans)))
		}
		s.ServiceName = services[next()%3]
		start := int64(next()%16) * int64(ms)
		switch next() % 32 {
		case 0:
			start += math.MinInt64
		case 1:
			start = math.MaxInt64 - start
		}
		s.Timestamp = time.Unix(0, start)
		s.Duration = time.Duration(next()%20) * ms
		switch next() % 16 {
		case 0:
			s.Duration = -s.Duration
		case 1:
			s.Duration = math.MaxInt64
		}
	}
	return spans
}

func TestSelfTimeMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ruleApplied := 0
	for range 3000 {
		data := make([]byte, rng.IntN(2000))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		ruleApplied += checkSelfTime(t, randomSpans(data))
	}
	// The comparison means little unless the sibling rule mattered often.
	if ruleApplied < 10000 {
		t.Fatalf("sibling rule changed only %d self times", ruleApplied)
	}
}

func TestSelfTimeSiblingsBeyondInt64(t *testing.T) {
	b := newTraceBuilder(0)
	b.base = time.Unix(0, 0)
	root := b.add(signalstore.SpanID{}, "a", "root", "Server", 0, time.Second)
	local := b.add(root, "a", "handle", "Internal", 10*ms, 10*ms)
	// Two calls whose union spans nearly all of int64: its length wraps.
	for _, start := range []time.Duration{math.MinInt64, -1} {
		call := b.add(root, "a", "call", "Client", start, math.MaxInt64)
		b.add(call, "b", "serve", "Server", start, time.Second)
	}
	if checkSelfTime(t, b.spans) == 0 {
		t.Fatal("sibling rule not applied")
	}
	for _, n := range buildTree(b.spans).nodes {
		if n.span.SpanID == local && n.selfTime != 0 {
			t.Fatalf("handler self time = %d, want 0", n.selfTime)
		}
	}
}

func FuzzSelfTime(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{8, 32, 0, 1, 0, 0, 40, 1, 2, 3, 0, 40, 0, 2, 5, 0, 200, 1, 3, 4, 0, 33, 0, 2, 9, 1, 1, 2, 3, 3, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSelfTime(t, randomSpans(data))
	})
}
