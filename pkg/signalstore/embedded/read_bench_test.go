package embedded

import (
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
	"github.com/ollystack/ollystack/pkg/signalstore/signalstoretest"
)

// BenchmarkCorrelationLookup1M resolves one correlation id to its traces,
// their spans and their logs — what /api/v1/correlate/{id} reads — on the
// 1,000,000-span fixture, for random ids.
//
//	go test -run '^$' -bench BenchmarkCorrelationLookup1M -benchtime 2000x ./embedded/
func BenchmarkCorrelationLookup1M(b *testing.B) {
	store, _ := openFixture(b)
	signalstoretest.BenchCorrelationLookup(b, store, fixtureTracesPerWriter)
}

// BenchmarkQueryP95ByService1M runs the typed query "p95 latency and count
// by service" on the 1,000,000-span fixture, over its last hour (~250,000
// spans) and over all 4 hours, answered from the span rollup; and, for
// comparison, the same last hour with a filter the rollup cannot answer,
// which forces the SQL scan with exact percentiles.
//
//	go test -run '^$' -bench 'BenchmarkQueryP95ByService1M/(last1h|all4h)$' -benchtime 200x ./embedded/
//	go test -run '^$' -bench 'BenchmarkQueryP95ByService1M/last1h-scan' -benchtime 5x ./embedded/
func BenchmarkQueryP95ByService1M(b *testing.B) {
	store, f := openFixture(b)
	forceScan := []signalstore.Filter{{Field: signalstore.FieldDuration, Op: signalstore.OpGte, Value: "0"}}
	for _, window := range []struct {
		name    string
		span    time.Duration
		filters []signalstore.Filter
	}{{"last1h", time.Hour, nil}, {"all4h", signalstoretest.BenchSpan, nil}, {"last1h-scan", time.Hour, forceScan}} {
		b.Run(window.name, func(b *testing.B) {
			signalstoretest.BenchQueryP95ByService(b, store, f.End, window.span, window.filters)
		})
	}
}

// BenchmarkServiceEdges1M reads the service map of the fixture's last hour
// from the edge rollup.
func BenchmarkServiceEdges1M(b *testing.B) {
	store, f := openFixture(b)
	signalstoretest.BenchServiceEdges(b, store, f.End)
}
