package rca

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

func TestRankServicesPoolExhaustedWindow(t *testing.T) {
	baseline := shopBaseline()
	var w Window
	for n := range 40 {
		fault := shopFault{}
		if n%2 == 0 {
			fault.poolExhausted = true
		}
		w.Spans = append(w.Spans, shopTrace(500+n, fault).spans...)
	}
	scores := RankServices(w, baseline, Options{})
	if scores[0].Service != "payment" || scores[0].OriginErrors != 20 {
		t.Fatalf("scores = %+v", scores)
	}
	for _, sc := range scores[1:] {
		if sc.OriginErrors != 0 {
			t.Errorf("%s has origin errors %d", sc.Service, sc.OriginErrors)
		}
	}
}

func TestRankServicesSlowWindow(t *testing.T) {
	baseline := shopBaseline()
	var w Window
	for n := range 20 {
		w.Spans = append(w.Spans, shopTrace(700+n, shopFault{slowShipping: 300 * ms}).spans...)
	}
	scores := RankServices(w, baseline, Options{})
	if scores[0].Service != "shipping" || scores[0].Score < 0.5 {
		t.Fatalf("scores = %+v", scores)
	}
}

func TestRankServicesEdgesOnly(t *testing.T) {
	// Edge error rates: frontend → api fails 30%, api → db fails 30%, so the
	// api only passes db's errors on.
	edges := []signalstore.ServiceEdge{
		{Caller: "frontend", Callee: "api", RequestCount: 1000, ErrorCount: 300},
		{Caller: "api", Callee: "db", RequestCount: 1000, ErrorCount: 300},
		{Caller: "api", Callee: "cache", RequestCount: 1000, ErrorCount: 0},
	}
	scores := RankServices(Window{Edges: edges}, Baseline{}, Options{})
	if scores[0].Service != "db" || scores[0].Score != 1 {
		t.Fatalf("scores = %+v", scores)
	}
	if scores[1].Score != 0 {
		t.Errorf("second = %+v", scores[1])
	}
}

// meshTrace builds frontend → checkout → {inventory, payment}, every call a
// client span with the server span below it. delay adds network time to the
// calls into and out of one service (a delayed interface); slow adds self
// time to one service's handler.
func meshTrace(n int, delayed string, delay time.Duration, slow string, extra time.Duration) *traceBuilder {
	b := newTraceBuilder(n)
	j := time.Duration(n%5) * ms / 4
	// call adds a client span of caller and the callee's server span with
	// work of its own; it returns the client span's end.
	var call func(parent signalstore.SpanID, caller, callee string, at time.Duration, work time.Duration, below func(srv signalstore.SpanID, at time.Duration) time.Duration) time.Duration
	call = func(parent signalstore.SpanID, caller, callee string, at time.Duration, work time.Duration, below func(signalstore.SpanID, time.Duration) time.Duration) time.Duration {
		net := ms / 2
		if caller == delayed || callee == delayed {
			net += delay
		}
		if callee == slow {
			work += extra
		}
		client := b.add(parent, caller, "call "+callee, "Client", at, 0, attr("peer.service", callee))
		srv := b.add(client, callee, "handle", "Server", at+net, 0)
		end := at + net + work + j
		if below != nil {
			end = below(srv, end)
		}
		b.finish(srv, end, "")
		b.finish(client, end+net, "")
		return end + net
	}
	root := b.add(signalstore.SpanID{}, "frontend", "GET /", "Server", 0, 0)
	end := call(root, "frontend", "checkout", ms, 2*ms, func(srv signalstore.SpanID, at time.Duration) time.Duration {
		at = call(srv, "checkout", "inventory", at, 3*ms, nil)
		return call(srv, "checkout", "payment", at, 4*ms, nil)
	})
	b.finish(root, end+ms, "")
	return b
}

func meshWindow(from, count int, delayed string, delay time.Duration, slow string, extra time.Duration) Window {
	var w Window
	for n := from; n < from+count; n++ {
		w.Spans = append(w.Spans, meshTrace(n, delayed, delay, slow, extra).spans...)
	}
	return w
}

