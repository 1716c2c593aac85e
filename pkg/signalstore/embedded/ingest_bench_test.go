package embedded

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/ollystack/ollystack/pkg/signalstore/signalstoretest"
)

// BenchmarkWriteTraces measures sustained ingest through WriteTraces: each
// op writes 100 batches of 1,000 spans (100 traces × 10 spans) from four
// concurrent writers (the exporter's sending queue runs several consumers),
// into a store that keeps growing across ops. Generating the pdata happens
// outside the timer; encoding it is part of WriteTraces and is measured.
//
//	go test -run '^$' -bench BenchmarkWriteTraces -benchtime 10x ./embedded/
func BenchmarkWriteTraces(b *testing.B) {
	store := openTestStore(b)
	const writers, batchesPerWriter, tracesPerBatch = 4, 25, 100
	gens := []*signalstoretest.BenchGen{signalstoretest.NewBenchGen(1), signalstoretest.NewBenchGen(2), signalstoretest.NewBenchGen(3), signalstoretest.NewBenchGen(4)}
	ctx := context.Background()
	spans := 0
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		now := time.Now()
		batches := make([][]ptrace.Traces, writers)
		for w := range writers {
			for range batchesPerWriter {
				batches[w] = append(batches[w], gens[w].Batch(tracesPerBatch, now.Add(-2*time.Second), now, plog.Logs{}))
			}
		}
		b.StartTimer()
		cpuBefore := processCPU()
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for _, td := range batches[w] {
					if err := store.WriteTraces(ctx, td); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		cpu += processCPU() - cpuBefore
		spans += writers * batchesPerWriter * tracesPerBatch * 10
	}
	b.ReportMetric(float64(spans)/b.Elapsed().Seconds(), "spans/s")
	// CPU per span does not depend on what else the machine runs, unlike
	// spans/s on a shared box.
	b.ReportMetric(float64(cpu.Microseconds())/float64(spans), "cpu-µs/span")
}
