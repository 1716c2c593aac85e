package correlateapiextension

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/ollystack/ollystack/internal/httpapi"
	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/pkg/signalstore/embedded"
)

func TestAIInsightsShowTheLatestAnalysis(t *testing.T) {
	srv, sc, store := startScenario(t, time.Now().Add(-time.Minute), nil)
	docs := store.(signalstore.DocumentStore)
	get := func() aiInsights {
		r := srv.get(t, "/api/v1/correlate/"+sc.id)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		return decode[correlatedContext](t, r).AIInsights
	}
	assert.Equal(t, aiInsights{Hypotheses: []any{}}, get(), "no analysis yet")

	put := func(body string, at time.Time) {
		require.NoError(t, docs.PutDocument(context.Background(), signalstore.Document{
			Kind: signalstore.DocumentKindAnalysis, ID: sc.id, Ref: sc.id, Updated: at, Body: []byte(body),
		}))
	}
	at := time.Now().UTC().Truncate(time.Second)
	put(`{"analysis_type":"rca","analyzed_at":"`+at.Format(time.RFC3339)+`","root_cause":"errors originate in service \"payments\"",`+
		`"confidence":0.9,"summary":"s","source":"template","hypotheses":[{"id":"h1","kind":"error_origin","service":"payments"}]}`, at)
	// The answer is cached once the correlation is quiet; insights are not.
	in := get()
	assert.Equal(t, "rca", in.AnalysisType)
	assert.Equal(t, at, in.AnalyzedAt)
	assert.InDelta(t, 0.9, in.Confidence, 1e-9)
	require.Len(t, in.Hypotheses, 1)

	put(`{"analysis_type":"comparison","hypotheses":[]}`, at.Add(time.Second))
	assert.Equal(t, "comparison", get().AnalysisType, "a newer analysis replaces the older")

	put(`[1,2]`, at.Add(2*time.Second))
	assert.Equal(t, aiInsights{Hypotheses: []any{}}, get(), "a malformed document gives empty insights, not a failed answer")
}

func TestAIInsightsWithoutDocuments(t *testing.T) {
	// Embedding the interface hides the embedded store's DocumentStore methods.
	srv := startServer(t, hostWith(struct{ signalstore.Store }{openStore(t)}), nil)
	assert.Nil(t, srv.ext.api.docs)
}

func TestMountServesAnotherExtensionsRoutes(t *testing.T) {
	srv := startServer(t, hostWith(openStore(t)), nil)
	unmount, err := srv.ext.Mount("/api/v1/ai/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpapi.WriteError(w, zap.NewNop(), httpapi.NotFound("mounted"))
	}))
	require.NoError(t, err)
	r := srv.get(t, "/api/v1/ai/analyze")
	assert.Contains(t, string(r.body), "mounted")
	assert.Equal(t, http.StatusOK, srv.get(t, "/api/v1/openapi.json").status, "own routes unaffected")
	_, err = srv.ext.Mount("/api/v1/ai/", http.NotFoundHandler())
	assert.ErrorContains(t, err, "already mounted")
	unmount()
	r = srv.get(t, "/api/v1/ai/analyze")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Contains(t, string(r.body), "no such endpoint")
}

// deadlineStore records the deadlines the API gives its store reads.
type deadlineStore struct {
	*embedded.Store
	mu              sync.Mutex
	reads, insights time.Time
}

func (d *deadlineStore) TraceIDsForCorrelation(ctx context.Context, id string, tr signalstore.TimeRange) ([]signalstore.TraceID, error) {
	d.mu.Lock()
	d.reads, _ = ctx.Deadline()
	d.mu.Unlock()
	return d.Store.TraceIDsForCorrelation(ctx, id, tr)
}

func (d *deadlineStore) ListDocuments(ctx context.Context, f signalstore.DocumentFilter) ([]signalstore.Document, error) {
	d.mu.Lock()
	d.insights, _ = ctx.Deadline()
	d.mu.Unlock()
	return d.Store.ListDocuments(ctx, f)
}

// TestInsightsShareTheRequestTimeout: request_timeout bounds the store reads
// of one request, the insights read included; a fresh timeout for it let an
// answer take twice request_timeout, past the server's write_timeout.
func TestInsightsShareTheRequestTimeout(t *testing.T) {
	store := &deadlineStore{Store: openStore(t)}
	sc := newScenario(time.Now().Add(-time.Minute))
	sc.write(t, store)
	srv := startServer(t, hostWith(store), func(cfg *Config) { cfg.Cache.MaxEntries = 0 })
	r := srv.get(t, "/api/v1/correlate/"+sc.id)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	store.mu.Lock()
	defer store.mu.Unlock()
	require.False(t, store.reads.IsZero() || store.insights.IsZero(), "both reads have a deadline")
	assert.False(t, store.insights.After(store.reads), "insights deadline %s is after the reads' %s",
		store.insights.Format(time.RFC3339Nano), store.reads.Format(time.RFC3339Nano))
}
