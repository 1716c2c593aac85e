// Package storemetrics adds self-metrics to any signal store backend by
// wrapping its Writer, Reader and DocumentStore, so backends stay free of
// instrumentation and every backend reports the same names:
//
//	otelcol_signalstore_write_duration     histogram, s      signal, outcome
//	otelcol_signalstore_written_items      counter, {item}   signal, outcome
//	otelcol_signalstore_read_duration      histogram, s      operation, outcome
//	otelcol_signalstore_read_items         counter, {item}   operation
//	otelcol_signalstore_document_duration  histogram, s      operation, outcome
//
// signal is traces|logs|metrics, outcome success|failure, operation the
// Reader or DocumentStore method in snake case (put_document, get_document,
// list_documents). Document calls have a histogram of their own so that
// they do not blur the telemetry read and write latencies.
package storemetrics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/ollystack/ollystack/pkg/signalstore"
)

// ScopeName is the instrumentation scope of the metrics.
const ScopeName = "github.com/ollystack/ollystack/pkg/signalstore"

// latencyBuckets suit an embedded store (sub-millisecond reads) and a
// remote one (seconds) alike.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type instruments struct {
	writeDuration metric.Float64Histogram
	writtenItems  metric.Int64Counter
	readDuration  metric.Float64Histogram
	readItems     metric.Int64Counter
	docDuration   metric.Float64Histogram
}

