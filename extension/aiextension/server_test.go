package aiextension

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension"

	"github.com/ollystack/ollystack/extension/aiextension/internal/metadata"
	"github.com/ollystack/ollystack/extension/signalstoreextension"
	"github.com/ollystack/ollystack/internal/httpapi"
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

// DocumentStore hands out the store's documents when it keeps them, like
// the signalstore extension; a fake without them makes the extension keep
// its documents in memory.
func (f *fakeStoreExtension) DocumentStore() (signalstore.DocumentStore, error) {
	if d, ok := f.store.(signalstore.DocumentStore); ok {
		return d, nil
	}
	return nil, signalstoreextension.ErrNoDocuments
}

// errorBody is the JSON error shape of every non-2xx answer.
type errorBody struct {
	Error *httpapi.Error `json:"error"`
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
	ext       *aiExtension
	telemetry *componenttest.Telemetry
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
	return &server{baseURL: "http://" + cfg.ServerConfig.NetAddr.Endpoint, ext: ext.(*aiExtension), telemetry: tel}
}

// response is a completed request with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (s *server) post(tb testing.TB, body string) response {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, s.baseURL+routeAnalyze, bytes.NewBufferString(body))
	require.NoError(tb, err)
	req.Header.Set("Content-Type", "application/json")
	return s.do(tb, req)
}

func (s *server) analyze(tb testing.TB, id, kind string) analyzeResponse {
	tb.Helper()
	r := s.post(tb, `{"correlation_id":"`+id+`","analysis_type":"`+kind+`"}`)
	require.Equal(tb, http.StatusOK, r.status, string(r.body))
	return decode[analyzeResponse](tb, r)
}

func (s *server) do(tb testing.TB, req *http.Request) response {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

func decode[T any](tb testing.TB, r response) T {
	tb.Helper()
	var v T
	require.NoError(tb, json.Unmarshal(r.body, &v), string(r.body))
	return v
}

// waitFor polls cond; the telemetry pipeline is not synchronous with
// responses.
func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	require.Eventually(tb, cond, 5*time.Second, 10*time.Millisecond)
}
