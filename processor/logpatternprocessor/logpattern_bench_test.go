package logpatternprocessor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/ollystack/ollystack/processor/logpatternprocessor/internal/metadata"
)

// benchLine returns a realistic line of one of 12 event types, with varying
// ids, addresses, durations and paths.
func benchLine(r *rand.Rand) string {
	switch r.IntN(12) {
	case 0:
		return fmt.Sprintf("GET /api/v1/orders/%d HTTP/1.1 200 %d bytes in %dms", r.IntN(1e6), r.IntN(9e4), r.IntN(900))
	case 1:
		return fmt.Sprintf("user %d logged in from 10.%d.%d.%d:%d", r.IntN(1e5), r.IntN(255), r.IntN(255), r.IntN(255), 1024+r.IntN(6e4))
	case 2:
		return fmt.Sprintf("connection pool exhausted: active=%d idle=0 waiting=%d", 40+r.IntN(20), r.IntN(50))
	case 3:
		return fmt.Sprintf("payment %08x declined for card ending %04d: insufficient funds", r.Uint32(), r.IntN(1e4))
	case 4:
		return fmt.Sprintf("cache miss for key session:%016x, loading from db took %d.%03ds", r.Uint64(), r.IntN(3), r.IntN(1000))
	case 5:
		return fmt.Sprintf("retrying request %d to inventory-service (attempt %d of 5) after %dms", r.IntN(1e6), 1+r.IntN(5), 100*r.IntN(10))
	case 6:
		return fmt.Sprintf("wrote %d rows to /var/lib/data/part-%05d.parquet in %dms", r.IntN(1e5), r.IntN(1e5), r.IntN(2000))
	case 7:
		return fmt.Sprintf("trace %032x span %016x exceeded SLO by %dms", r.Uint64(), r.Uint64(), r.IntN(500))
	case 8:
		return fmt.Sprintf("kafka consumer group orders rebalanced: partitions=%d generation=%d", r.IntN(64), r.IntN(1e4))
	case 9:
		return fmt.Sprintf("scheduled job cleanup-%d finished, removed %d expired sessions", r.IntN(10), r.IntN(1e4))
	case 10:
		return fmt.Sprintf("TLS handshake with 192.168.%d.%d failed: certificate expired on 2026-%02d-%02d", r.IntN(255), r.IntN(255), 1+r.IntN(12), 1+r.IntN(28))
	default:
		return fmt.Sprintf(`{"level":"info","msg":"order placed","order_id":"%08x","items":%d}`, r.Uint32(), 1+r.IntN(9))
	}
}

// benchBatch returns 1,000 records over 5 services, 200 a service.
func benchBatch() plog.Logs {
	r := rand.New(rand.NewPCG(1, 2))
	ld := plog.NewLogs()
	for s := range 5 {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", fmt.Sprintf("service-%d", s))
		records := rl.ScopeLogs().AppendEmpty().LogRecords()
		for range 200 {
			lr := records.AppendEmpty()
			lr.SetTimestamp(1)
			lr.Attributes().PutStr("thread", "main")
			lr.Body().SetStr(benchLine(r))
		}
	}
	return ld
}

func newBenchProcessor(b *testing.B) *logPatternProcessor {
	b.Helper()
	set := processortest.NewNopSettings(metadata.Type)
	p, err := newLogPatternProcessor(set.TelemetrySettings, set.ID, defaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	if err := p.start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.shutdown(context.Background()) })
	// Learn the templates first: steady state, as in a running collector.
	if _, err := p.processLogs(context.Background(), benchBatch()); err != nil {
		b.Fatal(err)
	}
	p.now = func() time.Time { return time.Unix(1_800_000_000, 0) }
	return p
}

// BenchmarkProcessLogs: one 1,000-record batch per op; copying the batch is
// not timed. cpu-ns/record is the thread's CPU time, steadier than wall time
// on a shared machine.
func BenchmarkProcessLogs(b *testing.B) {
	p := newBenchProcessor(b)
	src := benchBatch()
	ld := plog.NewLogs()
	ctx := context.Background()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu time.Duration
	cpuMeasured := true
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		src.CopyTo(ld)
		before, ok1 := threadCPUTime()
		b.StartTimer()
		if _, err := p.processLogs(ctx, ld); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		after, ok2 := threadCPUTime()
		cpu += after - before
		cpuMeasured = cpuMeasured && ok1 && ok2
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/record")
	if cpuMeasured {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/1000, "cpu-ns/record")
	}
}

// BenchmarkMinerFloor mines the same 1,000 messages with the miners alone: the
// part of BenchmarkProcessLogs that is not the processor's own.
func BenchmarkMinerFloor(b *testing.B) {
	p := newBenchProcessor(b)
	type line struct {
		service, msg string
	}
	var lines []line
	rls := benchBatch().ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		service := serviceName(rls.At(i).Resource())
		records := rls.At(i).ScopeLogs().At(0).LogRecords()
		for k := 0; k < records.Len(); k++ {
			lines = append(lines, line{service, records.At(k).Body().Str()})
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, ok1 := threadCPUTime()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, l := range lines {
			p.miners.get(l.service).Add(l.msg)
		}
	}
	b.StopTimer()
	after, ok2 := threadCPUTime()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/record")
	if ok1 && ok2 {
		b.ReportMetric(float64((after-before).Nanoseconds())/float64(b.N)/1000, "cpu-ns/record")
	}
}

// BenchmarkProcessLogsParallel measures contention: concurrent batches of
// the same services share their miners' locks.
func BenchmarkProcessLogsParallel(b *testing.B) {
	p := newBenchProcessor(b)
	src := benchBatch()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ld := plog.NewLogs()
		for pb.Next() {
			src.CopyTo(ld) // timed here: StopTimer cannot be used in parallel
			if _, err := p.processLogs(ctx, ld); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/record")
}

// BenchmarkCopyOnly is the untimed-in-the-serial-case copy of the parallel
// benchmark, to subtract from it.
func BenchmarkCopyOnly(b *testing.B) {
	src := benchBatch()
	ld := plog.NewLogs()
	b.ReportAllocs()
	for b.Loop() {
		src.CopyTo(ld)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/record")
}
