package syntheticsreceiver

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/zap"
)

// BenchmarkHTTPCheckRun measures one http check run against a local server
// (a fresh connection each run, as in production), its assertions, and the
// conversion of the run into traces, metrics and logs.
func BenchmarkHTTPCheckRun(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"up","checks":{"db":"ok","cache":"ok"}}`)
	}))
	defer srv.Close()
	check, err := compileCheck(&CheckConfig{Name: "api", Type: typeHTTP, Interval: time.Minute, Timeout: 5 * time.Second,
		HTTP: &HTTPCheckConfig{
			HTTPRequestConfig: HTTPRequestConfig{URL: srv.URL + "/health"},
			Assertions: []AssertionConfig{
				{Status: "2xx"}, {MaxLatency: time.Second}, {Header: "Content-Type", Contains: "json"},
				{BodyContains: "up"}, {JSONPath: "$.checks.db", Equals: ptr("ok")},
			},
		}}, checkEnv{logger: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	defer check.runner.close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r := newRun(check, "bench", time.Now())
		r.failure = check.runner.run(ctx, r)
		r.end = time.Now()
		if r.failure != nil {
			b.Fatal(r.failure)
		}
		_ = r.traces()
		_ = r.metrics()
	}
}
