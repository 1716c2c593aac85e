package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/extension/correlateapiextension/internal/metadata"
	"github.com/ollystack/ollystack/internal/httpapi"
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
)

// api holds the HTTP handlers.
type api struct {
	cfg    *Config
	reader *reader
	store  signalstore.Reader
	docs   signalstore.DocumentStore // nil: no AI insights
	cache  *answerCache
	logger *zap.Logger
	routes *httpapi.Routes
	now    func() time.Time
}

func newAPI(cfg *Config, store signalstore.Reader, docs signalstore.DocumentStore, logger *zap.Logger, tb *metadata.TelemetryBuilder) (*api, error) {
	cache, err := newAnswerCache(cfg.Cache)
	if err != nil {
		return nil, fmt.Errorf("create answer cache: %w", err)
	}
	return &api{
		cfg:    cfg,
		reader: &reader{store: store, limits: cfg.Limits},
		store:  store,
		docs:   docs,
		cache:  cache,
		logger: logger,
		routes: httpapi.NewRoutes("Correlate API", logger, tb.Requests, tb.RequestDuration),
		now:    time.Now,
	}, nil
}

// queryHandler serves one route with its query already parsed.
type queryHandler func(http.ResponseWriter, *http.Request, url.Values) *httpapi.Error

// handler routes the API. Paths are matched still percent-encoded and never
// cleaned, so an escaped slash or a dot segment reaches the id validation
// (and gets a 400) instead of being turned into another path. Every route's
// query is parsed here, strictly, so no handler reads a query from which
// malformed pairs were silently dropped.
func (a *api) handler() http.Handler {
	r := mux.NewRouter().UseEncodedPath().SkipClean(true)
	get := func(route string, h queryHandler) {
		withQuery := func(w http.ResponseWriter, req *http.Request) *httpapi.Error {
			q, aerr := parseQuery(req.URL.RawQuery)
			if aerr != nil {
				return aerr
			}
			return h(w, req, q)
		}
		r.Handle(route, a.routes.Handle(route, withQuery)).Methods(http.MethodGet, http.MethodHead)
	}
	get(routeCorrelate, a.getCorrelate)
	get(routeTimeline, a.getTimeline)
	get(routeImpact, a.getImpact)
	get(routeTrace, a.getTrace)
	get(routeCorrelations, a.getCorrelations)
	get(routeServices, a.getServices)
	get(routeOpenAPI, a.getOpenAPI)
	r.NotFoundHandler = a.routes.Handle(httpapi.RouteUnmatched, func(http.ResponseWriter, *http.Request) *httpapi.Error {
		return httpapi.NotFound("no such endpoint")
	})
	r.MethodNotAllowedHandler = a.routes.Handle(httpapi.RouteUnmatched, func(w http.ResponseWriter, _ *http.Request) *httpapi.Error {
		return httpapi.MethodNotAllowed(w, "GET, HEAD")
	})
	return r
}

// withTimeout bounds the store reads of one request by request_timeout.
func (a *api) withTimeout(w http.ResponseWriter, r *http.Request) (context.Context, context.CancelFunc) {
	return httpapi.WithRequestTimeout(w, r, a.cfg.RequestTimeout)
}

// readError turns a failed read into an API error, logging what the client
// is not told.
func (a *api) readError(ctx context.Context, err error) *httpapi.Error {
	if errors.Is(err, errNoSignals) {
		return nil
	}
	// Backends report an interrupted read in their own words; the context
	// says why it was interrupted.
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = fmt.Errorf("%w (%w)", ctxErr, err)
	}
	aerr := httpapi.StoreError(err)
	if aerr.Status == http.StatusInternalServerError {
		a.logger.Error("Correlate API read failed", zap.Error(err))
	} else {
		a.logger.Debug("Correlate API read failed", zap.Error(err))
	}
	return aerr
}

func (a *api) getOpenAPI(w http.ResponseWriter, _ *http.Request, _ url.Values) *httpapi.Error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(openAPIDocument)
	return nil
}
