package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ollystack/ollystack/internal/httpapi"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

// maxInvestigationBody bounds POST /api/v1/ai/investigations: an
// Alertmanager group of a few hundred alerts fits.
const maxInvestigationBody = 1 << 20

// maxInvestigationWindow bounds the scope of one investigation.
const maxInvestigationWindow = 24 * time.Hour

// investigationRequest is the API's own body: {service, correlation_id,
// from, to}, strictly decoded.
type investigationRequest struct {
	Service       string    `json:"service"`
	CorrelationID string    `json:"correlation_id"`
	From          time.Time `json:"from"`
	To            time.Time `json:"to"`
}

// alertmanagerPayload is an Alertmanager webhook body (version 4). Fields
// Alertmanager may add in later releases are ignored, so an upgrade of
// Alertmanager cannot break the receiver.
type alertmanagerPayload struct {
	Version           string              `json:"version"`
	GroupKey          string              `json:"groupKey"`
	TruncatedAlerts   int                 `json:"truncatedAlerts"`
	Status            string              `json:"status"`
	Receiver          string              `json:"receiver"`
	GroupLabels       map[string]string   `json:"groupLabels"`
	CommonLabels      map[string]string   `json:"commonLabels"`
	CommonAnnotations map[string]string   `json:"commonAnnotations"`
	ExternalURL       string              `json:"externalURL"`
	Alerts            []alertmanagerAlert `json:"alerts"`
}

// alertmanagerAlert is one alert of an Alertmanager webhook payload.
type alertmanagerAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// investigationAccepted answers a started (or already known) investigation.
type investigationAccepted struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	URL       string `json:"url"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// investigationIgnored answers a payload with nothing to investigate
// (only resolved alerts): 200, so Alertmanager does not retry it.
type investigationIgnored struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

func (a *api) postInvestigation(w http.ResponseWriter, r *http.Request) *httpapi.Error {
	const shape = "{service, correlation_id, from, to} or an Alertmanager webhook payload"
	var raw json.RawMessage
	if aerr := httpapi.DecodeJSON(w, r, maxInvestigationBody, shape, &raw); aerr != nil {
		return aerr
	}
	// An Alertmanager payload names its version and alerts; the API's own
	// body has neither.
	var probe struct {
		Version *string         `json:"version"`
		Alerts  json.RawMessage `json:"alerts"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return httpapi.BodyError(shape, err)
	}
	var inv *investigation
	var ignored string
	var aerr *httpapi.Error
	if probe.Version != nil || probe.Alerts != nil {
		var p alertmanagerPayload
		if err := json.Unmarshal(raw, &p); err != nil {
			return httpapi.BadRequest("the Alertmanager payload is malformed: " + httpapi.JSONProblem(err))
		}
		inv, ignored, aerr = a.fromAlertmanager(&p, a.now().UTC())
	} else {
		var req investigationRequest
		if err := httpapi.UnmarshalStrict(raw, &req); err != nil {
			return httpapi.BodyError(shape, err)
		}
		inv, aerr = a.newInvestigation(&req)
	}
	if aerr != nil {
		return aerr
	}
	if ignored != "" {
		httpapi.WriteJSON(w, a.logger, http.StatusOK, investigationIgnored{Status: "ignored", Reason: ignored})
		return nil
	}
	return a.start(w, r.Context(), inv)
}

// start submits inv and answers 202 with its id, or 200 with the existing
// one when the same alert was already delivered.
func (a *api) start(w http.ResponseWriter, ctx context.Context, inv *investigation) *httpapi.Error {
	existing, err := a.investigations.submit(ctx, inv)
	if errors.Is(err, errQueueFull) {
		return &httpapi.Error{Status: http.StatusServiceUnavailable, Code: httpapi.CodeBusy, Message: "too many investigations are waiting; retry later"}
	}
	if err != nil {
		return a.readError(ctx, err)
	}
	if existing != nil {
		httpapi.WriteJSON(w, a.logger, http.StatusOK, investigationAccepted{ID: existing.ID, Status: existing.Status, URL: routeInvestigations + "/" + existing.ID, Duplicate: true})
		return nil
	}
	w.Header().Set("Location", routeInvestigations+"/"+inv.ID)
	httpapi.WriteJSON(w, a.logger, http.StatusAccepted, investigationAccepted{ID: inv.ID, Status: inv.Status, URL: routeInvestigations + "/" + inv.ID})
	return nil
}

