package httpapi

import (
	"context"
	"encoding/json"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/otel/metric/noop"
	"go.uber.org/zap"
)

func newRoutes() *Routes {
	m := noop.NewMeterProvider().Meter("test")
	c, _ := m.Int64Counter("c")
	h, _ := m.Float64Histogram("h")
	return NewRoutes("Test API", zap.NewNop(), c, h)
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) *Error {
	t.Helper()
	var body errorBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	require.NotNil(t, body.Error)
	assert.Equal(t, rec.Code, body.Error.Status)
	return body.Error
}

func TestMuxRoutesByPrefix(t *testing.T) {
	fallback := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("fallback")) })
	mux := NewMux(fallback)
	unmount, err := mux.Mount("/api/v1/ai/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ai")) }))
	require.NoError(t, err)

	get := func(path string) string {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Body.String()
	}
	assert.Equal(t, "ai", get("/api/v1/ai/analyze"))
	assert.Equal(t, "fallback", get("/api/v1/ai"), "the prefix is a directory, not a string prefix")
	assert.Equal(t, "fallback", get("/api/v1/correlate/x"))

	_, err = mux.Mount("/api/v1/ai/", fallback)
	assert.ErrorContains(t, err, "already mounted")
	unmount()
	unmount() // idempotent
	assert.Equal(t, "fallback", get("/api/v1/ai/analyze"))

	for _, bad := range []string{"", "/", "api/", "/api"} {
		_, err := mux.Mount(bad, fallback)
		assert.Error(t, err, bad)
	}
	_, err = mux.Mount("/x/", nil)
	assert.Error(t, err)
}

func TestRoutesWriteErrorsAndRecoverPanics(t *testing.T) {
	rt := newRoutes()
	rec := httptest.NewRecorder()
	rt.Handle("/p", func(http.ResponseWriter, *http.Request) *Error { panic("boom") }).
		ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/p", nil))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, CodeInternal, decodeError(t, rec).Code)

	rec = httptest.NewRecorder()
	rt.Handle("/p", func(http.ResponseWriter, *http.Request) *Error { return ParamError("limit", "must be positive") }).
		ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/p", nil))
	e := decodeError(t, rec)
	assert.Equal(t, "limit", e.Parameter)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
}

func TestRoutesStopCancelsRunningAndRefusesNew(t *testing.T) {
	rt := newRoutes()
	started := make(chan struct{})
	h := rt.Handle("/slow", func(_ http.ResponseWriter, r *http.Request) *Error {
		close(started)
		<-r.Context().Done() // only Stop ends this
		return StoreError(r.Context().Err())
	})
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/slow", nil))
		done <- rec
	}()
	<-started
	rt.Stop()
	rec := <-done // Stop returned, so the handler has too
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Error(t, rt.Context().Err())

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/slow", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, CodeShuttingDown, decodeError(t, rec).Code)
}

func TestDecodeJSON(t *testing.T) {
	type body struct {
		A string    `json:"a"`
		T time.Time `json:"t"`
	}
	cases := []struct {
		name, ct, body string
		status         int
		msg            string
	}{
		{"ok", "application/json", `{"a":"x"}`, 0, ""},
		{"no content type", "", `{"a":"x"}`, 0, ""},
		{"charset", "application/json; charset=utf-8", `{"a":"x"}`, 0, ""},
		{"form", "application/x-www-form-urlencoded", `a=x`, http.StatusUnsupportedMediaType, "application/json"},
		{"unknown field", "", `{"b":1}`, http.StatusBadRequest, `unknown field "b"`},
		{"wrong type", "", `{"a":1}`, http.StatusBadRequest, `field "a" must be a string`},
		{"two objects", "", `{"a":"x"}{"a":"y"}`, http.StatusBadRequest, "exactly one"},
		{"malformed", "", `{"a":`, http.StatusBadRequest, "truncated"},
		{"syntax", "", `{"a" "x"}`, http.StatusBadRequest, "malformed JSON at byte"},
		{"empty", "", ``, http.StatusBadRequest, "empty"},
		{"bad time", "", `{"a":"x","t":"yesterday"}`, http.StatusBadRequest, "RFC 3339"},
		{"too large", "", `{"a":"` + strings.Repeat("x", 100) + `"}`, http.StatusRequestEntityTooLarge, "larger than 64 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
			if c.ct != "" {
				r.Header.Set("Content-Type", c.ct)
			}
			var v body
			e := DecodeJSON(httptest.NewRecorder(), r, 64, "{a}", &v)
			if c.status == 0 {
				require.Nil(t, e)
				assert.Equal(t, "x", v.A)
				return
			}
			require.NotNil(t, e)
			assert.Equal(t, c.status, e.Status)
			assert.Contains(t, e.Message, c.msg)
		})
	}
}

