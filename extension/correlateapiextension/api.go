package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/extension/correlateapiextension/internal/metadata"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Route templates, also the `route` attribute of the self-metrics.
const (
	routeCorrelate    = "/api/v1/correlate/{correlation_id}"
	routeTimeline     = "/api/v1/correlate/{correlation_id}/timeline"
	routeImpact       = "/api/v1/correlate/{correlation_id}/impact"
	routeTrace        = "/api/v1/traces/{trace_id}"
	routeCorrelations = "/api/v1/correlations"
	routeServices     = "/api/v1/services"
	routeOpenAPI      = "/api/v1/openapi.json"
	// routeUnmatched labels requests no route matched, so scanners cannot
	// blow up the metric's cardinality with made-up paths.
	routeUnmatched = "unmatched"
)

// api holds the HTTP handlers.
type api struct {
	cfg       *Config
	reader    *reader
	store     signalstore.Reader
	cache     *answerCache
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	now       func() time.Time
}

func newAPI(cfg *Config, store signalstore.Reader, logger *zap.Logger, tb *metadata.TelemetryBuilder) (*api, error) {
	cache, err := newAnswerCache(cfg.Cache)
	if err != nil {
		return nil, fmt.Errorf("create answer cache: %w", err)
	}
	return &api{
		cfg:       cfg,
		reader:    &reader{store: store, limits: cfg.Limits},
		store:     store,
		cache:     cache,
		logger:    logger,
		telemetry: tb,
		now:       time.Now,
	}, nil
}

// handler routes the API. Paths are matched still percent-encoded and never
// cleaned, so an escaped slash or a dot segment reaches the id validation
// (and gets a 400) instead of being turned into another path.
func (a *api) handler() http.Handler {
	r := mux.NewRouter().UseEncodedPath().SkipClean(true)
	get := func(route string, h func(http.ResponseWriter, *http.Request) *apiError) {
		r.Handle(route, a.instrument(route, h)).Methods(http.MethodGet, http.MethodHead)
	}
	get(routeCorrelate, a.getCorrelate)
	get(routeTimeline, a.getTimeline)
	get(routeImpact, a.getImpact)
	get(routeTrace, a.getTrace)
	get(routeCorrelations, a.getCorrelations)
	get(routeServices, a.getServices)
	get(routeOpenAPI, a.getOpenAPI)
	r.NotFoundHandler = a.instrument(routeUnmatched, func(http.ResponseWriter, *http.Request) *apiError {
		return notFound("no such endpoint")
	})
	r.MethodNotAllowedHandler = a.instrument(routeUnmatched, func(w http.ResponseWriter, _ *http.Request) *apiError {
		w.Header().Set("Allow", "GET, HEAD")
		return &apiError{Status: http.StatusMethodNotAllowed, Code: codeMethodNotAllowed, Message: "only GET is supported"}
	})
	return r
}

// withTimeout bounds the store reads of one request.
func (a *api) withTimeout(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), a.cfg.RequestTimeout)
}

// readError turns a failed read into an API error, logging what the client
// is not told.
func (a *api) readError(ctx context.Context, err error) *apiError {
	if errors.Is(err, errNoSignals) {
		return nil
	}
	// Backends report an interrupted read in their own words; the context
	// says why it was interrupted.
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = fmt.Errorf("%w (%w)", ctxErr, err)
	}
	aerr := storeError(err)
	if aerr.Status == http.StatusInternalServerError {
		a.logger.Error("Correlate API read failed", zap.Error(err))
	} else {
		a.logger.Debug("Correlate API read failed", zap.Error(err))
	}
	return aerr
}

func (a *api) getOpenAPI(w http.ResponseWriter, _ *http.Request) *apiError {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(openAPIDocument)
	return nil
}
