package rca

import (
	"testing"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

func TestErrorOriginDeepestOfChain(t *testing.T) {
	// a → b → c → d, errors in a, b and c (propagated from c); d is fine.
	b := newTraceBuilder(0)
	a := b.add(signalstore.SpanID{}, "gateway", "GET /", "Server", 0, 100*ms, failed("502"))
	bb := b.add(a, "orders", "list", "Server", 5*ms, 90*ms, failed("upstream failed"))
	c := b.add(bb, "catalog", "lookup", "Server", 10*ms, 70*ms, failed("invalid sku"))
	b.add(c, "catalog", "cache get", "Internal", 12*ms, 5*ms)
	b.log(c, "catalog", "ERROR", 70*ms, "invalid sku 'x-1' in request")
	b.log(bb, "orders", "ERROR", 85*ms, "catalog call failed")
	res := Analyze(b.context(), Baseline{}, Options{})
	var origins []Hypothesis
	for _, h := range res.Hypotheses {
		if h.Kind == KindErrorOrigin {
			origins = append(origins, h)
		}
	}
	if len(origins) != 1 || origins[0].Service != "catalog" || origins[0].SpanID != c {
		t.Fatalf("origins = %+v", origins)
	}
	var logs, propagated int
	for _, ev := range origins[0].Evidence {
		if ev.Signal == SignalLog {
			logs++
			if ev.SpanID != c {
				t.Errorf("log of another span attached: %+v", ev)
			}
		}
		if ev.Reason == "error ancestors this origin explains" {
			propagated = int(ev.Actual)
		}
	}
	if logs != 1 || propagated != 2 {
		t.Errorf("logs=%d propagated=%d", logs, propagated)
	}
	if res.Hypotheses[0].Kind != KindErrorOrigin || res.Hypotheses[0].Service != "catalog" {
		t.Errorf("top = %s %s", res.Hypotheses[0].Kind, res.Hypotheses[0].Service)
	}
}

func TestErrorOriginSiblingsAreSeparate(t *testing.T) {
	b := newTraceBuilder(0)
	a := b.add(signalstore.SpanID{}, "gateway", "GET /", "Server", 0, 100*ms, failed("502"))
	b.add(a, "x", "one", "Server", 5*ms, 10*ms, failed("boom"))
	b.add(a, "y", "two", "Server", 20*ms, 10*ms, failed("bang"))
	res := Analyze(b.context(), Baseline{}, Options{})
	if rankOf(res.Hypotheses, KindErrorOrigin, "x") == 0 || rankOf(res.Hypotheses, KindErrorOrigin, "y") == 0 ||
		rankOf(res.Hypotheses, KindErrorOrigin, "gateway") != 0 {
		t.Fatalf("hypotheses:\n%s", describe(res))
	}
}

func TestErrorOriginDiscountedByBaselineErrorRate(t *testing.T) {
	mk := func() *traceBuilder {
		b := newTraceBuilder(0)
		a := b.add(signalstore.SpanID{}, "gateway", "GET /", "Server", 0, 100*ms)
		b.add(a, "flaky", "op", "Server", 5*ms, 10*ms, failed("boom"))
		return b
	}
	healthy := Analyze(mk().context(), Baseline{}, Options{})
	flaky := Baseline{Operations: map[OperationKey]OperationStats{{"flaky", "op"}: {
		Count: 100, Errors: 50, P50: 10 * ms, P99: 12 * ms, SelfP50: 10 * ms, SelfP99: 12 * ms,
	}}}
	discounted := Analyze(mk().context(), flaky, Options{})
	conf := func(res Result) float64 {
		return res.Hypotheses[rankOf(res.Hypotheses, KindErrorOrigin, "flaky")-1].Confidence
	}
	if !(conf(discounted) < conf(healthy)) {
		t.Fatalf("confidence %v not below %v", conf(discounted), conf(healthy))
	}
}

func TestDependencyFailureUninstrumentedCallee(t *testing.T) {
	b := newTraceBuilder(0)
	a := b.add(signalstore.SpanID{}, "api", "GET /", "Server", 0, 100*ms, failed("500"))
	b.add(a, "api", "GET redis", "Client", 5*ms, 10*ms, failed("connection refused"), attr("db.system", "redis"))
	res := Analyze(b.context(), Baseline{}, Options{})
	if res.Hypotheses[0].Kind != KindDependencyFailure || res.Hypotheses[0].Service != "redis" {
		t.Fatalf("hypotheses:\n%s", describe(res))
	}
}
