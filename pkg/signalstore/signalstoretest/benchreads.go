package signalstoretest

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// The read benchmarks every backend runs on the workload of BenchBatches
// (tracesPerWriter traces per writer, ending at end), so their figures
// compare. Each reports p50/p95/p99 in milliseconds.

// BenchCorrelationLookup resolves random correlation ids to their traces,
// spans and logs, what /api/v1/correlate/{id} reads.
func BenchCorrelationLookup(b *testing.B, r signalstore.Reader, tracesPerWriter int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	var lat []time.Duration
	spans, logs := 0, 0
	for b.Loop() {
		id := RandomBenchCorrelationID(rng, tracesPerWriter)
		start := time.Now()
		ids, err := r.TraceIDsForCorrelation(ctx, id, signalstore.TimeRange{})
		if err != nil || len(ids) != 1 {
			b.Fatalf("trace ids for %s: %v, %v", id, ids, err)
		}
		sp, err := r.SpansByTraceIDs(ctx, ids, signalstore.TimeRange{}, 0)
		if err != nil {
			b.Fatal(err)
		}
		lg, err := r.LogsByTraceIDs(ctx, ids, signalstore.TimeRange{}, 0)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		spans, logs = spans+len(sp), logs+len(lg)
	}
	if spans != BenchSpansPerTrace*b.N || logs != BenchLogsPerTrace*b.N {
		b.Fatalf("read %d spans and %d logs over %d lookups; want %d and %d per lookup",
			spans, logs, b.N, BenchSpansPerTrace, BenchLogsPerTrace)
	}
	ReportLatencies(b, lat)
}

// BenchQueryP95ByService runs the typed query "p95 latency and count by
// service" over the window of the given length ending at end, with the
// given filters.
func BenchQueryP95ByService(b *testing.B, r signalstore.Reader, end time.Time, window time.Duration, filters []signalstore.Filter) {
	q := signalstore.Query{
		Signal: signalstore.SignalSpans,
		Start:  end.Add(-window), End: end,
		Filters: filters,
		GroupBy: []signalstore.GroupBy{{Field: signalstore.FieldServiceName}},
		Aggregations: []signalstore.Aggregation{
			{Func: signalstore.AggP95, Field: signalstore.FieldDuration}, {Func: signalstore.AggCount},
		},
	}
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		res, err := r.Query(context.Background(), q)
		if err != nil || len(res.Rows) != len(BenchServices) {
			b.Fatalf("query: %v rows, %v", res, err)
		}
		lat = append(lat, time.Since(start))
	}
	ReportLatencies(b, lat)
}

// BenchServiceEdges reads the service map of the hour before end.
func BenchServiceEdges(b *testing.B, r signalstore.Reader, end time.Time) {
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		edges, err := r.ServiceEdges(context.Background(), signalstore.TimeRange{Start: end.Add(-time.Hour), End: end})
		if err != nil || len(edges) != len(BenchServices)-1 {
			b.Fatalf("edges: %v, %v", edges, err)
		}
		lat = append(lat, time.Since(start))
	}
	ReportLatencies(b, lat)
}
