package rca

import (
	"maps"
	"slices"

	"github.com/ollystack/ollystack/pkg/analysis/logpattern"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

// templateCounts counts logs per service and baseline template. Templates
// are keyed by text, not id: the miner gives templates of one shape the same
// id, and those are the ones a changed code path tells apart. Lines matching
// no template count under "". Services without baseline templates are left
// out.
func templateCounts(templates *logpattern.Keyed, logs []signalstore.LogRecord) map[string]map[string]float64 {
	out := make(map[string]map[string]float64)
	for i := range logs {
		l := &logs[i]
		if templates.Miner(l.ServiceName) == nil {
			continue
		}
		text := ""
		if m, ok := templates.Match(l.ServiceName, l.Body); ok {
			text = m.Template
		}
		getOrNew(out, l.ServiceName, func() map[string]float64 { return make(map[string]float64) })[text]++
	}
	return out
}

// templateShift is the share of the observed lines by which their mix of
// templates departs from the base mix beyond chance. Each template T
// (including "", lines matching no template) is expected
// to take the same share of the W observed lines as of the B base lines,
//
//	E_T = W · b_T / B
//
// and contributes |O_T − E_T| beyond chance (beyondChance with k = b_T,
// N = B): fewer lines than expected, a code path no longer taken, counts as
// much as more or new ones. Comparing shares rather than rates keeps a change
// of traffic from counting.
func templateShift(base, observed map[string]float64) float64 {
	// Counts are whole numbers, so these sums are exact in any order.
	total, window := 0.0, 0.0
	for _, n := range base {
		total += n
	}
	for _, n := range observed {
		window += n
	}
	if total == 0 || window == 0 {
		return 0
	}
	union := maps.Clone(base)
	for text := range observed {
		union[text] += 0
	}
	texts := slices.Sorted(maps.Keys(union))
	shift := 0.0
	for _, text := range texts {
		b, o := base[text], observed[text]
		e := window * b / total
		shift += beyondChance(max(o, 2*e-o), e, window, b, total)
	}
	return shift / window
}

// baseTemplateCounts returns the lines each template of service absorbed
// while the baseline was mined.
func baseTemplateCounts(templates *logpattern.Keyed, service string) map[string]float64 {
	out := make(map[string]float64)
	if m := templates.Miner(service); m != nil {
		for _, t := range m.Templates() {
			out[t.Template] += float64(t.Count)
		}
	}
	return out
}

// logShifts fills LogShift: the templateShift of each service's window logs
// against its baseline templates.
func (a *analysis) logShifts(logs []signalstore.LogRecord, get func(string) *ServiceScore) {
	if a.baseline.Templates == nil || len(logs) == 0 {
		return
	}
	for svc, counts := range templateCounts(a.baseline.Templates, logs) {
		shift := templateShift(baseTemplateCounts(a.baseline.Templates, svc), counts)
		get(svc).LogShift = shift
	}
}
