package rca

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// slowCallBelowReference is the first implementation of slowCallBelow: it
// walks n's whole subtree, which is quadratic on a chain of slow calls.
// slowCallBelow must give the same results.
func slowCallBelowReference(a *analysis, n *node) bool {
	stack := slices.Clone(n.children)
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, isCall := calleeOf(c); isCall && c.span.ServiceName != n.span.ServiceName {
			if _, slow := a.slowCall(c); slow {
				return true
			}
		}
		stack = append(stack, c.children...)
	}
	return false
}

// checkSlowCallBelow compares slowCallBelow with the reference on every span.
// It returns how many spans had a slow call of another service below them,
// and how many had slow calls below them of their own service only (which
// must not count).
func checkSlowCallBelow(t *testing.T, ctx Context, baseline Baseline) (slowBelow, ownOnly int) {
	t.Helper()
	a := &analysis{ctx: ctx, baseline: baseline, opts: Options{}.withDefaults(), tree: buildTree(ctx.Spans)}
	for _, n := range a.tree.nodes {
		got, want := a.slowCallBelow(n), slowCallBelowReference(a, n)
		if got != want {
			t.Fatalf("span %s (service %q, %d children, depth %d): slowCallBelow %t, reference %t",
				n.span.SpanID, n.span.ServiceName, len(n.children), n.depth, got, want)
		}
		if want {
			slowBelow++
			continue
		}
		for c := range descendants(n) {
			if _, isCall := calleeOf(c); isCall {
				if _, slow := a.slowCall(c); slow {
					ownOnly++
					break
				}
			}
		}
	}
	return slowBelow, ownOnly
}

// descendants yields the spans below n.
func descendants(n *node) func(func(*node) bool) {
	return func(yield func(*node) bool) {
		stack := slices.Clone(n.children)
		for len(stack) > 0 {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !yield(c) {
				return
			}
			stack = append(stack, c.children...)
		}
	}
}

// randomCalls decodes bytes into a request of client, server and internal
// spans of four services (one unnamed), with a baseline that knows most
// operations. Parents are often the previous span, so that deep chains of
// calls occur, else any span (cycles included) or none. Some client spans
// name their callee by peer.service, the others only through a child of
// another service.
func randomCalls(data []byte) (Context, Baseline) {
	next := byteReader(data)
	services := []string{"a", "b", "c", ""}
	names := []string{"call", "query", "handle"}
	kinds := []string{"Client", "SPAN_KIND_CLIENT", "Server", "Internal"}
	baseline := Baseline{Operations: make(map[OperationKey]OperationStats)}
	for _, svc := range services {
		for _, name := range names {
			if b := next(); b%4 != 0 {
				p50 := time.Duration(b%8) * ms
				baseline.Operations[OperationKey{svc, name}] = OperationStats{
					Count: 100, P50: p50, P95: p50 + ms, P99: p50 + time.Duration(b/8%8)*ms,
				}
			}
		}
	}
	spans := make([]signalstore.Span, 1+next())
	for i := range spans {
		s := &spans[i]
		s.TraceID[0] = 1
		binary.BigEndian.PutUint64(s.SpanID[:], uint64(i+1))
		switch p := next(); {
		case p < 16: // a root
		case p < 176 && i > 0: // the previous span: chains
			binary.BigEndian.PutUint64(s.ParentSpanID[:], uint64(i))
		default: // any span, cycles included
			binary.BigEndian.PutUint64(s.ParentSpanID[:], uint64(1+p%len(spans)))
		}
		s.ServiceName = services[next()%len(services)]
		s.SpanName = names[next()%len(names)]
		s.SpanKind = kinds[next()%len(kinds)]
		if b := next(); b%3 == 0 {
			s.SpanAttributes = map[string]string{"peer.service": services[b/3%len(services)]}
		}
		s.Timestamp = t0.Add(time.Duration(next()%16) * ms)
		s.Duration = time.Duration(next()%32) * ms
	}
	return Context{Spans: spans}, baseline
}

func TestSlowCallBelowMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	slowBelow, ownOnly := 0, 0
	for range 3000 {
		data := make([]byte, rng.IntN(1500))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		ctx, baseline := randomCalls(data)
		s, o := checkSlowCallBelow(t, ctx, baseline)
		slowBelow += s
		ownOnly += o
	}
	// The comparison means little unless both answers, and the rule that a
	// slow call of the span's own service does not count, occurred often.
	if slowBelow < 10000 || ownOnly < 1000 {
		t.Fatalf("only %d spans with a slow call of another service below, %d with slow calls of their own service only", slowBelow, ownOnly)
	}
}

func FuzzSlowCallBelow(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 6, 100, 0, 0, 0, 0, 15, 30, 100, 0, 0, 0, 3, 15, 30, 100, 1, 0, 0, 4, 15, 30})
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, baseline := randomCalls(data)
		checkSlowCallBelow(t, ctx, baseline)
	})
}
