package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/ollystack/ollystack/internal/httpapi"
	"github.com/ollystack/ollystack/pkg/analysis/rca"
)

// postAnalyze answers POST /api/v1/ai/analyze.
func (a *api) postAnalyze(w http.ResponseWriter, r *http.Request) *httpapi.Error {
	req, aerr := parseAnalyzeRequest(w, r)
	if aerr != nil {
		return aerr
	}
	ctx, cancel := httpapi.WithRequestTimeout(w, r, a.cfg.RequestTimeout)
	defer cancel()
	resp, aerr := a.analyze(ctx, req)
	if aerr != nil {
		return aerr
	}
	httpapi.WriteJSON(w, a.logger, http.StatusOK, resp)
	return nil
}

// analyze reads the request and its baseline, runs the deterministic
// analysis, and lets the model narrate when one is configured.
func (a *api) analyze(ctx context.Context, req analyzeRequest) (*analyzeResponse, *httpapi.Error) {
	resp, rs, _, err := a.analyzeSignals(ctx, req.CorrelationID, req.AnalysisType)
	if errors.Is(err, errNoSignals) {
		return nil, httpapi.NotFound("no signals carry correlation id " + req.CorrelationID)
	}
	if err != nil {
		return nil, a.readError(ctx, err)
	}
	if a.narrator != nil {
		a.narrator.narrate(ctx, resp, rs)
	}
	a.saveInsights(ctx, resp)
	return resp, nil
}

// analyzeSignals reads one request and its baseline and runs the
// deterministic analysis of the given kind; errNoSignals means the store
// holds nothing for id.
func (a *api) analyzeSignals(ctx context.Context, id, kind string) (*analyzeResponse, *requestSignals, *healthy, error) {
	rs, err := readRequest(ctx, a.store, id)
	if err != nil {
		return nil, nil, nil, err
	}
	e := entryOf(rs.spans)
	h, err := readBaseline(ctx, a.store, a.cfg.Baseline, id, e)
	if err != nil {
		return nil, nil, nil, err
	}
	start := time.Now()
	resp := a.deterministic(kind, rs, e, h)
	a.telemetry.AnalysisDuration.Record(context.WithoutCancel(ctx), time.Since(start).Seconds(),
		metric.WithAttributeSet(attribute.NewSet(attribute.String("analysis_type", kind))))
	return resp, rs, h, nil
}

// deterministic runs the analyzers; it reads no clock and calls no model,
// so the same signals always give the same answer.
func (a *api) deterministic(kind string, rs *requestSignals, e entry, h *healthy) *analyzeResponse {
	baseline := rca.BaselineFromSpans(h.spans, h.logs)
	res := rca.Analyze(rca.Context{Spans: rs.spans, Logs: rs.logs, Metrics: rs.metrics}, baseline, rca.Options{})
	resp := buildRCA(rs, res)
	resp.AnalysisType = kind
	resp.Baseline = baselineInfo{Requests: h.requests, SameEntryRequests: h.sameEntry, Spans: len(h.spans)}
	switch kind {
	case analysisAnomaly:
		resp.Anomalies = buildAnomalies(res)
		resp.Narrative.Summary = anomalySummary(resp.Anomalies) + " " + resp.TimelineSummary
	case analysisComparison:
		resp.Comparison = buildComparison(rs, e, h)
		resp.Narrative.Summary = comparisonSummary(resp.Comparison) + " " + resp.TimelineSummary
	}
	return resp
}
