package correlateapiextension // import "github.com/ollystack/ollystack/extension/correlateapiextension"

import (
	"net/http"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

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
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler { // net/http's way to abort a response: keep its meaning
					panic(p)
				}
				a.logger.Error("Correlate API handler panicked", zap.String("route", route),
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
			a.telemetry.Requests.Add(r.Context(), 1, attrs)
			a.telemetry.RequestDuration.Record(r.Context(), time.Since(start).Seconds(), attrs)
		}()
		if aerr := h(rec, r); aerr != nil {
			writeError(rec, a.logger, aerr)
		}
	})
}
