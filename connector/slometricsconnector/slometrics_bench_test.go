package slometricsconnector

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// BenchmarkConsumeTraces measures ConsumeTraces on 1,000-span batches with up
// to 10 SLOs configured on the batch's service (the budget: 200
// ns/span with 10 SLOs). Every bad span is remembered for exemplars, so the
// all-bad case shows the worst cost.
func BenchmarkConsumeTraces(b *testing.B) {
	for _, bc := range []struct {
		name      string
		slos      int
		good, bad int
	}{
		{"1slo-1%bad", 1, 990, 10},
		{"10slos-1%bad", 10, 990, 10},
		{"10slos-all-bad", 10, 0, 1000},
		{"1slo-ottl-condition", 1, 990, 10},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var slos []SLOConfig
			for i := range bc.slos {
				slo := testSLO()
				slo.Name = fmt.Sprintf("slo-%d", i)
				switch i % 3 {
				case 1:
					slo.SLI = SLIConfig{Kind: SLILatency, Threshold: 100 * time.Millisecond}
				case 2:
					slo.SLI.HTTPServerErrors = true
					slo.Synthetic = SyntheticExclude
				}
				if strings.Contains(bc.name, "ottl") {
					slo.Condition = `attributes["http.route"] == nil and IsMatch(name, "^GET ")`
				}
				slos = append(slos, slo)
			}
			te := newTestEngine(b, testConfig(slos...))
			td := spans("checkout", bc.good, bc.bad)
			ctx := context.Background()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			cpuBefore, cpuOK := threadCPUTime()
			for b.Loop() {
				te.consume(ctx, td)
			}
			cpuAfter, _ := threadCPUTime()
			spansTimed := float64(b.N * td.SpanCount())
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/spansTimed, "ns/span")
			if cpuOK {
				b.ReportMetric(float64((cpuAfter-cpuBefore).Nanoseconds())/spansTimed, "cpu-ns/span")
			}
		})
	}
}

// BenchmarkFlush measures one evaluation of 10 SLOs with the default alerts.
func BenchmarkFlush(b *testing.B) {
	var slos []SLOConfig
	for i := range 10 {
		slo := testSLO()
		slo.Name = fmt.Sprintf("slo-%d", i)
		slos = append(slos, slo)
	}
	te := newTestEngine(b, testConfig(slos...))
	te.consume(context.Background(), spans("checkout", 900, 100))
	b.ReportAllocs()
	for b.Loop() {
		if err := te.flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
