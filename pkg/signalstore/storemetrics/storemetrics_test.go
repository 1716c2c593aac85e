package storemetrics

import (
	"context"
	"errors"
	"fmt"
	"maps"
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
func (fakeStore) SpansByTraceIDs(context.Context, []signalstore.TraceID, signalstore.TimeRange, int) ([]signalstore.Span, error) {
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
	if _, err := r.SpansByTraceIDs(ctx, nil, signalstore.TimeRange{}, 0); err != nil {
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

// fakeDocuments finds document "a", fails puts, and answers lists.
type fakeDocuments struct{}

func (fakeDocuments) PutDocument(context.Context, signalstore.Document) error {
	return errors.New("disk full")
}

func (fakeDocuments) GetDocument(_ context.Context, _, id string) (signalstore.Document, error) {
	if id != "a" {
		return signalstore.Document{}, fmt.Errorf("document %q: %w", id, signalstore.ErrNotFound)
	}
	return signalstore.Document{ID: id}, nil
}

func (fakeDocuments) ListDocuments(context.Context, signalstore.DocumentFilter) ([]signalstore.Document, error) {
	return make([]signalstore.Document, 3), nil
}

func TestDocumentDecoratorRecords(t *testing.T) {
	mr := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(mr))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	d, err := NewDocumentStore(fakeDocuments{}, mp)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.PutDocument(ctx, signalstore.Document{}); err == nil {
		t.Fatal("the decorator swallowed the error")
	}
	if _, err := d.GetDocument(ctx, "analysis", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.GetDocument(ctx, "analysis", "absent"); !errors.Is(err, signalstore.ErrNotFound) {
		t.Fatalf("GetDocument(absent): %v; want ErrNotFound passed through", err)
	}
	if docs, err := d.ListDocuments(ctx, signalstore.DocumentFilter{Kind: "analysis"}); err != nil || len(docs) != 3 {
		t.Fatalf("ListDocuments: %v, %v", docs, err)
	}

	h, ok := collect(t, mr)["otelcol_signalstore_document_duration"].(metricdata.Histogram[float64])
	if !ok {
		t.Fatal("no document duration histogram")
	}
	counts := map[string]uint64{}
	for _, dp := range h.DataPoints {
		op, _ := dp.Attributes.Value("operation")
		out, _ := dp.Attributes.Value("outcome")
		counts[op.AsString()+"/"+out.AsString()] += dp.Count
	}
	want := map[string]uint64{"put_document/failure": 1, "get_document/success": 2, "list_documents/success": 1}
	if !maps.Equal(counts, want) {
		t.Errorf("document calls by operation/outcome = %v, want %v (an absent document is no failure)", counts, want)
	}
}
