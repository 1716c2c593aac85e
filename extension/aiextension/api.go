package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/ollystack/ollystack/extension/aiextension/internal/metadata"
	"github.com/ollystack/ollystack/internal/httpapi"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Route templates, also the `route` attribute of the self-metrics.
const (
	routePrefix         = "/api/v1/ai/"
	routeAnalyze        = "/api/v1/ai/analyze"
	routeInvestigations = "/api/v1/ai/investigations"
	routeInvestigation  = "/api/v1/ai/investigations/{id}"
)

// api holds the HTTP handlers and what they share.
type api struct {
	cfg       *Config
	store     signalstore.Reader
	docs      signalstore.DocumentStore
	narrator  *narrator // nil: deterministic only
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	routes    *httpapi.Routes
	now       func() time.Time
	// investigations is nil until started.
	investigations *investigator
	catalog        *catalog
}

func newAPI(cfg *Config, store signalstore.Reader, docs signalstore.DocumentStore, n *narrator, logger *zap.Logger, tb *metadata.TelemetryBuilder) *api {
	return &api{
		cfg: cfg, store: store, docs: docs, narrator: n, logger: logger, telemetry: tb, now: time.Now,
		routes:  httpapi.NewRoutes("AI API", logger, tb.Requests, tb.RequestDuration),
		catalog: &catalog{refresh: cfg.NLQ.CatalogRefresh},
	}
}

// handler routes the API. Paths are compared exactly, never cleaned.
func (a *api) handler() http.Handler {
	analyze := a.routes.Handle(routeAnalyze, a.postAnalyze)
	startInvestigation := a.routes.Handle(routeInvestigations, a.postInvestigation)
	listInvestigations := a.routes.Handle(routeInvestigations, a.listInvestigations)
	getInvestigation := a.routes.Handle(routeInvestigation, a.getInvestigation)
	ask := a.routes.Handle(routeNLQ, a.postNLQ)
	unmatched := a.routes.Handle(httpapi.RouteUnmatched, func(http.ResponseWriter, *http.Request) *httpapi.Error {
		return httpapi.NotFound("no such endpoint")
	})
	notAllowed := func(route, allow string) http.Handler {
		return a.routes.Handle(route, func(w http.ResponseWriter, _ *http.Request) *httpapi.Error {
			return httpapi.MethodNotAllowed(w, allow)
		})
	}
	analyzeNotAllowed := notAllowed(routeAnalyze, http.MethodPost)
	nlqNotAllowed := notAllowed(routeNLQ, http.MethodPost)
	investigationsNotAllowed := notAllowed(routeInvestigations, "GET, POST")
	investigationNotAllowed := notAllowed(routeInvestigation, http.MethodGet)

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, get := r.URL.Path, r.Method == http.MethodGet || r.Method == http.MethodHead
		switch {
		case path == routeAnalyze && r.Method == http.MethodPost:
			analyze.ServeHTTP(w, r)
		case path == routeAnalyze:
			analyzeNotAllowed.ServeHTTP(w, r)
		case path == routeNLQ && r.Method == http.MethodPost:
			ask.ServeHTTP(w, r)
		case path == routeNLQ:
			nlqNotAllowed.ServeHTTP(w, r)
		case path == routeInvestigations && r.Method == http.MethodPost:
			startInvestigation.ServeHTTP(w, r)
		case path == routeInvestigations && get:
			listInvestigations.ServeHTTP(w, r)
		case path == routeInvestigations:
			investigationsNotAllowed.ServeHTTP(w, r)
		case strings.HasPrefix(path, routeInvestigations+"/") && get:
			getInvestigation.ServeHTTP(w, r)
		case strings.HasPrefix(path, routeInvestigations+"/"):
			investigationNotAllowed.ServeHTTP(w, r)
		default:
			unmatched.ServeHTTP(w, r)
		}
	})
}

// readError turns a failed read into an API error, logging what the client
// is not told.
func (a *api) readError(ctx context.Context, err error) *httpapi.Error {
	// Backends report an interrupted read in their own words; the context
	// says why it was interrupted.
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", ctxErr, err)
	}
	aerr := httpapi.StoreError(err)
	if aerr.Status == http.StatusInternalServerError {
		a.logger.Error("AI API read failed", zap.Error(err))
	} else {
		a.logger.Debug("AI API read failed", zap.Error(err))
	}
	return aerr
}
