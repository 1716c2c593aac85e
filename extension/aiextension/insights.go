package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"encoding/json"
	"time"

	"go.uber.org/zap"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// insights is the latest analysis of a correlation as the correlate API
// shows it in ai_insights: the headline, the narrative and the ranked
// hypotheses. It is kept as a document (kind analysis, one per correlation,
// replaced by each new analysis).
type insights struct {
	AnalysisType string       `json:"analysis_type"`
	AnalyzedAt   time.Time    `json:"analyzed_at"`
	RootCause    string       `json:"root_cause"`
	Confidence   float64      `json:"confidence"`
	Summary      string       `json:"summary"`
	Source       string       `json:"source"`
	Hypotheses   []hypothesis `json:"hypotheses"`
}

// documentWriteTimeout bounds keeping one document; it runs past the
// request's own deadline so an answered analysis is still kept.
const documentWriteTimeout = 10 * time.Second

// maxInsightHypotheses bounds the document: the correlate API shows the
// leading hypotheses, the analyze endpoint has them all.
const maxInsightHypotheses = 5

// saveInsights keeps the analysis for the correlate API. An analysis is
// answered even when it cannot be kept: the failure is logged.
func (a *api) saveInsights(ctx context.Context, resp *analyzeResponse) {
	in := insights{
		AnalysisType: resp.AnalysisType, AnalyzedAt: a.now().UTC(), RootCause: resp.RootCause,
		Confidence: resp.Confidence, Summary: resp.Narrative.Summary, Source: resp.Narrative.Source,
		Hypotheses: resp.Hypotheses[:min(len(resp.Hypotheses), maxInsightHypotheses)],
	}
	body, err := json.Marshal(in)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), documentWriteTimeout)
		defer cancel()
		err = a.docs.PutDocument(ctx, signalstore.Document{
			Kind: signalstore.DocumentKindAnalysis, ID: resp.CorrelationID, Ref: resp.CorrelationID,
			Updated: in.AnalyzedAt, Body: body,
		})
	}
	if err != nil {
		a.logger.Warn("Keeping an analysis for the correlate API failed", zap.String("correlation_id", resp.CorrelationID), zap.Error(err))
	}
}
