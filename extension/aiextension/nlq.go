package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
	_ "time/tzdata" // "since 9am" in the asker's zone, also in the scratch image

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/internal/httpapi"
	"github.com/ollystack/ollystack/pkg/nlq"
)

const routeNLQ = "/api/v1/ai/nlq"

// nlqRequest is the body of POST /api/v1/ai/nlq.
type nlqRequest struct {
	Question string `json:"question"`
	// TimeZone is the asker's IANA zone for "today" and "since 9am";
	// empty means UTC.
	TimeZone string `json:"time_zone"`
}

// maxNLQBody bounds the body: a question is at most nlq.MaxQuestionLen
// bytes, which JSON escaping can grow sixfold.
const maxNLQBody = 8 << 10

// catalog caches the service and operation names questions are matched
// against, read from the store at most once per refresh interval.
type catalog struct {
	mu      sync.Mutex
	cat     nlq.Catalog
	loaded  time.Time
	refresh time.Duration
}

func (c *catalog) get(ctx context.Context, a *api) (nlq.Catalog, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded.IsZero() && a.now().Sub(c.loaded) < c.refresh {
		return c.cat, nil
	}
	cat, err := nlq.LoadCatalog(ctx, a.store)
	if err != nil {
		if !c.loaded.IsZero() {
			a.logger.Warn("Refreshing the question catalog failed; using the previous one", zap.Error(err))
			return c.cat, nil
		}
		return nlq.Catalog{}, err
	}
	c.cat, c.loaded = cat, a.now()
	return cat, nil
}

func (a *api) postNLQ(w http.ResponseWriter, r *http.Request) *httpapi.Error {
	var req nlqRequest
	if aerr := httpapi.DecodeJSON(w, r, maxNLQBody, "{question, time_zone}", &req); aerr != nil {
		return aerr
	}
	if req.Question == "" {
		return httpapi.ParamError("question", "must be set")
	}
	loc := time.UTC
	if req.TimeZone != "" {
		var err error
		if loc, err = time.LoadLocation(req.TimeZone); err != nil || len(req.TimeZone) > 64 {
			return httpapi.ParamError("time_zone", "must be an IANA time zone name such as Europe/Berlin")
		}
	}
	ctx, cancel := httpapi.WithRequestTimeout(w, r, a.cfg.RequestTimeout)
	defer cancel()
	cat, err := a.catalog.get(ctx, a)
	if err != nil {
		return a.readError(ctx, err)
	}
	opts := nlq.Options{
		Catalog: cat, Now: a.now().In(loc), ShareOperations: a.cfg.NLQ.ShareOperations,
		Limits: nlq.Limits{MaxRows: a.cfg.NLQ.MaxRows, MaxWindow: a.cfg.NLQ.MaxWindow},
	}
	if a.narrator != nil {
		opts.Completer = a.narrator
	}
	answer, err := nlq.Ask(ctx, a.store, req.Question, opts)
	var notUnderstood *nlq.NotUnderstoodError
	var invalid *nlq.InvalidModelOutputError
	switch {
	case errors.As(err, &notUnderstood):
		a.recordNLQ(ctx, "not_understood")
		return &httpapi.Error{Status: http.StatusUnprocessableEntity, Code: httpapi.CodeUnprocessable, Parameter: "question", Message: notUnderstood.Error()}
	case errors.As(err, &invalid):
		a.recordNLQ(ctx, "invalid_model_output")
		a.logger.Warn("The model's query for a question was refused", zap.Error(invalid.Err))
		return &httpapi.Error{Status: http.StatusUnprocessableEntity, Code: httpapi.CodeUnprocessable, Parameter: "question",
			Message: "the question was not understood, and the model's query was refused: " + truncate(invalid.Err.Error(), 300)}
	case errors.Is(err, nlq.ErrModelUnavailable):
		a.recordNLQ(ctx, "model_error")
		a.logger.Warn("Asking the model to read a question failed", zap.Error(err))
		return &httpapi.Error{Status: http.StatusBadGateway, Code: httpapi.CodeModelUnavailable, Message: "the question was not understood by the parser, and the model did not answer"}
	case err != nil:
		return a.readError(ctx, err)
	}
	a.recordNLQ(ctx, answer.Source)
	httpapi.WriteJSON(w, a.logger, http.StatusOK, answer)
	return nil
}

func (a *api) recordNLQ(ctx context.Context, source string) {
	a.telemetry.Questions.Add(context.WithoutCancel(ctx), 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("source", source))))
}

// Complete lets the question parser fall back to the model: one chat span
// per call; nlq.FromModel validates the answer.
func (n *narrator) Complete(ctx context.Context, system, user string) (string, error) {
	ctx, span := n.chat.start(ctx)
	out, err := n.client.complete(ctx, system, user)
	endChat(span, out, err)
	n.telemetry.LLMCalls.Add(context.WithoutCancel(ctx), 1, metric.WithAttributeSet(attribute.NewSet(
		attribute.String("gen_ai.provider.name", n.client.p.name()), attribute.String("outcome", outcomeOf(err)))))
	return out.text, err
}