func meshBaseline() Baseline {
	return BaselineFromSpans(meshWindow(0, 60, "", 0, "", 0).Spans, nil)
}

func TestRankServicesNetworkDelayGoesToTheDelayedService(t *testing.T) {
	// payment's interface is delayed: checkout's client span to it waits
	// 40ms longer, payment's own spans are unchanged. The wait is not
	// checkout's own time; payment is the service common to the slow calls.
	scores := RankServices(meshWindow(100, 30, "payment", 40*ms, "", 0), meshBaseline(), Options{})
	if scores[0].Service != "payment" || scores[0].Score < 0.5 {
		t.Fatalf("scores = %+v", scores)
	}
	for _, sc := range scores[1:] {
		if sc.OwnExcess != 0 {
			t.Errorf("%s has own excess %v", sc.Service, sc.OwnExcess)
		}
	}
}

func TestRankServicesDelayedCallerTakesItsCalls(t *testing.T) {
	// checkout's interface is delayed: its call from frontend and both of
	// its calls out are slow, so it takes them, not inventory or payment.
	scores := RankServices(meshWindow(100, 30, "checkout", 40*ms, "", 0), meshBaseline(), Options{})
	if scores[0].Service != "checkout" {
		t.Fatalf("scores = %+v", scores)
	}
}

func TestRankServicesSlowHandlerIsNotAnEdge(t *testing.T) {
	scores := RankServices(meshWindow(100, 30, "", 0, "inventory", 30*ms), meshBaseline(), Options{})
	if scores[0].Service != "inventory" || scores[0].OwnExcess == 0 {
		t.Fatalf("scores = %+v", scores)
	}
}

func TestRankServicesReactiveHandlerSibling(t *testing.T) {
	// A reactive gateway records its handler as a sibling of the outgoing
	// call, both lasting the whole exchange: the handler's self time is the
	// wait for the backend, not gateway work.
	trace := func(n int, backendWork time.Duration) []signalstore.Span {
		b := newTraceBuilder(n)
		j := time.Duration(n%5) * ms / 4
		end := 2*ms + backendWork + j
		root := b.add(signalstore.SpanID{}, "gateway", "/*", "Server", 0, end+ms)
		b.add(root, "gateway", "FilteringWebHandler.handle", "Internal", 0, end+ms)
		call := b.add(root, "gateway", "HTTP POST", "Client", ms/2, end)
		b.add(call, "backend", "POST /order", "Server", ms, end-ms)
		return b.spans
	}
	var healthy, window []signalstore.Span
	for n := range 60 {
		healthy = append(healthy, trace(n, 10*ms)...)
	}
	for n := 100; n < 130; n++ {
		window = append(window, trace(n, 60*ms)...)
	}
	scores := RankServices(Window{Spans: window}, BaselineFromSpans(healthy, nil), Options{})
	if scores[0].Service != "backend" || scores[0].Score < 0.99 {
		t.Fatalf("scores = %+v", scores)
	}
}

func TestRankServicesLogShift(t *testing.T) {
	// search stops logging its "result" line (an exception now skips that
	// code path) while it keeps serving; cart logs as usual.
	logs := func(from, count int, skipResult bool) []signalstore.LogRecord {
		var out []signalstore.LogRecord
		for n := from; n < from+count; n++ {
			b := newTraceBuilder(n)
			b.log(signalstore.SpanID{1}, "search", "INFO", 0, fmt.Sprintf("query received id=%d terms=%d", n, n%7))
			if !skipResult {
				b.log(signalstore.SpanID{1}, "search", "INFO", ms, fmt.Sprintf("query answered id=%d hits=%d", n, n%13))
			}
			b.log(signalstore.SpanID{2}, "cart", "INFO", ms, fmt.Sprintf("cart loaded user=%d items=%d", n, n%4))
			out = append(out, b.logs...)
		}
		return out
	}
	baseline := BaselineFromSpans(nil, logs(0, 200, false))
	scores := RankServices(Window{Logs: logs(500, 60, true)}, baseline, Options{})
	if scores[0].Service != "search" || scores[0].LogShift < 0.3 || scores[0].Score != 1 {
		t.Fatalf("scores = %+v", scores)
	}
	if scores[1].LogShift != 0 {
		t.Errorf("cart = %+v", scores[1])
	}
	healthy := RankServices(Window{Logs: logs(500, 60, false)}, baseline, Options{})
	for _, sc := range healthy {
		if sc.LogShift != 0 {
			t.Errorf("healthy window: %+v", sc)
		}
	}
}

