package correlateapiextension

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ollystack/ollystack/extension/correlateapiextension/internal/metadata"
	"github.com/ollystack/ollystack/extension/signalstoreextension"
	"github.com/ollystack/ollystack/internal/httpapi"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

func TestStoreClosedGets503(t *testing.T) {
	srv, sc, store := startScenario(t, time.Now().Add(-time.Minute), nil)
	require.NoError(t, store.(interface{ Close() error }).Close())
	r := srv.get(t, "/api/v1/correlate/"+sc.id)
	require.Equal(t, http.StatusServiceUnavailable, r.status, string(r.body))
	assert.Equal(t, httpapi.CodeUnavailable, decode[errorBody](t, r).Error.Code)
}

// blockingStore never answers before the request's deadline.
type blockingStore struct{ signalstore.Store }

func (blockingStore) TraceIDsForCorrelation(ctx context.Context, _ string, _ signalstore.TimeRange) ([]signalstore.TraceID, error) {
	<-ctx.Done()
	return nil, errors.New("interrupted")
}

func (blockingStore) RecentCorrelations(ctx context.Context, _ signalstore.CorrelationFilter) ([]signalstore.CorrelationSummary, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestSlowStoreGets504(t *testing.T) {
	srv := startServer(t, hostWith(blockingStore{Store: openStore(t)}), func(cfg *Config) {
		cfg.RequestTimeout = 50 * time.Millisecond
	})
	for _, path := range []string{"/api/v1/correlate/olly-slow", "/api/v1/correlations"} {
		r := srv.get(t, path)
		require.Equal(t, http.StatusGatewayTimeout, r.status, string(r.body))
		assert.Equal(t, httpapi.CodeTimeout, decode[errorBody](t, r).Error.Code)
	}
}

// TestSlowStoreGets504PastWriteTimeout: a request_timeout longer than the
// server's write_timeout still ends in a 504, not in a connection the server
// dropped: the handler extends the write deadline to its own timeout.
func TestSlowStoreGets504PastWriteTimeout(t *testing.T) {
	srv := startServer(t, hostWith(blockingStore{Store: openStore(t)}), func(cfg *Config) {
		cfg.ServerConfig.WriteTimeout = 100 * time.Millisecond
		cfg.RequestTimeout = 400 * time.Millisecond
	})
	r := srv.get(t, "/api/v1/correlate/olly-slow")
	require.Equal(t, http.StatusGatewayTimeout, r.status, string(r.body))
}

// panickingStore stands for a backend bug.
type panickingStore struct{ signalstore.Store }

func (panickingStore) ServiceEdges(context.Context, signalstore.TimeRange) ([]signalstore.ServiceEdge, error) {
	panic("backend bug")
}

func TestPanicBecomes500(t *testing.T) {
	srv := startServer(t, hostWith(panickingStore{Store: openStore(t)}), nil)
	r := srv.get(t, "/api/v1/services")
	require.Equal(t, http.StatusInternalServerError, r.status)
	assert.Equal(t, httpapi.CodeInternal, decode[errorBody](t, r).Error.Code)
	// The server survives.
	assert.Equal(t, http.StatusOK, srv.get(t, "/api/v1/openapi.json").status)
}

// tokenAuth accepts one bearer token, like bearertokenauth.
type tokenAuth struct {
	component.StartFunc
	component.ShutdownFunc
}

func (tokenAuth) Authenticate(ctx context.Context, sources map[string][]string) (context.Context, error) {
	for _, v := range sources["Authorization"] {
		if v == "Bearer s3cret" {
			return ctx, nil
		}
	}
	return ctx, errors.New("missing or wrong token")
}

func TestAuthRequired(t *testing.T) {
	host := hostWith(openStore(t))
	authID := component.MustNewID("bearertokenauth")
	host.extensions[authID] = tokenAuth{}
	srv := startServer(t, host, func(cfg *Config) {
		cfg.ServerConfig.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: authID}})
	})
	r := srv.get(t, "/api/v1/correlations")
	assert.Equal(t, http.StatusUnauthorized, r.status)

	req, err := http.NewRequest(http.MethodGet, srv.baseURL+"/api/v1/correlations", http.NoBody)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer s3cret")
	assert.Equal(t, http.StatusOK, srv.do(t, req).status)
}

func addLog(t *testing.T, store signalstore.Writer, sc *scenario) {
	t.Helper()
	require.NoError(t, store.WriteLogs(context.Background(), sc.logs(logDef{
		service: "orders", trace: sc.traceA, span: sc.ordersSrv, ms: 40, severity: plog.SeverityNumberInfo, body: "late log",
	})))
}