func newInstruments(mp metric.MeterProvider) (*instruments, error) {
	m := mp.Meter(ScopeName)
	var ins instruments
	var err error
	if ins.writeDuration, err = m.Float64Histogram("otelcol_signalstore_write_duration",
		metric.WithDescription("Time a signal store write took, until the data was durable."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(latencyBuckets...)); err != nil {
		return nil, fmt.Errorf("create write duration histogram: %w", err)
	}
	if ins.writtenItems, err = m.Int64Counter("otelcol_signalstore_written_items",
		metric.WithDescription("Spans, log records or metric points passed to the signal store."),
		metric.WithUnit("{item}")); err != nil {
		return nil, fmt.Errorf("create written items counter: %w", err)
	}
	if ins.readDuration, err = m.Float64Histogram("otelcol_signalstore_read_duration",
		metric.WithDescription("Time a signal store read took."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(latencyBuckets...)); err != nil {
		return nil, fmt.Errorf("create read duration histogram: %w", err)
	}
	if ins.readItems, err = m.Int64Counter("otelcol_signalstore_read_items",
		metric.WithDescription("Rows returned by signal store reads."),
		metric.WithUnit("{item}")); err != nil {
		return nil, fmt.Errorf("create read items counter: %w", err)
	}
	if ins.docDuration, err = m.Float64Histogram("otelcol_signalstore_document_duration",
		metric.WithDescription("Time a signal store document call took (a put until the document was durable)."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(latencyBuckets...)); err != nil {
		return nil, fmt.Errorf("create document duration histogram: %w", err)
	}
	return &ins, nil
}

func outcome(err error) attribute.KeyValue {
	if err != nil {
		return attribute.String("outcome", "failure")
	}
	return attribute.String("outcome", "success")
}

type writer struct {
	next signalstore.Writer
	ins  *instruments
}

// NewWriter returns w with self-metrics.
func NewWriter(w signalstore.Writer, mp metric.MeterProvider) (signalstore.Writer, error) {
	ins, err := newInstruments(mp)
	if err != nil {
		return nil, err
	}
	return &writer{next: w, ins: ins}, nil
}

func (w *writer) record(ctx context.Context, signal string, items int, start time.Time, err error) {
	attrs := metric.WithAttributes(attribute.String("signal", signal), outcome(err))
	w.ins.writeDuration.Record(ctx, time.Since(start).Seconds(), attrs)
	w.ins.writtenItems.Add(ctx, int64(items), attrs)
}

func (w *writer) WriteTraces(ctx context.Context, td ptrace.Traces) error {
	start := time.Now()
	err := w.next.WriteTraces(ctx, td)
	w.record(ctx, "traces", td.SpanCount(), start, err)
	return err
}

func (w *writer) WriteLogs(ctx context.Context, ld plog.Logs) error {
	start := time.Now()
	err := w.next.WriteLogs(ctx, ld)
	w.record(ctx, "logs", ld.LogRecordCount(), start, err)
	return err
}

func (w *writer) WriteMetrics(ctx context.Context, md pmetric.Metrics) error {
	start := time.Now()
	err := w.next.WriteMetrics(ctx, md)
	w.record(ctx, "metrics", md.DataPointCount(), start, err)
	return err
}

type reader struct {
	next signalstore.Reader
	ins  *instruments
}

// NewReader returns r with self-metrics.
func NewReader(r signalstore.Reader, mp metric.MeterProvider) (signalstore.Reader, error) {
	ins, err := newInstruments(mp)
	if err != nil {
		return nil, err
	}
	return &reader{next: r, ins: ins}, nil
}

func (r *reader) record(ctx context.Context, op string, items int, start time.Time, err error) {
	opAttr := attribute.String("operation", op)
	r.ins.readDuration.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(opAttr, outcome(err)))
	if err == nil {
		r.ins.readItems.Add(ctx, int64(items), metric.WithAttributes(opAttr))
	}
}

func (r *reader) TraceIDsForCorrelation(ctx context.Context, id string, tr signalstore.TimeRange) ([]signalstore.TraceID, error) {
	start := time.Now()
	out, err := r.next.TraceIDsForCorrelation(ctx, id, tr)
	r.record(ctx, "trace_ids_for_correlation", len(out), start, err)
	return out, err
}

func (r *reader) RecentCorrelations(ctx context.Context, f signalstore.CorrelationFilter) ([]signalstore.CorrelationSummary, error) {
	start := time.Now()
	out, err := r.next.RecentCorrelations(ctx, f)
	r.record(ctx, "recent_correlations", len(out), start, err)
	return out, err
}

func (r *reader) SpansByTraceIDs(ctx context.Context, ids []signalstore.TraceID, tr signalstore.TimeRange, limit int) ([]signalstore.Span, error) {
	start := time.Now()
	out, err := r.next.SpansByTraceIDs(ctx, ids, tr, limit)
	r.record(ctx, "spans_by_trace_ids", len(out), start, err)
	return out, err
}

func (r *reader) LogsByTraceIDs(ctx context.Context, ids []signalstore.TraceID, tr signalstore.TimeRange, limit int) ([]signalstore.LogRecord, error) {
	start := time.Now()
	out, err := r.next.LogsByTraceIDs(ctx, ids, tr, limit)
	r.record(ctx, "logs_by_trace_ids", len(out), start, err)
	return out, err
}

func (r *reader) LogsByCorrelationID(ctx context.Context, id string, tr signalstore.TimeRange, limit int) ([]signalstore.LogRecord, error) {
	start := time.Now()
	out, err := r.next.LogsByCorrelationID(ctx, id, tr, limit)
	r.record(ctx, "logs_by_correlation_id", len(out), start, err)
	return out, err
}

func (r *reader) MetricPointsByExemplarTraceIDs(ctx context.Context, ids []signalstore.TraceID, tr signalstore.TimeRange, limit int) ([]signalstore.MetricPoint, error) {
	start := time.Now()
	out, err := r.next.MetricPointsByExemplarTraceIDs(ctx, ids, tr, limit)
	r.record(ctx, "metric_points_by_exemplar_trace_ids", len(out), start, err)
	return out, err
}

func (r *reader) ServiceEdges(ctx context.Context, tr signalstore.TimeRange) ([]signalstore.ServiceEdge, error) {
	start := time.Now()
	out, err := r.next.ServiceEdges(ctx, tr)
	r.record(ctx, "service_edges", len(out), start, err)
	return out, err
}

func (r *reader) Query(ctx context.Context, q signalstore.Query) (*signalstore.QueryResult, error) {
	start := time.Now()
	out, err := r.next.Query(ctx, q)
	rows := 0
	if out != nil {
		rows = len(out.Rows)
	}
	r.record(ctx, "query", rows, start, err)
	return out, err
}

type documentStore struct {
	next signalstore.DocumentStore
	ins  *instruments
}

// NewDocumentStore returns d with self-metrics.
func NewDocumentStore(d signalstore.DocumentStore, mp metric.MeterProvider) (signalstore.DocumentStore, error) {
	ins, err := newInstruments(mp)
	if err != nil {
		return nil, err
	}
	return &documentStore{next: d, ins: ins}, nil
}

func (d *documentStore) record(ctx context.Context, op string, start time.Time, err error) {
	d.ins.docDuration.Record(ctx, time.Since(start).Seconds(),
		metric.WithAttributes(attribute.String("operation", op), outcome(err)))
}

func (d *documentStore) PutDocument(ctx context.Context, doc signalstore.Document) error {
	start := time.Now()
	err := d.next.PutDocument(ctx, doc)
	d.record(ctx, "put_document", start, err)
	return err
}

func (d *documentStore) GetDocument(ctx context.Context, kind, id string) (signalstore.Document, error) {
	start := time.Now()
	doc, err := d.next.GetDocument(ctx, kind, id)
	measured := err
	if errors.Is(err, signalstore.ErrNotFound) {
		// An absent document is an answer, as an unknown id is to a
		// Reader: the store did not fail.
		measured = nil
	}
	d.record(ctx, "get_document", start, measured)
	return doc, err
}

func (d *documentStore) ListDocuments(ctx context.Context, f signalstore.DocumentFilter) ([]signalstore.Document, error) {
	start := time.Now()
	docs, err := d.next.ListDocuments(ctx, f)
	d.record(ctx, "list_documents", start, err)
	return docs, err
}
