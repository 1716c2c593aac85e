package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ollystack/ollystack/pkg/analysis/rca"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Investigation states.
const (
	statusPending  = "pending"
	statusRunning  = "running"
	statusFinished = "finished"
	statusFailed   = "failed"
)

// Trigger sources.
const (
	sourceAPI          = "api"
	sourceAlertmanager = "alertmanager"
	sourceSLOAlert     = "slo_alert"
)

// investigation is one background investigation, kept as a document (kind
// investigation) at each change of state, so it survives a restart: one
// found pending or running at start is run again.
type investigation struct {
	ID         string    `json:"id"`
	Status     string    `json:"status"`
	Trigger    trigger   `json:"trigger"`
	Scope      scope     `json:"scope"`
	CreatedAt  time.Time `json:"created_at"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Attempts counts runs; more than one means it was resumed after a
	// restart.
	Attempts int    `json:"attempts"`
	Error    string `json:"error,omitempty"`

	Summary string `json:"summary,omitempty"`
	// Narrative is the narrative of the first request examined (the given
	// one, else the most recent failing one): the model's when one is
	// configured.
	Narrative      *narrative                `json:"narrative,omitempty"`
	Timeline       []timelineEntry           `json:"timeline"`
	Hypotheses     []investigationHypothesis `json:"hypotheses"`
	ServiceRanking []rca.ServiceScore        `json:"service_ranking"`
	Requests       []examinedRequest         `json:"requests"`
}

// trigger is what started the investigation.
type trigger struct {
	Source    string            `json:"source"`
	AlertName string            `json:"alert_name,omitempty"`
	Severity  string            `json:"severity,omitempty"`
	StartsAt  time.Time         `json:"starts_at,omitzero"`
	Labels    map[string]string `json:"labels,omitempty"`
	Services  []string          `json:"services,omitempty"`
}

// scope is what is examined: failing requests of Service (all services if
// empty) in [From, To), CorrelationID first when given.
type scope struct {
	Service       string    `json:"service,omitempty"`
	CorrelationID string    `json:"correlation_id,omitempty"`
	From          time.Time `json:"from"`
	To            time.Time `json:"to"`
}

// timelineEntry is one event of the incident or of the investigation.
type timelineEntry struct {
	Time time.Time `json:"time"`
	// Kind: alert, error, deploy, analysis or investigation.
	Kind          string `json:"kind"`
	Service       string `json:"service,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`
	Text          string `json:"text"`
}

// investigationHypothesis merges the hypotheses of one kind, service and
// operation over the examined requests.
type investigationHypothesis struct {
	ID        string   `json:"id"`
	Kind      rca.Kind `json:"kind"`
	Service   string   `json:"service"`
	Operation string   `json:"operation,omitempty"`
	// Confidence is the highest of the requests' hypotheses; Support is the
	// share of examined requests showing it. They are ranked by
	// Confidence × (0.5 + 0.5 × Support).
	Confidence     float64                 `json:"confidence"`
	Support        float64                 `json:"support"`
	Score          float64                 `json:"score"`
	CorrelationIDs []string                `json:"correlation_ids"`
	Evidence       []investigationEvidence `json:"evidence"`
	Runbooks       []runbookSuggestion     `json:"runbooks"`
}

// investigationEvidence is an rca evidence item with the request it was
// found in and a link to that request's correlated context.
type investigationEvidence struct {
	rca.Evidence
	CorrelationID string `json:"correlation_id"`
	Link          string `json:"link"`
}

// examinedRequest is one failing request analyzed.
type examinedRequest struct {
	CorrelationID string  `json:"correlation_id"`
	RootCause     string  `json:"root_cause"`
	Confidence    float64 `json:"confidence"`
	Link          string  `json:"link"`
}

// maxEvidencePerHypothesis bounds the merged evidence.
const maxEvidencePerHypothesis = 5

func correlateLink(id string) string { return "/api/v1/correlate/" + id }

