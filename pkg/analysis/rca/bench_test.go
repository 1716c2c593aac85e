package rca

import (
	"fmt"
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// bigRequest builds a 1,000-span request: a root fanning out to 10 services,
// each a chain of calls with parallel leaves, some errors and logs.
func bigRequest() Context {
	b := newTraceBuilder(42)
	root := b.add(signalstore.SpanID{}, "gateway", "GET /big", "Server", 0, 0)
	at := ms
	for len(b.spans) < 1000 {
		svc := fmt.Sprintf("svc-%d", len(b.spans)%10)
		call := b.add(root, "gateway", "call "+svc, "Client", at, 9*ms, attr("peer.service", svc))
		srv := b.add(call, svc, "handle", "Server", at+ms/2, 8*ms)
		for k := range 3 {
			leaf := b.add(srv, svc, fmt.Sprintf("query %d", k), "Client", at+ms, 3*ms, attr("db.system", "postgresql"))
			if len(b.spans)%97 == 0 {
				b.spans[len(b.spans)-1].StatusCode = signalstore.StatusCodeError
				b.log(leaf, svc, "ERROR", at+4*ms, fmt.Sprintf("query failed: deadlock detected on relation %d", k))
			}
		}
		b.log(srv, svc, "INFO", at+2*ms, "handled request "+svc)
		at += 10 * ms
	}
	b.finish(root, at, "")
	b.gauge("svc-1", "db.client.connections.usage", 48, map[string]string{"state": "used"})
	b.gauge("svc-1", "db.client.connections.max", 50, nil)
	return b.context()
}

func BenchmarkAnalyze1000Spans(b *testing.B) {
	ctx := bigRequest()
	baseline := BaselineFromSpans(ctx.Spans, ctx.Logs[:len(ctx.Logs)/2])
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Analyze(ctx, baseline, Options{})
	}
}

func BenchmarkRankServices1000Spans(b *testing.B) {
	ctx := bigRequest()
	baseline := BaselineFromSpans(ctx.Spans, nil)
	b.ReportAllocs()
	for b.Loop() {
		RankServices(Window{Spans: ctx.Spans}, baseline, Options{})
	}
}

// BenchmarkAnalyzeManyFailingOperations: span names carrying ids make every
// failing span its own hypothesis; ranking them must stay near-linear (16
// times the spans took about 200 times as long when ranking compared every
// pair).
func BenchmarkAnalyzeManyFailingOperations(b *testing.B) {
	for _, n := range []int{1000, 16000} {
		b.Run(fmt.Sprintf("%d", n), func(b *testing.B) {
			tb := newTraceBuilder(n)
			root := tb.add(signalstore.SpanID{}, "batch", "run", "Server", 0, time.Second)
			for i := range n {
				tb.add(root, "batch", fmt.Sprintf("GET /items/%d", i), "Internal", ms, ms, failed("not found"))
			}
			ctx := tb.context()
			b.ReportAllocs()
			for b.Loop() {
				Analyze(ctx, Baseline{}, Options{})
			}
		})
	}
}

// BenchmarkAnalyzeWideFanOut: one root with n local spans of its own service
// (handlers lasting until the end of the request) and n calls to another
// service. Each handler overlaps every call made after it started, so the
// reactive sibling rule must not compare them pair by pair (3 s for n =
// 10,000 when it did).
func BenchmarkAnalyzeWideFanOut(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("%d", n), func(b *testing.B) {
			tb := newTraceBuilder(n)
			end := time.Duration(n+1) * ms
			root := tb.add(signalstore.SpanID{}, "gateway", "GET /wide", "Server", 0, end)
			for i := range n {
				at := time.Duration(i) * ms
				tb.add(root, "gateway", "handle", "Internal", at, end-at)
				call := tb.add(root, "gateway", "GET /item", "Client", at, ms/2)
				tb.add(call, "items", "GET /item", "Server", at+ms/10, ms/4)
			}
			ctx := tb.context()
			b.ReportAllocs()
			for b.Loop() {
				Analyze(ctx, Baseline{}, Options{})
			}
		})
	}
}

// BenchmarkAnalyzeSlowCallChain: a chain of n slow client calls of one
// service, each the parent of the next (a recursive client, or a proxy
// chain). Asking, for each slow call, whether a slow call of another service
// lies below it must not walk the call's subtree each time (n = 8,000 took
// 1.2–1.7 s when it did).
func BenchmarkAnalyzeSlowCallChain(b *testing.B) {
	for _, n := range []int{1000, 8000} {
		b.Run(fmt.Sprintf("%d", n), func(b *testing.B) {
			tb := newTraceBuilder(n)
			parent := signalstore.SpanID{}
			for i := range n {
				at := time.Duration(i) * ms
				parent = tb.add(parent, "proxy", "forward", "Client", at, time.Duration(2*n-2*i)*ms, attr("peer.service", "proxy"))
			}
			baseline := Baseline{Operations: map[OperationKey]OperationStats{
				{"proxy", "forward"}: {Count: 100, P50: ms / 2, P95: ms, P99: ms},
			}}
			ctx := tb.context()
			b.ReportAllocs()
			for b.Loop() {
				Analyze(ctx, baseline, Options{})
			}
		})
	}
}
