package rca

import (
	"math"
	"testing"
)

func TestConfidenceBounds(t *testing.T) {
	evs := func(ws ...float64) []Evidence {
		out := make([]Evidence, len(ws))
		for i, w := range ws {
			out[i].Weight = w
		}
		return out
	}
	hs := []Hypothesis{
		{Kind: KindErrorOrigin, Service: "a", Evidence: evs(1, 1, 1)},
		{Kind: KindResourceSaturation, Service: "a", Evidence: evs(0.9, 0.9)},
		{Kind: KindLatencyOutlier, Service: "b", Evidence: evs(math.NaN(), -3, 7)},
		{Kind: KindVersionChange, Service: "c", Evidence: evs()},
		{Kind: KindNewLogPattern, Service: "d", Evidence: evs(math.Inf(1), math.Inf(-1))},
	}
	for _, h := range rank(hs, Options{}.withDefaults()) {
		if !(h.Confidence >= 0 && h.Confidence <= MaxConfidence) {
			t.Errorf("%s/%s confidence %v out of [0, %v]", h.Kind, h.Service, h.Confidence, MaxConfidence)
		}
	}
}

func TestConfidenceFormula(t *testing.T) {
	hs := []Hypothesis{
		{Kind: KindErrorOrigin, Service: "a", Evidence: []Evidence{{Weight: 0.5}, {Weight: 0.2}}},
		{Kind: KindResourceSaturation, Service: "a", Evidence: []Evidence{{Weight: 0.4}}},
		{Kind: KindLatencyOutlier, Service: "b", Evidence: []Evidence{{Weight: 0.4}}},
	}
	got := rank(hs, Options{}.withDefaults())
	own := 1 - 0.5*0.8 // 0.6
	want := 1 - (1-own)*(1-Corroboration*0.4)
	if math.Abs(got[0].Confidence-want) > 1e-12 || got[0].Kind != KindErrorOrigin {
		t.Errorf("error origin confidence %v, want %v", got[0].Confidence, want)
	}
	wantSat := 1 - (1-0.4)*(1-Corroboration*own)
	if math.Abs(got[1].Confidence-wantSat) > 1e-12 {
		t.Errorf("saturation confidence %v, want %v", got[1].Confidence, wantSat)
	}
	if math.Abs(got[2].Confidence-0.4) > 1e-12 {
		t.Errorf("uncorroborated confidence %v, want 0.4", got[2].Confidence)
	}
}

func TestMoreEvidenceNeverLowersConfidence(t *testing.T) {
	base := []Evidence{{Weight: 0.3}}
	for _, extra := range []float64{0, 0.01, 0.5, 1} {
		a := combine(base)
		b := combine(append(base[:1:1], Evidence{Weight: extra}))
		if b < a {
			t.Errorf("adding weight %v lowered %v to %v", extra, a, b)
		}
	}
}