// investigate runs the deterministic investigation of inv's scope: analyze
// the failing requests, merge their hypotheses, rank the services of the
// window, build the timeline and suggest runbooks.
func (a *api) investigate(ctx context.Context, inv *investigation) error {
	ids, err := a.failingRequests(ctx, inv.Scope)
	if err != nil {
		return err
	}
	inv.addTimeline(a.now(), "investigation", "", "", fmt.Sprintf("examining %d failing requests", len(ids)))

	merged := map[string]*investigationHypothesis{}
	var windowSpans []signalstore.Span
	var windowLogs []signalstore.LogRecord
	var baseline []signalstore.Span
	var baselineLogs []signalstore.LogRecord
	for i, id := range ids {
		resp, rs, h, err := a.analyzeSignals(ctx, id, analysisRCA)
		if errors.Is(err, errNoSignals) {
			continue // gone since listed (retention)
		}
		if err != nil {
			return err
		}
		if i == 0 && a.narrator != nil {
			a.narrator.narrate(ctx, resp, rs)
		}
		a.saveInsights(ctx, resp)
		if inv.Narrative == nil {
			n := resp.Narrative
			inv.Narrative = &n
		}
		inv.Requests = append(inv.Requests, examinedRequest{CorrelationID: id, RootCause: resp.RootCause, Confidence: resp.Confidence, Link: correlateLink(id)})
		inv.addRequestEvents(rs, resp)
		for _, hyp := range resp.Hypotheses {
			mergeHypothesis(merged, hyp.Hypothesis, id)
		}
		windowSpans, windowLogs = append(windowSpans, rs.spans...), append(windowLogs, rs.logs...)
		baseline, baselineLogs = append(baseline, h.spans...), append(baselineLogs, h.logs...)
	}

	edges, err := a.store.ServiceEdges(ctx, signalstore.TimeRange{Start: inv.Scope.From, End: inv.Scope.To})
	if err != nil {
		return fmt.Errorf("service edges: %w", err)
	}
	inv.ServiceRanking = rca.RankServices(rca.Window{Spans: windowSpans, Logs: windowLogs, Edges: edges}, rca.BaselineFromSpans(baseline, baselineLogs), rca.Options{})
	inv.ServiceRanking = slices.DeleteFunc(inv.ServiceRanking, func(s rca.ServiceScore) bool { return s.Score == 0 })

	inv.Hypotheses = rankMerged(merged, len(inv.Requests))
	for i := range inv.Hypotheses {
		inv.Hypotheses[i].Runbooks = matchRunbooks(a.cfg.Runbooks, inv.Hypotheses[i].Kind, inv.Hypotheses[i].Service)
	}
	inv.Summary = investigationSummary(inv)
	slices.SortStableFunc(inv.Timeline, func(x, y timelineEntry) int { return x.Time.Compare(y.Time) })
	return nil
}

// failingRequests lists the correlation ids to analyze: the given one, then
// the most recent failing requests of the scope.
func (a *api) failingRequests(ctx context.Context, s scope) ([]string, error) {
	limit := a.cfg.Investigations.MaxRequests
	var ids []string
	if s.CorrelationID != "" {
		ids = append(ids, s.CorrelationID)
	}
	// Until keeps the failing requests of a past window from being crowded
	// out by newer ones.
	found, err := a.store.RecentCorrelations(ctx, signalstore.CorrelationFilter{
		Service: s.Service, ErrorsOnly: true, Since: s.From, Until: s.To, Limit: limit,
	})
	if err != nil {
		return nil, fmt.Errorf("failing requests: %w", err)
	}
	for _, c := range found {
		if len(ids) >= limit {
			break
		}
		if !slices.Contains(ids, c.CorrelationID) {
			ids = append(ids, c.CorrelationID)
		}
	}
	return ids, nil
}

func mergeHypothesis(merged map[string]*investigationHypothesis, h rca.Hypothesis, id string) {
	key := string(h.Kind) + "\x00" + h.Service + "\x00" + h.Operation
	m := merged[key]
	if m == nil {
		m = &investigationHypothesis{Kind: h.Kind, Service: h.Service, Operation: h.Operation, CorrelationIDs: []string{}, Evidence: []investigationEvidence{}}
		merged[key] = m
	}
	m.Confidence = max(m.Confidence, h.Confidence)
	if !slices.Contains(m.CorrelationIDs, id) {
		m.CorrelationIDs = append(m.CorrelationIDs, id)
	}
	for _, ev := range h.Evidence {
		if len(m.Evidence) >= maxEvidencePerHypothesis {
			break
		}
		m.Evidence = append(m.Evidence, investigationEvidence{Evidence: ev, CorrelationID: id, Link: correlateLink(id)})
	}
}

