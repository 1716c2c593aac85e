package rca

import (
	"testing"

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
