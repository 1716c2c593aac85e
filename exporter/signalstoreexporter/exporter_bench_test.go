//go:build unix

package signalstoreexporter

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// BenchmarkIngestTraces measures sustained span ingest through the whole
// exporter path with the default config (queue of 10 consumers, retry,
// timeout) into the embedded store owned by a real extension, with fsync on
// every commit (sync: full). Each op sends 100 batches of 1,000 spans
// (100 traces × 10 spans, three services, a correlation id per trace) from
// one goroutine, as the batch processor would, and waits until the store
// has acknowledged all of them. Batches are built outside the timer.
//
// Besides spans/s (wall clock, which depends on how much CPU the machine
// leaves the benchmark) it reports cpu-µs/span: the process's CPU time per
// span, including batch building, which stays comparable on a busy machine.
//
//	go test -run '^$' -bench BenchmarkIngestTraces -benchtime 10x
func BenchmarkIngestTraces(b *testing.B) {
	_, real := startStoreExtension(b)
	counting := &flakyStore{Store: real}
	host := hostWith{defaultStoreID: fakeProvider{store: counting}}
	ctx := context.Background()
	exp, err := NewFactory().CreateTraces(ctx, nopSettings(), createDefaultConfig())
	mustStart(b, exp, err, host)

	const batchesPerOp, tracesPerBatch = 100, 100
	var gen spanGen
	sent := int64(0)
	cpuStart := processCPU(b)
	for b.Loop() {
		b.StopTimer()
		batches := make([]ptrace.Traces, batchesPerOp)
		for i := range batches {
			batches[i], _ = gen.traces(tracesPerBatch)
		}
		runtime.GC()
		b.StartTimer()
		for _, td := range batches {
			sent += int64(td.SpanCount())
			require.NoError(b, exp.ConsumeTraces(ctx, td))
		}
		for counting.written.Load() < sent {
			time.Sleep(100 * time.Microsecond)
		}
	}
	b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64((processCPU(b)-cpuStart).Microseconds())/float64(sent), "cpu-µs/span")
}

// processCPU is the user and system CPU time the process has used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
