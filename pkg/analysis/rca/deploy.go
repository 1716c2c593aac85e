package rca

import "time"

// symptomKinds are the kinds of hypothesis that a version change of the same
// service can explain: what a bad release shows, not a cause of its own.
// Saturation is left out: a resource at its limit stays a cause in its own
// right even when a release coincides with it.
var symptomKinds = map[Kind]bool{
	KindErrorOrigin:       true,
	KindLatencyOutlier:    true,
	KindNewLogPattern:     true,
	KindDependencyFailure: true,
}

// Reasons of the evidence item a version change takes over from the symptom
// it explains.
const (
	reasonSymptomInNewVersion = "symptom of this service in the new version"
	reasonSymptomAfterDeploy  = "symptom of this service beginning after the deployment event"
)

// symptomLink ties a version_change hypothesis to a symptom of its service.
type symptomLink struct {
	symptom int // index in the hypotheses
	reason  string
}

// linkSymptoms returns, per index of a version_change hypothesis in hs, the
// symptoms of the same service that began after the change:
//
//   - in the new version: one of the symptom's evidence items is a span or
//     log of the service carrying a service.version the baseline never saw
//     (for a failed or slow call into the service, the service's span below
//     the call), so the release was running when the symptom occurred;
//   - after a deployment event: the symptom's earliest evidence is at or
//     after the service's earliest deployment event, and at most
//     Options.DeployWindow later.
//
// Either suffices. A symptom not seen in a new version that began before the
// deployment event, more than DeployWindow after it, or with no deployment
// event at all is not linked: the change cannot be shown to precede it.
func (a *analysis) linkSymptoms(hs []Hypothesis) map[int][]symptomLink {
	links := make(map[int][]symptomLink)
	for v := range hs {
		if hs[v].Kind != KindVersionChange {
			continue
		}
		change := a.changes[hs[v].Service]
		if change == nil {
			continue
		}
		for s := range hs {
			h := &hs[s]
			if h.Service != hs[v].Service || !symptomKinds[h.Kind] {
				continue
			}
			switch {
			case a.inNewVersion(h, change):
				links[v] = append(links[v], symptomLink{s, reasonSymptomInNewVersion})
			case a.afterDeploy(h, change):
				links[v] = append(links[v], symptomLink{s, reasonSymptomAfterDeploy})
			}
		}
	}
	return links
}

// inNewVersion reports whether an evidence item of h was produced by h's
// service running one of its new versions.
func (a *analysis) inNewVersion(h *Hypothesis, change *serviceChange) bool {
	if len(change.newVersions) == 0 {
		return false
	}
	runsNew := func(service string, resource map[string]string) bool {
		return service == h.Service && change.newVersions[resource[serviceVersionKey]]
	}
	for _, ev := range h.Evidence {
		switch ev.Signal {
		case SignalSpan:
			n := a.tree.byKey[spanKey{ev.TraceID, ev.SpanID}]
			if n == nil {
				continue
			}
			if n.span.ServiceName == h.Service {
				if runsNew(n.span.ServiceName, n.span.ResourceAttributes) {
					return true
				}
				continue
			}
			// A call into the service from another: the callee's side of it.
			for _, c := range n.children {
				if runsNew(c.span.ServiceName, c.span.ResourceAttributes) {
					return true
				}
			}
		case SignalLog:
			if ev.Index >= 0 && ev.Index < len(a.ctx.Logs) {
				l := &a.ctx.Logs[ev.Index]
				if runsNew(l.ServiceName, l.ResourceAttributes) {
					return true
				}
			}
		}
	}
	return false
}

// afterDeploy reports whether h's earliest evidence lies within DeployWindow
// after the service's first deployment event.
func (a *analysis) afterDeploy(h *Hypothesis, change *serviceChange) bool {
	if change.deployAt.IsZero() {
		return false
	}
	var first time.Time
	for _, ev := range h.Evidence {
		if !ev.Time.IsZero() && (first.IsZero() || ev.Time.Before(first)) {
			first = ev.Time
		}
	}
	if first.IsZero() || first.Before(change.deployAt) {
		return false
	}
	return first.Sub(change.deployAt) <= a.opts.DeployWindow
}

// explanationEvidence is the item a version change takes over from the
// strongest symptom it explains: that symptom's strongest evidence, with the
// symptom's own confidence as weight, and the symptom's kind after the
// reason.
func explanationEvidence(symptom Hypothesis, own float64, reason string) Evidence {
	ev := symptom.Evidence[0]
	ev.Reason = reason + ": " + string(symptom.Kind)
	ev.Weight = clamp01(own)
	return ev
}
