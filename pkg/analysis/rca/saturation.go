package rca

import (
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Evidence weights of the resource-saturation analyzer.
const (
	weightSaturatedBase  = 0.3 // utilisation at the threshold
	weightSaturatedRange = 0.5 // added linearly up to utilisation 1
	weightWaiting        = 0.2 // requests waiting on a resource with a saturated peer metric
)

// Generic metric-name matching. A metric is about a bounded resource when
// its lower-cased name contains one of resourceWords. Its utilisation is read
// in one of two ways:
//   - a ratio metric: the name contains a ratioWords entry or the unit is
//     "1" or "%" (values in percent when the unit is "%" or the name says
//     percent), e.g. system.cpu.utilization, jvm.memory.used_ratio;
//   - a usage/limit pair: two gauges of one service sharing a name prefix,
//     the last dot- or underscore-separated word of one in usageWords and of
//     the other in limitWords, with the same attributes apart from "state",
//     e.g. db.client.connections.usage{state=used} / db.client.connections.max
//     or hikaricp_connections_active / hikaricp_connections_max.
//
// A metric whose name also contains waitWords (pending_requests, waiting)
// and is above zero is counted as queueing evidence for the same resource
// when a saturated metric of the same service exists.
var (
	resourceWords = []string{"pool", "connection", "conn", "thread", "worker", "cpu", "memory", "heap", "disk", "filesystem", "file_descriptor", "fd", "queue", "socket", "semaphore"}
	ratioWords    = []string{"utilization", "utilisation", "ratio", "percent", "pct", "saturation"}
	usageWords    = []string{"usage", "used", "active", "in_use", "inuse", "count", "current", "busy"}
	limitWords    = []string{"max", "limit", "capacity", "size_max", "maximum", "total"}
	waitWords     = []string{"pending", "waiting", "wait_count", "queued"}
)

type saturated struct {
	index       int // into Context.Metrics
	utilisation float64
	name        string
}

// saturations reports bounded resources at or above the threshold, the most
// utilised point per (service, metric) as the evidence.
func (a *analysis) saturations() []Hypothesis {
	points := a.ctx.Metrics
	best := make(map[OperationKey]saturated)
	var keys []OperationKey
	note := func(i int, u float64) {
		// Also rejects NaN; an infinite ratio (a limit near 0, a value
		// overflowing) is no measurement and could not be encoded as JSON.
		if !(u >= a.opts.SaturationThreshold) || math.IsInf(u, 1) {
			return
		}
		p := &points[i]
		k := OperationKey{p.ServiceName, p.MetricName}
		cur, ok := best[k]
		if !ok {
			keys = append(keys, k)
		}
		if !ok || u > cur.utilisation {
			best[k] = saturated{index: i, utilisation: u, name: p.MetricName}
		}
	}
	limits := make(map[string][]int) // service + prefix → limit points
	for i := range points {
		p := &points[i]
		name := strings.ToLower(p.MetricName)
		if !isGaugeLike(p) || !containsAny(name, resourceWords) {
			continue
		}
		if u, ok := ratioOf(p, name); ok {
			note(i, u)
			continue
		}
		if prefix, last := splitLast(name); slices.Contains(limitWords, last) {
			limits[p.ServiceName+"\x00"+prefix] = append(limits[p.ServiceName+"\x00"+prefix], i)
		}
	}
	for i := range points {
		p := &points[i]
		name := strings.ToLower(p.MetricName)
		prefix, last := splitLast(name)
		if !isGaugeLike(p) || !slices.Contains(usageWords, last) || !containsAny(name, resourceWords) {
			continue
		}
		if st := p.Attributes["state"]; st != "" && st != "used" && st != "active" && st != "in_use" && st != "busy" {
			continue
		}
		for _, j := range limits[p.ServiceName+"\x00"+prefix] {
			limit := points[j].Value
			if limit > 0 && sameAttributesBut(p.Attributes, points[j].Attributes, "state") {
				note(i, p.Value/limit)
				break
			}
		}
	}
	groups := newGrouper()
	for _, k := range keys {
		s := best[k]
		p := &points[s.index]
		h := groups.get(KindResourceSaturation, k.Service, k.Operation, a.spanOfService(p))
		w := weightSaturatedBase + weightSaturatedRange*min(1, (s.utilisation-a.opts.SaturationThreshold)/(1-a.opts.SaturationThreshold))
		h.Evidence = append(h.Evidence, Evidence{
			Signal: SignalMetric, Index: s.index, Time: p.TimeUnix, Reason: "resource utilisation at or near its limit",
			Name: p.MetricName, Actual: s.utilisation, Expected: a.opts.SaturationThreshold, Unit: "ratio", Weight: clamp01(w),
		})
	}
	hs := groups.list()
	for i := range hs {
		a.addWaiting(&hs[i])
	}
	return hs
}

// addWaiting adds queueing metrics of the same service as evidence.
func (a *analysis) addWaiting(h *Hypothesis) {
	for i := range a.ctx.Metrics {
		p := &a.ctx.Metrics[i]
		name := strings.ToLower(p.MetricName)
		if p.ServiceName != h.Service || !isGaugeLike(p) || !(p.Value > 0) || math.IsInf(p.Value, 1) || !containsAny(name, waitWords) || !containsAny(name, resourceWords) {
			continue
		}
		h.Evidence = append(h.Evidence, Evidence{
			Signal: SignalMetric, Index: i, Time: p.TimeUnix, Reason: "requests waiting for the resource",
			Name: p.MetricName, Actual: p.Value, Unit: "count", Weight: weightWaiting,
		})
		return
	}
}

// spanOfService picks the span a saturation hypothesis points at: an
// exemplar's span when present in the request, else the service's first
// error span, else its first span.
func (a *analysis) spanOfService(p *signalstore.MetricPoint) *node {
	for _, e := range p.Exemplars {
		if n := a.tree.byKey[spanKey{e.TraceID, e.SpanID}]; n != nil {
			return n
		}
	}
	var first *node
	for _, n := range a.tree.nodes {
		if n.span.ServiceName != p.ServiceName {
			continue
		}
		if n.span.IsError() {
			return n
		}
		if first == nil {
			first = n
		}
	}
	return first
}

func isGaugeLike(p *signalstore.MetricPoint) bool {
	return p.MetricType == signalstore.MetricTypeGauge || p.MetricType == signalstore.MetricTypeSum && !p.IsMonotonic
}

// ratioOf reads a utilisation from a ratio metric.
func ratioOf(p *signalstore.MetricPoint, lowerName string) (float64, bool) {
	percent := p.MetricUnit == "%" || strings.Contains(lowerName, "percent") || strings.Contains(lowerName, "pct")
	if !percent && p.MetricUnit != "1" && !containsAny(lowerName, ratioWords) {
		return 0, false
	}
	if percent {
		return p.Value / 100, true
	}
	return p.Value, true
}

// splitLast splits a metric name at its last '.' or '_'.
func splitLast(name string) (prefix, last string) {
	i := strings.LastIndexAny(name, "._")
	if i < 0 {
		return "", name
	}
	return name[:i], name[i+1:]
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func sameAttributesBut(a, b map[string]string, ignored string) bool {
	ka := slices.DeleteFunc(slices.Collect(maps.Keys(a)), func(k string) bool { return k == ignored })
	kb := slices.DeleteFunc(slices.Collect(maps.Keys(b)), func(k string) bool { return k == ignored })
	if len(ka) != len(kb) {
		return false
	}
	for _, k := range ka {
		if v, ok := b[k]; !ok || v != a[k] {
			return false
		}
	}
	return true
}
