package embedded

import (
	"context"
	"math/rand/v2"
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
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	var lat []time.Duration
	spans, logs := 0, 0
	for b.Loop() {
		id := signalstoretest.RandomBenchCorrelationID(rng, fixtureTracesPerWriter)
		start := time.Now()
		ids, err := store.TraceIDsForCorrelation(ctx, id, signalstore.TimeRange{})
		if err != nil || len(ids) != 1 {
			b.Fatalf("trace ids for %s: %v, %v", id, ids, err)
		}
		sp, err := store.SpansByTraceIDs(ctx, ids, signalstore.TimeRange{}, 0)
		if err != nil {
			b.Fatal(err)
		}
		lg, err := store.LogsByTraceIDs(ctx, ids, signalstore.TimeRange{}, 0)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		spans, logs = spans+len(sp), logs+len(lg)
	}
	if spans != 10*b.N || logs != 3*b.N {
		b.Fatalf("read %d spans and %d logs over %d lookups; want 10 and 3 per lookup", spans, logs, b.N)
	}
	signalstoretest.ReportLatencies(b, lat)
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
			q := signalstore.Query{
				Signal: signalstore.SignalSpans,
				Start:  f.End.Add(-window.span), End: f.End,
				Filters: window.filters,
				GroupBy: []signalstore.GroupBy{{Field: signalstore.FieldServiceName}},
				Aggregations: []signalstore.Aggregation{
					{Func: signalstore.AggP95, Field: signalstore.FieldDuration}, {Func: signalstore.AggCount},
				},
			}
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				res, err := store.Query(context.Background(), q)
				if err != nil || len(res.Rows) != len(signalstoretest.BenchServices) {
					b.Fatalf("query: %v rows, %v", res, err)
				}
				lat = append(lat, time.Since(start))
			}
			signalstoretest.ReportLatencies(b, lat)
		})
	}
}

// BenchmarkServiceEdges1M reads the service map of the fixture's last hour
// from the edge rollup.
func BenchmarkServiceEdges1M(b *testing.B) {
	store, f := openFixture(b)
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		edges, err := store.ServiceEdges(context.Background(), signalstore.TimeRange{Start: f.End.Add(-time.Hour), End: f.End})
		if err != nil || len(edges) != len(signalstoretest.BenchServices)-1 {
			b.Fatalf("edges: %v, %v", edges, err)
		}
		lat = append(lat, time.Since(start))
	}
	signalstoretest.ReportLatencies(b, lat)
}