// newInvestigation validates the API's request and builds the
// investigation.
func (a *api) newInvestigation(req *investigationRequest) (*investigation, *httpapi.Error) {
	now := a.now().UTC()
	if aerr := checkCorrelationID("correlation_id", req.CorrelationID, false); aerr != nil {
		return nil, aerr
	}
	if aerr := checkName("service", req.Service); aerr != nil {
		return nil, aerr
	}
	if req.Service == "" && req.CorrelationID == "" {
		return nil, httpapi.BadRequest("set service, correlation_id or both (or post an Alertmanager webhook payload)")
	}
	to := req.To
	if to.IsZero() {
		to = now
	}
	from := req.From
	if from.IsZero() {
		from = to.Add(-a.cfg.Investigations.Lookback)
	}
	if !from.Before(to) {
		return nil, httpapi.ParamError("from", "must be before to")
	}
	if to.Sub(from) > maxInvestigationWindow {
		return nil, httpapi.ParamError("from", "the window from..to must be at most "+maxInvestigationWindow.String())
	}
	inv := &investigation{
		ID: newInvestigationID(), CreatedAt: now, Trigger: trigger{Source: sourceAPI},
		Scope: scope{Service: req.Service, CorrelationID: req.CorrelationID, From: from.UTC(), To: to.UTC()},
	}
	return inv, nil
}

// fromAlertmanager scopes an investigation on the firing alerts of a
// payload: their services (by the configured labels), from the earliest
// start minus the lookback until now. A non-empty ignored says why there is
// nothing to investigate.
func (a *api) fromAlertmanager(req *alertmanagerPayload, now time.Time) (inv *investigation, ignored string, aerr *httpapi.Error) {
	if req.Version != "4" {
		return nil, "", httpapi.ParamError("version", "only Alertmanager webhook payloads of version 4 are supported")
	}
	var firing []alertmanagerAlert
	for _, al := range req.Alerts {
		if al.Status == "firing" {
			firing = append(firing, al)
		}
	}
	if len(firing) == 0 {
		return nil, "no firing alerts in the payload", nil
	}
	var services, fingerprints []string
	start := firing[0].StartsAt
	for _, al := range firing {
		// At most maxLabels are kept; two already scope on every service.
		if s := a.serviceOf(al.Labels, req.CommonLabels); s != "" && len(services) < maxLabels && !slices.Contains(services, s) {
			services = append(services, s)
		}
		if al.StartsAt.Before(start) {
			start = al.StartsAt
		}
		fingerprints = append(fingerprints, al.Fingerprint+"@"+al.StartsAt.UTC().Format(time.RFC3339Nano))
	}
	slices.Sort(fingerprints)
	if start.IsZero() || start.After(now) {
		start = now
	}
	from := start.Add(-a.cfg.Investigations.Lookback)
	if now.Sub(from) > maxInvestigationWindow {
		from = now.Add(-maxInvestigationWindow)
	}
	var service string
	if len(services) == 1 {
		service = services[0] // several: rank them all
	}
	if aerr := checkName("service label", service); aerr != nil {
		return nil, "", aerr
	}
	labels := boundedLabels(firing[0].Labels)
	named := make([]string, len(services))
	for i, s := range services {
		named[i] = truncate(s, maxNameLen)
	}
	inv = &investigation{
		ID:        investigationIDFor(sourceAlertmanager, append([]string{req.GroupKey}, fingerprints...)...),
		CreatedAt: now,
		Trigger: trigger{
			Source: sourceAlertmanager, AlertName: truncate(firing[0].Labels["alertname"], maxNameLen),
			Severity: truncate(firing[0].Labels["severity"], maxNameLen), StartsAt: start.UTC(), Labels: labels, Services: named,
		},
		Scope: scope{Service: service, From: from.UTC(), To: now},
	}
	inv.addTimeline(start, "alert", service, "", "alert "+inv.Trigger.AlertName+" started firing")
	return inv, "", nil
}