func TestCacheServesOnlyQuietCorrelations(t *testing.T) {
	t.Run("quiet correlation is cached", func(t *testing.T) {
		srv, sc, store := startScenario(t, time.Now().Add(-time.Hour), nil)
		first := decode[correlatedContext](t, srv.get(t, "/api/v1/correlate/"+sc.id))
		addLog(t, store, sc)
		second := decode[correlatedContext](t, srv.get(t, "/api/v1/correlate/"+sc.id))
		assert.Equal(t, first.Summary.LogCount, second.Summary.LogCount, "answered from the cache")
	})
	t.Run("fresh correlation is never cached", func(t *testing.T) {
		srv, sc, store := startScenario(t, time.Now().Add(-time.Minute), nil)
		first := decode[correlatedContext](t, srv.get(t, "/api/v1/correlate/"+sc.id))
		addLog(t, store, sc)
		second := decode[correlatedContext](t, srv.get(t, "/api/v1/correlate/"+sc.id))
		assert.Equal(t, first.Summary.LogCount+1, second.Summary.LogCount)
	})
	t.Run("truncated answer is never cached", func(t *testing.T) {
		// The limits keep the earliest spans: those kept are an hour old,
		// the span ending now is cut, and the correlation only looks quiet.
		srv, sc, store := startScenario(t, time.Now().Add(-time.Hour), func(cfg *Config) { cfg.Limits.MaxSpans = 2 })
		nowMs := int(time.Since(sc.base).Milliseconds())
		require.NoError(t, store.WriteTraces(context.Background(), sc.traces(spanDef{
			service: "orders", trace: sc.traceA, id: signalstore.SpanID{0xa1, 0, 0, 0, 0, 0, 0, 4}, parent: sc.ordersSrv,
			name: "orders retry", startMs: nowMs - 10, durMs: 10, corr: sc.id,
		})))
		first := decode[correlatedContext](t, srv.get(t, "/api/v1/correlate/"+sc.id))
		require.True(t, first.Truncated.Spans)
		addLog(t, store, sc)
		second := decode[correlatedContext](t, srv.get(t, "/api/v1/correlate/"+sc.id))
		assert.Equal(t, first.Summary.LogCount+1, second.Summary.LogCount, "read fresh, not from the cache")
	})
	t.Run("ttl expires cached answers", func(t *testing.T) {
		srv, sc, store := startScenario(t, time.Now().Add(-time.Hour), nil)
		// The handlers read the clock on server goroutines.
		var skew atomic.Int64
		srv.ext.api.now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		first := decode[correlatedContext](t, srv.get(t, "/api/v1/correlate/"+sc.id))
		addLog(t, store, sc)
		skew.Store(int64(11 * time.Minute))
		second := decode[correlatedContext](t, srv.get(t, "/api/v1/correlate/"+sc.id))
		assert.Equal(t, first.Summary.LogCount+1, second.Summary.LogCount)
	})
}

func TestSelfTelemetry(t *testing.T) {
	srv, sc, _ := startScenario(t, time.Now().Add(-time.Minute), nil)
	srv.get(t, "/api/v1/correlate/"+sc.id)
	srv.get(t, "/api/v1/correlate/"+sc.id)
	srv.get(t, "/api/v1/correlate/..")

	requests, err := srv.telemetry.GetMetric(metadata.MetricRequests)
	require.NoError(t, err)
	sum := requests.Data.(metricdata.Sum[int64])
	counts := map[int64]int64{}
	for _, dp := range sum.DataPoints {
		route, _ := dp.Attributes.Value("route")
		assert.Equal(t, routeCorrelate, route.AsString())
		status, _ := dp.Attributes.Value("http.response.status_code")
		counts[status.AsInt64()] += dp.Value
	}
	assert.Equal(t, map[int64]int64{200: 2, 400: 1}, counts)

	latency, err := srv.telemetry.GetMetric(metadata.MetricRequestDuration)
	require.NoError(t, err)
	var recorded uint64
	for _, dp := range latency.Data.(metricdata.Histogram[float64]).DataPoints {
		recorded += dp.Count
	}
	assert.Equal(t, uint64(3), recorded)
}

func TestBusyPortFailsStart(t *testing.T) {
	store := openStore(t)
	first := startServer(t, hostWith(store), nil)

	cfg := createDefaultConfig().(*Config)
	cfg.ServerConfig.NetAddr.Endpoint = first.baseURL[len("http://"):]
	set := extension.Settings{ID: component.NewID(metadata.Type), TelemetrySettings: componenttest.NewNopTelemetrySettings()}
	ext, err := createExtension(context.Background(), set, cfg)
	require.NoError(t, err)
	err = ext.Start(context.Background(), hostWith(store))
	require.ErrorContains(t, err, "listen on")
	require.NoError(t, ext.Shutdown(context.Background()))
}

func TestStartFailsWithoutStore(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.ServerConfig.NetAddr.Endpoint = freeEndpoint(t)
	set := extension.Settings{ID: component.NewID(metadata.Type), TelemetrySettings: componenttest.NewNopTelemetrySettings()}
	ext, err := createExtension(context.Background(), set, cfg)
	require.NoError(t, err)

	err = ext.Start(context.Background(), componenttest.NewNopHost())
	require.ErrorIs(t, err, signalstoreextension.ErrNotFound)

	wrongType := &testHost{extensions: map[component.ID]component.Component{defaultStore: tokenAuth{}}}
	err = ext.Start(context.Background(), wrongType)
	require.ErrorIs(t, err, signalstoreextension.ErrWrongType)
	require.NoError(t, ext.Shutdown(context.Background()))
}