func rankMerged(merged map[string]*investigationHypothesis, requests int) []investigationHypothesis {
	out := make([]investigationHypothesis, 0, len(merged))
	for _, m := range merged {
		if requests > 0 {
			m.Support = float64(len(m.CorrelationIDs)) / float64(requests)
		}
		m.Score = m.Confidence * (0.5 + 0.5*m.Support)
		out = append(out, *m)
	}
	slices.SortFunc(out, func(x, y investigationHypothesis) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.Service, y.Service),
			cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Operation, y.Operation))
	})
	for i := range out {
		out[i].ID = fmt.Sprintf("h%d", i+1)
	}
	return out
}

func (inv *investigation) addTimeline(t time.Time, kind, service, id, text string) {
	inv.Timeline = append(inv.Timeline, timelineEntry{Time: t.UTC(), Kind: kind, Service: service, CorrelationID: id, Text: text})
}

// addRequestEvents puts a request's first error and its version changes on
// the timeline.
func (inv *investigation) addRequestEvents(rs *requestSignals, resp *analyzeResponse) {
	var first *signalstore.Span
	for i := range rs.spans {
		sp := &rs.spans[i]
		if sp.IsError() && (first == nil || sp.Timestamp.Add(sp.Duration).Before(first.Timestamp.Add(first.Duration))) {
			first = sp
		}
	}
	if first != nil {
		inv.addTimeline(first.Timestamp.Add(first.Duration), "error", first.ServiceName, rs.id,
			fmt.Sprintf("first error of the request in %s %q", first.ServiceName, first.SpanName))
	}
	for _, h := range resp.Hypotheses {
		if h.Kind != rca.KindVersionChange {
			continue
		}
		for _, ev := range h.Evidence {
			if !ev.Time.IsZero() {
				inv.addTimeline(ev.Time, "deploy", h.Service, rs.id, "version change of "+h.Service+": "+ev.Reason)
				break
			}
		}
	}
}

// investigationSummary is the templated summary.
func investigationSummary(inv *investigation) string {
	var b strings.Builder
	what := "all services"
	if inv.Scope.Service != "" {
		what = "service " + inv.Scope.Service
	}
	fmt.Fprintf(&b, "Examined %d failing requests of %s between %s and %s.", len(inv.Requests), what,
		inv.Scope.From.UTC().Format(time.RFC3339), inv.Scope.To.UTC().Format(time.RFC3339))
	if len(inv.Hypotheses) == 0 {
		b.WriteString(" No root-cause hypothesis was found")
		if len(inv.ServiceRanking) > 0 {
			fmt.Fprintf(&b, "; the service most likely at fault over the window is %s (score %.2f)", inv.ServiceRanking[0].Service, inv.ServiceRanking[0].Score)
		}
		b.WriteString(".")
		return b.String()
	}
	top := inv.Hypotheses[0]
	fmt.Fprintf(&b, " Most likely cause: %s (confidence %.2f, seen in %d of %d requests).",
		describe(rca.Hypothesis{Kind: top.Kind, Service: top.Service, Operation: top.Operation}), top.Confidence, len(top.CorrelationIDs), len(inv.Requests))
	if len(inv.Hypotheses) > 1 {
		n := inv.Hypotheses[1]
		fmt.Fprintf(&b, " Next: %s (%.2f).", describe(rca.Hypothesis{Kind: n.Kind, Service: n.Service, Operation: n.Operation}), n.Confidence)
	}
	if len(inv.ServiceRanking) > 0 {
		fmt.Fprintf(&b, " Over the window, %s ranks first among services (score %.2f).", inv.ServiceRanking[0].Service, inv.ServiceRanking[0].Score)
	}
	return b.String()
}
