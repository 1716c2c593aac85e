package aiextension // import "github.com/ollystack/ollystack/extension/aiextension"

import (
	"context"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/extension/aiextension/internal/metadata"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

// Route templates, also the `route` attribute of the self-metrics.
const (
	routeAnalyze = "/api/v1/ai/analyze"
	// routeUnmatched labels requests no route matched, so scanners cannot
	// blow up the metric's cardinality with made-up paths.
	routeUnmatched = "unmatched"
)

// api holds the HTTP handlers and what they share.
type api struct {
	cfg       *Config
	store     signalstore.Reader
	narrator  *narrator // nil: deterministic only
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	now       func() time.Time

	// ctx is the base context of every request; stop cancels it and waits
	// for the handlers still running.
	ctx      context.Context
	cancel   context.CancelFunc
	mu       sync.Mutex // guards stopped against inflight.Add racing Wait
	stopped  bool
	inflight sync.WaitGroup
}

func newAPI(cfg *Config, store signalstore.Reader, n *narrator, logger *zap.Logger, tb *metadata.TelemetryBuilder) *api {
	ctx, cancel := context.WithCancel(context.Background())
	return &api{
		cfg: cfg, store: store, narrator: n, logger: logger, telemetry: tb, now: time.Now,
		ctx: ctx, cancel: cancel,
	}
}

func (a *api) stop() {
	a.mu.Lock()
	a.stopped = true
	a.mu.Unlock()
	a.cancel()
	a.inflight.Wait()
}

// handler routes the API. Paths are compared exactly: there is one route.
func (a *api) handler() http.Handler {
	analyze := a.instrument(routeAnalyze, a.postAnalyze)
	unmatched := a.instrument(routeUnmatched, func(http.ResponseWriter, *http.Request) *apiError {
		return notFound("no such endpoint")
	})
	notAllowed := a.instrument(routeAnalyze, func(w http.ResponseWriter, _ *http.Request) *apiError {
		w.Header().Set("Allow", http.MethodPost)
		return &apiError{Status: http.StatusMethodNotAllowed, Code: codeMethodNotAllowed, Message: "only POST is supported"}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != routeAnalyze:
			unmatched.ServeHTTP(w, r)
		case r.Method != http.MethodPost:
			notAllowed.ServeHTTP(w, r)
		default:
			analyze.ServeHTTP(w, r)
		}
	})
}

// statusRecorder remembers the status a handler wrote, for the metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// instrument adapts a handler that returns its error, writes that error as
// JSON, turns a panic into a 500 rather than a dropped connection, and
// records count and latency by route and status.
func (a *api) instrument(route string, h func(http.ResponseWriter, *http.Request) *apiError) http.Handler {
	routeAttr := attribute.String("route", route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		if a.stopped {
			a.mu.Unlock()
			writeError(w, a.logger, &apiError{Status: http.StatusServiceUnavailable, Code: codeUnavailable, Message: "shutting down"})
			return
		}
		a.inflight.Add(1)
		a.mu.Unlock()
		defer a.inflight.Done()
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler { // net/http's way to abort a response: keep its meaning
					panic(p)
				}
				a.logger.Error("AI API handler panicked", zap.String("route", route),
					zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
				if rec.status == 0 {
					writeError(rec, a.logger, &apiError{Status: http.StatusInternalServerError, Code: codeInternal, Message: "internal error"})
				}
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			attrs := metric.WithAttributeSet(attribute.NewSet(routeAttr, attribute.Int("http.response.status_code", status)))
			a.telemetry.Requests.Add(context.WithoutCancel(r.Context()), 1, attrs)
			a.telemetry.RequestDuration.Record(context.WithoutCancel(r.Context()), time.Since(start).Seconds(), attrs)
		}()
		if aerr := h(rec, r); aerr != nil {
			writeError(rec, a.logger, aerr)
		}
	})
}
