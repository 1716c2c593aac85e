package embedded

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// TestNonFiniteHistogramBoundsReadAsAbsent: a histogram point whose min or
// max is ±Inf (an instrument that recorded an infinite value) must read back
// as a point JSON can carry, as non-finite values, sums and bounds already
// do; an infinite max made every API answer holding the point fail to
// encode.
func TestNonFiniteHistogramBoundsReadAsAbsent(t *testing.T) {
	store := openTestStore(t)
	ctx := context.Background()
	traceID := traceIDFor("inf", 1)
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("latency")
	dp := m.SetEmptyHistogram().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	dp.SetCount(2)
	dp.SetMin(math.Inf(-1))
	dp.SetMax(math.Inf(1))
	dp.ExplicitBounds().FromRaw([]float64{1})
	dp.BucketCounts().FromRaw([]uint64{1, 1})
	dp.Exemplars().AppendEmpty().SetTraceID(pcommon.TraceID(traceID))
	if err := store.WriteMetrics(ctx, md); err != nil {
		t.Fatal(err)
	}
	points, err := store.MetricPointsByExemplarTraceIDs(ctx, []signalstore.TraceID{traceID}, signalstore.TimeRange{}, 0)
	if err != nil || len(points) != 1 {
		t.Fatalf("points: %v, %v", points, err)
	}
	if p := points[0]; p.Min != nil || p.Max != nil {
		t.Errorf("min %v, max %v; want both absent", deref(p.Min), deref(p.Max))
	}
	if _, err := json.Marshal(points); err != nil {
		t.Errorf("the point does not encode as JSON: %v", err)
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// TestMetricWithoutTypeIsSkipped: a metric with no data at all (no type) is
// valid OTLP; writing it must neither fail nor panic.
func TestMetricWithoutTypeIsSkipped(t *testing.T) {
	store := openTestStore(t)
	md := pmetric.NewMetrics()
	md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetName("no.data")
	if err := store.WriteMetrics(t.Context(), md); err != nil {
		t.Fatal(err)
	}
}
