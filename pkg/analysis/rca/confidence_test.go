package rca

import (
	"fmt"
	"math"
	"math/rand/v2"
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
	for _, h := range rank(hs, nil, Options{}.withDefaults()) {
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
	got := rank(hs, nil, Options{}.withDefaults())
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

// TestVersionChangeExplainsSymptom checks the formula of a version change
// that takes in the strongest symptom of its service, and its rank.
func TestVersionChangeExplainsSymptom(t *testing.T) {
	hs := []Hypothesis{
		{Kind: KindErrorOrigin, Service: "a", SpanID: [8]byte{1}, Evidence: []Evidence{{Weight: 0.5}, {Weight: 0.2}}},
		{Kind: KindNewLogPattern, Service: "a", Evidence: []Evidence{{Weight: 0.3}}},
		{Kind: KindVersionChange, Service: "a", Evidence: []Evidence{{Weight: 0.45}}},
		{Kind: KindLatencyOutlier, Service: "b", Evidence: []Evidence{{Weight: 0.5}}},
	}
	links := map[int][]symptomLink{2: {{0, reasonSymptomInNewVersion}, {1, reasonSymptomInNewVersion}}}
	got := rank(hs, links, Options{}.withDefaults())
	ownOrigin := 1 - 0.5*0.8 // 0.6
	want := 1 - (1-0.45)*(1-ownOrigin)*(1-Corroboration*0.3)
	v := got[0]
	if v.Kind != KindVersionChange || math.Abs(v.Confidence-want) > 1e-12 {
		t.Fatalf("top = %s %.4f, want version_change %.4f", v.Kind, v.Confidence, want)
	}
	taken := v.Evidence[0]
	if taken.Reason != reasonSymptomInNewVersion+": error_origin" || math.Abs(taken.Weight-ownOrigin) > 1e-12 {
		t.Errorf("taken-in evidence = %+v", taken)
	}
	// The symptoms are corroborated by the change's own evidence only.
	wantOrigin := 1 - (1-ownOrigin)*(1-Corroboration*0.45)*(1-Corroboration*0.3)
	if o := got[rankOf(got, KindErrorOrigin, "a")-1]; math.Abs(o.Confidence-wantOrigin) > 1e-12 {
		t.Errorf("error origin %.4f, want %.4f", o.Confidence, wantOrigin)
	}
}

// TestVersionChangeNeverBelowItsSymptoms checks, over random weights, that a
// version change is never ranked below a symptom it explains, at the cap too.
func TestVersionChangeNeverBelowItsSymptoms(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	kinds := []Kind{KindErrorOrigin, KindLatencyOutlier, KindNewLogPattern, KindDependencyFailure, KindResourceSaturation}
	for range 2000 {
		hs := []Hypothesis{{Kind: KindVersionChange, Service: "a", Evidence: []Evidence{{Weight: 0.3 * rng.Float64()}}}}
		var linked []symptomLink
		for i, k := range kinds {
			evs := make([]Evidence, 1+rng.IntN(3))
			for j := range evs {
				evs[j].Weight = rng.Float64()
				if rng.IntN(10) == 0 {
					evs[j].Weight = 1
				}
			}
			hs = append(hs, Hypothesis{Kind: k, Service: "a", Evidence: evs})
			if k != KindResourceSaturation && rng.IntN(2) == 0 {
				linked = append(linked, symptomLink{i + 1, reasonSymptomInNewVersion})
			}
		}
		explained := map[Kind]bool{}
		for _, l := range linked {
			explained[hs[l.symptom].Kind] = true
		}
		got := rank(hs, map[int][]symptomLink{0: linked}, Options{}.withDefaults())
		seenVersion := false
		for _, h := range got {
			seenVersion = seenVersion || h.Kind == KindVersionChange
			if explained[h.Kind] && !seenVersion {
				t.Fatalf("%s ranked above the version change explaining it:\n%s", h.Kind, describe(Result{Hypotheses: got}))
			}
		}
	}
}

// TestRankMatchesConfidenceFormula checks rank against the formula of
// Hypothesis.Confidence evaluated directly, pair by pair, over random
// hypotheses of a few services with version changes taking in symptoms.
func TestRankMatchesConfidenceFormula(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	kinds := []Kind{KindErrorOrigin, KindLatencyOutlier, KindNewLogPattern, KindDependencyFailure, KindResourceSaturation, KindVersionChange}
	for range 500 {
		var hs []Hypothesis
		for i := range 1 + rng.IntN(12) {
			evs := make([]Evidence, 1+rng.IntN(3))
			for j := range evs {
				evs[j].Weight = rng.Float64()
			}
			hs = append(hs, Hypothesis{Kind: kinds[rng.IntN(len(kinds))], Service: []string{"a", "b"}[rng.IntN(2)],
				Operation: fmt.Sprint(i), Evidence: evs})
		}
		links := map[int][]symptomLink{}
		for v := range hs {
			for s := range hs {
				if hs[v].Kind == KindVersionChange && symptomKinds[hs[s].Kind] && hs[s].Service == hs[v].Service && rng.IntN(2) == 0 {
					links[v] = append(links[v], symptomLink{s, reasonSymptomInNewVersion})
				}
			}
		}
		own := make([]float64, len(hs))
		for i := range hs {
			own[i] = combine(hs[i].Evidence)
		}
		want := map[string]float64{}
		for i := range hs {
			m := -1
			for _, l := range links[i] {
				if m < 0 || own[l.symptom] > own[m] {
					m = l.symptom
				}
			}
			residual := 1 - own[i]
			if m >= 0 {
				residual *= 1 - own[m]
			}
			for j := range hs {
				if j != i && j != m && hs[j].Service == hs[i].Service && hs[j].Kind != hs[i].Kind {
					residual *= 1 - Corroboration*own[j]
				}
			}
			want[hs[i].Operation] = min(MaxConfidence, 1-residual)
		}
		for _, h := range rank(hs, links, Options{MaxHypotheses: len(hs)}.withDefaults()) {
			if math.Abs(h.Confidence-want[h.Operation]) > 1e-12 {
				t.Fatalf("%s %s %s: confidence %v, formula %v", h.Kind, h.Service, h.Operation, h.Confidence, want[h.Operation])
			}
		}
	}
}
