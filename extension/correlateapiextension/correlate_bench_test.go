package correlateapiextension

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// benchBackground is the number of unrelated spans (and as many logs) in
// the store. The figure is 1,000,000; populating that takes minutes
// on a shared machine, so the default is smaller and
// OLLYSTACK_BENCH_BACKGROUND=1000000 runs the full size.
func benchBackground(b *testing.B) int {
	if v := os.Getenv("OLLYSTACK_BENCH_BACKGROUND"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(b, err)
		return n
	}
	return 100_000
}

func benchTraceID(n uint64) signalstore.TraceID {
	var id signalstore.TraceID
	id[0] = 0xbe
	binary.BigEndian.PutUint64(id[8:], n)
	return id
}

func benchSpanID(n uint64) signalstore.SpanID {
	var id signalstore.SpanID
	binary.BigEndian.PutUint64(id[:], n|1<<63)
	return id
}

// writeBenchTraces writes traces of 10 spans and 10 logs each, every trace
// with its own correlation id, in batches like an exporter's.
func writeBenchTraces(b *testing.B, w signalstore.Writer, base time.Time, firstTrace, traces, spansPerTrace, logsPerTrace int, corr func(int) string) {
	const batchTraces = 500
	ctx := context.Background()
	for start := firstTrace; start < firstTrace+traces; start += batchTraces {
		td := ptrace.NewTraces()
		ld := plog.NewLogs()
		for t := start; t < min(start+batchTraces, firstTrace+traces); t++ {
			traceID := benchTraceID(uint64(t))
			at := base.Add(time.Duration(t) * time.Millisecond)
			service := "svc-" + strconv.Itoa(t%7)
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", service)
			spans := rs.ScopeSpans().AppendEmpty().Spans()
			for s := range spansPerTrace {
				sp := spans.AppendEmpty()
				sp.SetTraceID(pcommon.TraceID(traceID))
				sp.SetSpanID(pcommon.SpanID(benchSpanID(uint64(t*1000 + s))))
				if s > 0 {
					sp.SetParentSpanID(pcommon.SpanID(benchSpanID(uint64(t * 1000))))
				}
				sp.SetName("op-" + strconv.Itoa(s%5))
				sp.SetKind(ptrace.SpanKindServer)
				sp.SetStartTimestamp(pcommon.NewTimestampFromTime(at.Add(time.Duration(s) * time.Millisecond)))
				sp.SetEndTimestamp(pcommon.NewTimestampFromTime(at.Add(time.Duration(s+2) * time.Millisecond)))
				sp.Attributes().PutStr(signalstore.DefaultCorrelationAttribute, corr(t))
				sp.Attributes().PutStr("http.route", "/api/items/{id}")
			}
			rl := ld.ResourceLogs().AppendEmpty()
			rl.Resource().Attributes().PutStr("service.name", service)
			logs := rl.ScopeLogs().AppendEmpty().LogRecords()
			for l := range logsPerTrace {
				lr := logs.AppendEmpty()
				lr.SetTimestamp(pcommon.NewTimestampFromTime(at.Add(time.Duration(l) * time.Microsecond)))
				lr.SetTraceID(pcommon.TraceID(traceID))
				lr.SetSpanID(pcommon.SpanID(benchSpanID(uint64(t*1000 + l%spansPerTrace))))
				lr.SetSeverityNumber(plog.SeverityNumberInfo)
				lr.Body().SetStr("handled item " + strconv.Itoa(l))
			}
		}
		require.NoError(b, w.WriteTraces(ctx, td))
		require.NoError(b, w.WriteLogs(ctx, ld))
	}
}

// BenchmarkCorrelate measures GET /api/v1/correlate/{id} over HTTP for a
// correlation of 50 spans and 200 logs (two traces) in a store holding
// benchBackground spans and logs of other requests. The cache is off, so
// every request reads the store.
func BenchmarkCorrelate(b *testing.B) {
	store := openStore(b)
	base := time.Now().Add(-2 * time.Hour)
	background := benchBackground(b)
	started := time.Now()
	writeBenchTraces(b, store, base, 0, background/10, 10, 10, func(t int) string { return "bg-" + strconv.Itoa(t) })
	const target = "olly-bench-target"
	writeBenchTraces(b, store, base, background/10, 2, 25, 100, func(int) string { return target })
	b.Logf("populated %d background spans and logs in %s", background, time.Since(started).Round(time.Second))

	srv := startServer(b, hostWith(store), func(cfg *Config) { cfg.Cache.MaxEntries = 0 })
	url := srv.baseURL + "/api/v1/correlate/" + target
	get := func() {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	first := decode[correlatedContext](b, srv.get(b, "/api/v1/correlate/"+target))
	require.Equal(b, 50, first.Summary.SpanCount)
	require.Equal(b, 200, first.Summary.LogCount)

	b.Run(fmt.Sprintf("background=%d", background), func(b *testing.B) {
		latencies := make([]time.Duration, 0, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			get()
			latencies = append(latencies, time.Since(start))
		}
		b.StopTimer()
		slices.Sort(latencies)
		b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	})
}
