package httpapi

import (
	"context"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

// RouteUnmatched is the route label of requests no route matched, so
// scanners cannot blow up the metrics' cardinality with made-up paths.
const RouteUnmatched = "unmatched"

// HandlerFunc is a handler that returns its error instead of writing it.
type HandlerFunc func(http.ResponseWriter, *http.Request) *Error

// Routes wraps an API's handlers with what every route needs: errors
// written as JSON, a panic turned into a 500 rather than a dropped
// connection, count and latency by route and status, and a lifetime that
// Stop ends, so that no handler outlives the extension that owns it even
// when another extension's server runs it.
type Routes struct {
	name     string
	logger   *zap.Logger
	requests metric.Int64Counter
	duration metric.Float64Histogram

	ctx      context.Context
	cancel   context.CancelFunc
	mu       sync.Mutex // guards stopped against inflight.Add racing Wait
	stopped  bool
	inflight sync.WaitGroup
}

// NewRoutes returns the wrapper of one API. name starts log messages, e.g.
// "Correlate API"; requests and duration are the API's own instruments.
func NewRoutes(name string, logger *zap.Logger, requests metric.Int64Counter, duration metric.Float64Histogram) *Routes {
	ctx, cancel := context.WithCancel(context.Background())
	return &Routes{name: name, logger: logger, requests: requests, duration: duration, ctx: ctx, cancel: cancel}
}

// Context ends when Stop is called; background work of the API runs under it.
func (rt *Routes) Context() context.Context { return rt.ctx }

// Stop refuses new requests with a 503, cancels those running and waits for
// them to return.
func (rt *Routes) Stop() {
	rt.mu.Lock()
	rt.stopped = true
	rt.mu.Unlock()
	rt.cancel()
	rt.inflight.Wait()
}

// AnswerWriteTime is what an answer may take to be written once its
// request's timeout has run out.
const AnswerWriteTime = 10 * time.Second

// WithRequestTimeout bounds a request by timeout and gives its answer that
// long, and AnswerWriteTime more, to be written, whatever the server's
// write_timeout (30s by default): past it the server drops the connection,
// and the client would read no answer at all, not even the 504 or the
// fallback that follows a timeout.
func WithRequestTimeout(w http.ResponseWriter, r *http.Request, timeout time.Duration) (context.Context, context.CancelFunc) {
	// An error means the writer has no connection to extend (a recorder).
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(timeout + AnswerWriteTime))
	return context.WithTimeout(r.Context(), timeout)
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

// Unwrap lets http.NewResponseController reach the connection (write
// deadlines, flushing) through the recorder.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Handle wraps h; route is the template recorded as the `route` attribute.
func (rt *Routes) Handle(route string, h HandlerFunc) http.Handler {
	routeAttr := attribute.String("route", route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt.mu.Lock()
		if rt.stopped {
			rt.mu.Unlock()
			WriteError(w, rt.logger, &Error{Status: http.StatusServiceUnavailable, Code: CodeShuttingDown, Message: "shutting down"})
			return
		}
		rt.inflight.Add(1)
		rt.mu.Unlock()
		defer rt.inflight.Done()

		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		defer context.AfterFunc(rt.ctx, cancel)()
		r = r.WithContext(ctx)

		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler { // net/http's way to abort a response: keep its meaning
					panic(p)
				}
				rt.logger.Error(rt.name+" handler panicked", zap.String("route", route),
					zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
				if rec.status == 0 {
					WriteError(rec, rt.logger, Internal())
				}
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			attrs := metric.WithAttributeSet(attribute.NewSet(routeAttr, attribute.Int("http.response.status_code", status)))
			mctx := context.WithoutCancel(ctx)
			rt.requests.Add(mctx, 1, attrs)
			rt.duration.Record(mctx, time.Since(start).Seconds(), attrs)
		}()
		if aerr := h(rec, r); aerr != nil {
			WriteError(rec, rt.logger, aerr)
		}
	})
}