func (a *api) serviceOf(labels, common map[string]string) string {
	for _, l := range a.cfg.Investigations.ServiceLabels {
		if v := labels[l]; v != "" {
			return v
		}
		if v := common[l]; v != "" {
			return v
		}
	}
	return ""
}

// Bounds on names and labels taken from a request.
const (
	maxNameLen = 256
	maxLabels  = 32
)

// checkName refuses service names no store holds: too long or with
// control characters.
func checkName(param, s string) *httpapi.Error {
	if len(s) > maxNameLen {
		return httpapi.ParamError(param, "must be at most "+strconv.Itoa(maxNameLen)+" bytes")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return httpapi.ParamError(param, "must not contain control characters")
	}
	return nil
}

// boundedLabels keeps at most maxLabels labels, each cut to maxNameLen.
func boundedLabels(in map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(in)) {
		if len(out) == maxLabels {
			break
		}
		out[truncate(k, maxNameLen)] = truncate(in[k], maxNameLen)
	}
	return out
}

// investigationIDPattern is what newInvestigationID and
// investigationIDFor produce; its bound keeps a made-up id within the
// store's key length, so it is a 400, not a refused read.
var investigationIDPattern = regexp.MustCompile(`^inv-[a-z_-]{0,32}[0-9a-f]{24}$`)

func (a *api) getInvestigation(w http.ResponseWriter, r *http.Request) *httpapi.Error {
	id := strings.TrimPrefix(r.URL.Path, routeInvestigations+"/")
	if !investigationIDPattern.MatchString(id) {
		return httpapi.ParamError("id", "is not an investigation id")
	}
	inv, err := a.investigations.load(r.Context(), id)
	if errors.Is(err, signalstore.ErrNotFound) {
		return httpapi.NotFound("no investigation " + id)
	}
	if err != nil {
		return a.readError(r.Context(), err)
	}
	httpapi.WriteJSON(w, a.logger, http.StatusOK, inv)
	return nil
}

// investigationItem is one line of the list.
type investigationItem struct {
	ID         string    `json:"id"`
	Status     string    `json:"status"`
	Trigger    trigger   `json:"trigger"`
	Scope      scope     `json:"scope"`
	CreatedAt  time.Time `json:"created_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Summary    string    `json:"summary,omitempty"`
}

type investigationList struct {
	Investigations []investigationItem `json:"investigations"`
	Count          int                 `json:"count"`
}

// maxInvestigationList caps the limit parameter.
const maxInvestigationList = 500

func (a *api) listInvestigations(w http.ResponseWriter, r *http.Request) *httpapi.Error {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxInvestigationList {
			return httpapi.ParamError("limit", "must be an integer between 1 and "+strconv.Itoa(maxInvestigationList))
		}
		limit = n
	}
	docs, err := a.docs.ListDocuments(r.Context(), signalstore.DocumentFilter{Kind: signalstore.DocumentKindInvestigation, Limit: limit})
	if err != nil {
		return a.readError(r.Context(), err)
	}
	out := investigationList{Investigations: []investigationItem{}}
	for _, d := range docs {
		var inv investigation
		if err := json.Unmarshal(d.Body, &inv); err != nil {
			continue
		}
		out.Investigations = append(out.Investigations, investigationItem{
			ID: inv.ID, Status: inv.Status, Trigger: inv.Trigger, Scope: inv.Scope,
			CreatedAt: inv.CreatedAt, FinishedAt: inv.FinishedAt, Summary: inv.Summary,
		})
	}
	out.Count = len(out.Investigations)
	httpapi.WriteJSON(w, a.logger, http.StatusOK, out)
	return nil
}
