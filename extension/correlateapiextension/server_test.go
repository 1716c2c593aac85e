package correlateapiextension

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension"

	"github.com/ollystack/ollystack/extension/correlateapiextension/internal/metadata"
	"github.com/ollystack/ollystack/extension/signalstoreextension"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

// testHost hands out extensions like the collector's host does.
type testHost struct {
	extensions map[component.ID]component.Component
}

func (h *testHost) GetExtensions() map[component.ID]component.Component { return h.extensions }

// fakeStoreExtension stands in for the signalstore extension.
type fakeStoreExtension struct {
	component.StartFunc
	component.ShutdownFunc
	store signalstore.Store
}

var _ signalstoreextension.StoreProvider = (*fakeStoreExtension)(nil)

func (f *fakeStoreExtension) Store() (signalstore.Store, error) { return f.store, nil }

// DocumentStore hands out the store's documents when it keeps them.
func (f *fakeStoreExtension) DocumentStore() (signalstore.DocumentStore, error) {
	if d, ok := f.store.(signalstore.DocumentStore); ok {
		return d, nil
	}
	return nil, signalstoreextension.ErrNoDocuments
}

func hostWith(store signalstore.Store) *testHost {
	return &testHost{extensions: map[component.ID]component.Component{
		defaultStore: &fakeStoreExtension{store: store},
	}}
}

func freeEndpoint(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "localhost:0")
	require.NoError(tb, err)
	addr := l.Addr().String()
	require.NoError(tb, l.Close())
	return addr
}

// server is a running extension on a free port.
type server struct {
	baseURL   string
	ext       *correlateAPI
	telemetry *componenttest.Telemetry
	validator *openAPIValidator
}

// startServer starts the extension on a free port against store;
// configure adjusts the default config first.
func startServer(tb testing.TB, host component.Host, configure func(*Config)) *server {
	tb.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.ServerConfig.NetAddr.Endpoint = freeEndpoint(tb)
	if configure != nil {
		configure(cfg)
	}
	require.NoError(tb, cfg.Validate())
	tel := componenttest.NewTelemetry()
	tb.Cleanup(func() { require.NoError(tb, tel.Shutdown(context.Background())) })
	set := extension.Settings{ID: component.NewID(metadata.Type), TelemetrySettings: tel.NewTelemetrySettings()}
	ext, err := createExtension(context.Background(), set, cfg)
	require.NoError(tb, err)
	require.NoError(tb, ext.Start(context.Background(), host))
	tb.Cleanup(func() { require.NoError(tb, ext.Shutdown(context.Background())) })
	baseURL := "http://" + cfg.ServerConfig.NetAddr.Endpoint
	return &server{baseURL: baseURL, ext: ext.(*correlateAPI), telemetry: tel, validator: newOpenAPIValidator(tb, baseURL)}
}

// response is a completed request with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// get requests path and validates the answer against openapi.json.
func (s *server) get(tb testing.TB, path string) response {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, s.baseURL+path, http.NoBody)
	require.NoError(tb, err)
	return s.do(tb, req)
}

func (s *server) do(tb testing.TB, req *http.Request) response {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	r := response{status: resp.StatusCode, header: resp.Header, body: body}
	s.validator.validate(tb, req, r)
	return r
}

func decode[T any](tb testing.TB, r response) T {
	tb.Helper()
	var v T
	require.NoError(tb, json.Unmarshal(r.body, &v), string(r.body))
	return v
}

// openAPIValidator checks real answers against the embedded document.
type openAPIValidator struct {
	doc    *openapi3.T
	router routers.Router
}

func newOpenAPIValidator(tb testing.TB, baseURL string) *openAPIValidator {
	tb.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPIDocument)
	require.NoError(tb, err)
	require.NoError(tb, doc.Validate(context.Background()))
	doc.Servers = openapi3.Servers{{URL: baseURL}}
	router, err := gorillamux.NewRouter(doc)
	require.NoError(tb, err)
	return &openAPIValidator{doc: doc, router: router}
}

// validate checks the response of a routed request against its operation
// (status included), and any other error answer against the Error schema.
func (v *openAPIValidator) validate(tb testing.TB, req *http.Request, r response) {
	tb.Helper()
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		require.GreaterOrEqual(tb, r.status, 400, "unrouted %s answered %d", req.URL, r.status)
		v.validateError(tb, r)
		return
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  r.status,
		Header:  r.header,
		Body:    io.NopCloser(bytes.NewReader(r.body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	require.NoError(tb, openapi3filter.ValidateResponse(context.Background(), input), "%s %d: %s", req.URL, r.status, truncate(r.body))
}

func (v *openAPIValidator) validateError(tb testing.TB, r response) {
	tb.Helper()
	if r.status == http.StatusUnauthorized {
		// Written by confighttp's auth interceptor, not by the API.
		return
	}
	var body any
	require.NoError(tb, json.Unmarshal(r.body, &body), truncate(r.body))
	require.NoError(tb, v.doc.Components.Schemas["Error"].Value.VisitJSON(body), truncate(r.body))
}

func truncate(b []byte) string {
	s := string(b)
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return strings.TrimSpace(s)
}

// waitFor polls cond; the embedded store is read-your-writes, but the
// telemetry pipeline is not synchronous with responses.
func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	require.Eventually(tb, cond, 5*time.Second, 10*time.Millisecond)
}
