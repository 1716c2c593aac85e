package anomaly

import (
	"testing"

	"github.com/ollystack/ollystack/pkg/analysis/internal/cputime"
)

// BenchmarkUpdate measures the cost of one point on a daily-seasonal series
// with both the daily and the weekly candidate models active.
func BenchmarkUpdate(b *testing.B) {
	points := daily(30, 13)
	d := mustNew(b, Config{})
	for _, p := range points[:len(points)/2] {
		d.Update(p.Time, p.Value)
	}
	rest := points[len(points)/2:]
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, ok := cputime.Process()
	for i := 0; b.Loop(); i++ {
		p := rest[i%len(rest)]
		d.Update(p.Time, p.Value)
	}
	if cpu1, ok1 := cputime.Process(); ok && ok1 && cpu1 > cpu0 {
		b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/point")
	}
}