// TestDecodeJSONSpeaksJSON: a body of the wrong kind is told what JSON
// value is expected, never a Go type name (which named the package's
// request type, or spelt out a whole anonymous struct).
func TestDecodeJSONSpeaksJSON(t *testing.T) {
	type body struct {
		A string   `json:"a"`
		N int      `json:"n"`
		U uint     `json:"u"`
		F float64  `json:"f"`
		B bool     `json:"b"`
		L []string `json:"l"`
		S struct {
			X int `json:"x"`
		} `json:"s"`
		M map[string]string `json:"m"`
	}
	for _, c := range []struct{ body, want string }{
		{`[1]`, "the body must be a JSON object {a}"},
		{`"x"`, "the body must be a JSON object {a}"},
		{`{"s":[1]}`, `field "s" must be a JSON object`},
		{`{"s":{"x":"y"}}`, `field "s.x" must be an integer`},
		{`{"n":1.5}`, `field "n" must be an integer`},
		{`{"u":-1}`, `field "u" must be a non-negative integer`},
		{`{"f":"1"}`, `field "f" must be a number`},
		{`{"b":1}`, `field "b" must be true or false`},
		{`{"l":{}}`, `field "l" must be a JSON array`},
		{`{"m":[]}`, `field "m" must be a JSON object`},
		{`{"a":{}}`, `field "a" must be a string`},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
		var v body
		e := DecodeJSON(httptest.NewRecorder(), r, 1<<10, "{a}", &v)
		require.NotNil(t, e, c.body)
		assert.Equal(t, http.StatusBadRequest, e.Status, c.body)
		assert.Contains(t, e.Message, c.want, c.body)
		// What "must be a " + the Go type printed.
		for _, goName := range []string{"httpapi.", "a struct", "a int", "a uint", "a float64", "a bool", "a []", "a map["} {
			assert.NotContains(t, e.Message, goName, c.body)
		}
	}
}

func TestServeFailsOnBusyPortAndShutsDown(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	set := componenttest.NewNopTelemetrySettings()
	host := componenttest.NewNopHost()
	ctx := context.Background()

	cfg := confighttp.NewDefaultServerConfig()
	cfg.NetAddr.Endpoint = busy.Addr().String()
	_, err = Serve(ctx, host, &cfg, set, "test", http.NotFoundHandler())
	require.ErrorContains(t, err, "test: listen on")

	cfg.NetAddr.Endpoint = "127.0.0.1:0"
	s, err := Serve(ctx, host, &cfg, set, "test", http.NotFoundHandler())
	require.NoError(t, err)
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(sctx))
}

func TestWriteJSONUnencodableBodyIs500(t *testing.T) {
	// A value JSON cannot hold (a histogram's +Inf max, say) must not
	// become a 200 with an empty body.
	rec := httptest.NewRecorder()
	WriteJSON(rec, zap.NewNop(), http.StatusOK, map[string]any{"max": math.Inf(1)})
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, CodeInternal, decodeError(t, rec).Code)
}
