package aiextension

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkAnalyze measures POST /api/v1/ai/analyze end to end over HTTP on
// the shop fixture (3 services, 30 healthy requests as baseline), without a
// model.
func BenchmarkAnalyze(b *testing.B) {
	for _, kind := range []string{analysisRCA, analysisComparison, analysisAnomaly} {
		b.Run(kind, func(b *testing.B) {
			store := openStore(b)
			s := newShop(time.Now())
			s.write(b, store)
			srv := startServer(b, hostWith(store), nil)
			body := []byte(`{"correlation_id":"` + s.failID + `","analysis_type":"` + kind + `"}`)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := http.Post(srv.baseURL+routeAnalyze, "application/json", bytes.NewReader(body))
				require.NoError(b, err)
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				require.Equal(b, http.StatusOK, resp.StatusCode)
			}
		})
	}
}