func TestBeyondChance(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		observed, expected, n    float64
		k, N                     float64
		wantZero, wantAllOfExtra bool
	}{
		{name: "no baseline counts as is", observed: 5, n: 10, wantAllOfExtra: true},
		{name: "a few errors of a small service", observed: 2, expected: 0.6, n: 30, k: 1, N: 50, wantZero: true},
		{name: "a burst", observed: 60, expected: 0.6, n: 300, k: 1, N: 500},
	} {
		got := beyondChance(tc.observed, tc.expected, tc.n, tc.k, tc.N)
		switch {
		case tc.wantZero && got != 0:
			t.Errorf("%s: %v, want 0", tc.name, got)
		case tc.wantAllOfExtra && got != tc.observed-tc.expected:
			t.Errorf("%s: %v, want %v", tc.name, got, tc.observed-tc.expected)
		case !tc.wantZero && got <= 0:
			t.Errorf("%s: %v, want > 0", tc.name, got)
		}
	}
}

func TestRankServicesDeterministic(t *testing.T) {
	baseline := shopBaseline()
	var w Window
	for n := range 30 {
		w.Spans = append(w.Spans, shopTrace(800+n, shopFault{poolExhausted: n%3 == 0, slowShipping: time.Duration(n%4) * 40 * ms}).spans...)
		w.Logs = append(w.Logs, shopTrace(800+n, shopFault{poolExhausted: n%3 == 0}).logs...)
	}
	first := RankServices(w, baseline, Options{})
	for range 20 {
		if again := RankServices(w, baseline, Options{}); !reflect.DeepEqual(first, again) {
			t.Fatalf("differs:\n%+v\n%+v", first, again)
		}
	}
}

// TestRankServicesHugeDurationsDoNotWrap: spans whose start time an SDK left
// at 0 last about 56 years each; a handful of them summed past the range of
// a Duration and wrapped to a negative excess, which made every score 0.
func TestRankServicesHugeDurationsDoNotWrap(t *testing.T) {
	var w Window
	for n := range 20 {
		w.Spans = append(w.Spans, shopTrace(700+n, shopFault{slowShipping: 300 * ms}).spans...)
	}
	for n := range 8 {
		b := shopTrace(900+n, shopFault{})
		for i := range b.spans {
			if s := &b.spans[i]; s.ServiceName == "inventory" && s.SpanName == "GET /stock" {
				end := s.Timestamp.Add(s.Duration)
				s.Timestamp = time.Unix(0, 0)
				s.Duration = end.Sub(s.Timestamp)
			}
		}
		w.Spans = append(w.Spans, b.spans...)
	}
	total := 0.0
	for _, sc := range RankServices(w, shopBaseline(), Options{}) {
		if sc.OwnExcess < 0 || sc.EdgeExcess < 0 {
			t.Errorf("%s: negative excess %v / %v", sc.Service, sc.OwnExcess, sc.EdgeExcess)
		}
		if sc.Service == "shipping" && !(sc.Score > 0) {
			t.Errorf("shipping, 300ms slower in every trace, scored %v", sc.Score)
		}
		total += sc.Score
	}
	if math.Abs(total-1) > 1e-9 {
		t.Errorf("scores sum to %v, want 1", total)
	}
}
