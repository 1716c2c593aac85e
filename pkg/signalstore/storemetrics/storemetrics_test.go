package storemetrics

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// fakeStore fails logs writes and returns two spans per read.
type fakeStore struct{ signalstore.Reader }

func (fakeStore) WriteTraces(context.Context, ptrace.Traces) error    { return nil }
func (fakeStore) WriteLogs(context.Context, plog.Logs) error          { return errors.New("disk full") }
func (fakeStore) WriteMetrics(context.Context, pmetric.Metrics) error { return nil }
func (fakeStore) SpansByTraceIDs(context.Context, []signalstore.TraceID, signalstore.TimeRange) ([]signalstore.Span, error) {
	return make([]signalstore.Span, 2), nil
}

func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, ScopeName)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

func sumWhere(t *testing.T, agg metricdata.Aggregation, kv ...attribute.KeyValue) int64 {
	t.Helper()
	s, ok := agg.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%T is not an int64 sum", agg)
	}
	var total int64
	for _, dp := range s.DataPoints {
		match := true
		for _, want := range kv {
			if got, ok := dp.Attributes.Value(want.Key); !ok || got != want.Value {
				match = false
			}
		}
		if match {
			total += dp.Value
		}
	}
	return total
}

func TestDecoratorsRecord(t *testing.T) {
	mr := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(mr))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	store := fakeStore{}
	w, err := NewWriter(store, mp)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(store, mp)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	if err := w.WriteTraces(ctx, td); err != nil {
		t.Fatal(err)
	}
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	if err := w.WriteLogs(ctx, ld); err == nil {
		t.Fatal("the decorator swallowed the error")
	}
	if _, err := r.SpansByTraceIDs(ctx, nil, signalstore.TimeRange{}); err != nil {
		t.Fatal(err)
	}

	got := collect(t, mr)
	written := got["otelcol_signalstore_written_items"]
	if n := sumWhere(t, written, attribute.String("signal", "traces"), attribute.String("outcome", "success")); n != 1 {
		t.Errorf("written spans = %d, want 1", n)
	}
	if n := sumWhere(t, written, attribute.String("signal", "logs"), attribute.String("outcome", "failure")); n != 1 {
		t.Errorf("failed log records = %d, want 1", n)
	}
	if n := sumWhere(t, got["otelcol_signalstore_read_items"], attribute.String("operation", "spans_by_trace_ids")); n != 2 {
		t.Errorf("read spans = %d, want 2", n)
	}
	for _, name := range []string{"otelcol_signalstore_write_duration", "otelcol_signalstore_read_duration"} {
		h, ok := got[name].(metricdata.Histogram[float64])
		if !ok || len(h.DataPoints) == 0 {
			t.Errorf("%s: no histogram points", name)
		}
	}
}
