package rca

import (
	"strings"
	"time"
)

// Evidence weights of the version-change analyzer.
const (
	weightNewVersion  = 0.45 // service.version not among the baseline's versions
	weightDeployEvent = 0.3  // a deployment event in the request's spans or logs
)

// versionChanges reports services running a service.version the baseline
// never saw, and deployment events (span events or log event names
// containing "deploy", e.g. "deployment", "deploy.finished") emitted by a
// service of the request. A service absent from the baseline's versions is
// skipped: a new service is not a version change. What it finds per service
// is kept in a.changes for linkSymptoms.
func (a *analysis) versionChanges() []Hypothesis {
	groups := newGrouper()
	a.changes = make(map[string]*serviceChange)
	reported := make(map[[2]string]bool)
	for _, n := range a.tree.nodes {
		s := n.span
		if v, ok := s.ResourceAttributes[serviceVersionKey]; ok && !reported[[2]string{s.ServiceName, v}] {
			if known, has := a.baseline.KnownVersion(s.ServiceName, v); has && !known {
				reported[[2]string{s.ServiceName, v}] = true
				a.change(s.ServiceName).newVersions[v] = true
				ev := spanEvidence(n, "service.version unseen in the baseline", weightNewVersion)
				ev.Name, ev.Text = serviceVersionKey, quote(v)
				ev.Actual, ev.Expected, ev.Unit = 1, 0, "new_version"
				h := groups.get(KindVersionChange, s.ServiceName, "", n)
				h.Evidence = append(h.Evidence, ev)
			}
		}
		for _, e := range s.Events {
			if isDeployEvent(e.Name) {
				ev := spanEvidence(n, "deployment event", weightDeployEvent)
				ev.Name, ev.Time, ev.Text = e.Name, e.Timestamp, quote(e.Attributes[serviceVersionKey])
				a.change(s.ServiceName).deployed(e.Timestamp)
				h := groups.get(KindVersionChange, s.ServiceName, "", n)
				h.Evidence = append(h.Evidence, ev)
			}
		}
	}
	for i := range a.ctx.Logs {
		l := &a.ctx.Logs[i]
		name := l.EventName
		if name == "" {
			name = l.LogAttributes["event.name"]
		}
		if v, ok := l.ResourceAttributes[serviceVersionKey]; ok && !reported[[2]string{l.ServiceName, v}] {
			if known, has := a.baseline.KnownVersion(l.ServiceName, v); has && !known {
				reported[[2]string{l.ServiceName, v}] = true
				a.change(l.ServiceName).newVersions[v] = true
				ev := logEvidence(a.ctx.Logs, i, "service.version unseen in the baseline", serviceVersionKey, weightNewVersion)
				ev.Text, ev.Actual, ev.Unit = quote(v), 1, "new_version"
				h := groups.get(KindVersionChange, l.ServiceName, "", nil)
				h.Evidence = append(h.Evidence, ev)
			}
		}
		if isDeployEvent(name) {
			ev := logEvidence(a.ctx.Logs, i, "deployment event", name, weightDeployEvent)
			a.change(l.ServiceName).deployed(l.Timestamp)
			h := groups.get(KindVersionChange, l.ServiceName, "", nil)
			h.Evidence = append(h.Evidence, ev)
		}
	}
	return groups.list()
}

// serviceChange is what versionChanges found for one service: versions the
// baseline never saw and the earliest deployment event.
type serviceChange struct {
	newVersions map[string]bool
	deployAt    time.Time // zero when there was no deployment event
}

func (a *analysis) change(service string) *serviceChange {
	c := a.changes[service]
	if c == nil {
		c = &serviceChange{newVersions: make(map[string]bool)}
		a.changes[service] = c
	}
	return c
}

// deployed records a deployment event at t, keeping the earliest; events
// without a timestamp cannot date anything and are not kept.
func (c *serviceChange) deployed(t time.Time) {
	if !t.IsZero() && (c.deployAt.IsZero() || t.Before(c.deployAt)) {
		c.deployAt = t
	}
}

func isDeployEvent(name string) bool {
	return strings.Contains(strings.ToLower(name), "deploy")
}
