package signalstoreextension

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ollystack/ollystack/extension/signalstoreextension/internal/metadata"
	"github.com/ollystack/ollystack/pkg/signalstore"
)

func TestGetStoreAndDocumentStoreLookups(t *testing.T) {
	id := component.NewID(metadata.Type)
	ext := startExtension(t, tempConfig(t), nopSettings())
	other := component.MustNewID("other")
	host := hostWith{id: ext, other: nopExtension{}}

	store, err := GetStore(host, id)
	require.NoError(t, err)
	require.NotNil(t, store)
	_, canPurge := store.(signalstore.Purger)
	assert.True(t, canPurge, "the embedded backend's Purge stays reachable through the decorators")

	stopped, err := NewFactory().Create(context.Background(), nopSettings(), tempConfig(t))
	require.NoError(t, err)
	stoppedID := component.NewIDWithName(metadata.Type, "stopped")
	host[stoppedID] = stopped
	// GetDocumentStore finds the extension as GetStore does.
	for name, get := range map[string]func(component.Host, component.ID) error{
		"GetStore":         func(h component.Host, id component.ID) error { _, err := GetStore(h, id); return err },
		"GetDocumentStore": func(h component.Host, id component.ID) error { _, err := GetDocumentStore(h, id); return err },
	} {
		err := get(host, component.NewIDWithName(metadata.Type, "absent"))
		assert.ErrorIs(t, err, ErrNotFound, name)
		assert.ErrorContains(t, err, "signalstore/absent", name)
		assert.ErrorIs(t, get(host, other), ErrWrongType, name)
		assert.ErrorIs(t, get(host, stoppedID), ErrNotStarted, name)
	}
}

type nopExtension struct {
	component.StartFunc
	component.ShutdownFunc
}

func TestWriteReadAndSelfMetrics(t *testing.T) {
	tel, settings := telemetrySettings(t)
	ext := startExtension(t, tempConfig(t), settings)
	store, err := ext.(StoreProvider).Store()
	require.NoError(t, err)

	ctx := context.Background()
	td, traceID := testTraces(3)
	require.NoError(t, store.WriteTraces(ctx, td))
	require.NoError(t, store.WriteLogs(ctx, testLogs(traceID, 2)))
	spans, err := store.SpansByTraceIDs(ctx, []signalstore.TraceID{signalstore.TraceID(traceID)}, signalstore.TimeRange{}, 0)
	require.NoError(t, err)
	assert.Len(t, spans, 3)

	// The metrics come from pkg/signalstore/storemetrics, through the
	// extension's meter provider.
	written, err := tel.GetMetric("otelcol_signalstore_written_items")
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"traces/success": 3, "logs/success": 2}, sumBy(t, written, "signal", "outcome"))
	_, err = tel.GetMetric("otelcol_signalstore_write_duration")
	require.NoError(t, err)
	read, err := tel.GetMetric("otelcol_signalstore_read_items")
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"spans_by_trace_ids": 3}, sumBy(t, read, "operation"))
	_, err = tel.GetMetric("otelcol_signalstore_read_duration")
	require.NoError(t, err)
}

func TestStoreIsClosedAfterShutdown(t *testing.T) {
	ext, err := NewFactory().Create(context.Background(), nopSettings(), tempConfig(t))
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), hostWith{}))
	store, err := ext.(StoreProvider).Store()
	require.NoError(t, err)
	require.NoError(t, ext.Shutdown(context.Background()))

	td, _ := testTraces(1)
	err = store.WriteTraces(context.Background(), td)
	assert.ErrorIs(t, err, signalstore.ErrClosed)
	assert.NotErrorIs(t, err, ErrInvalidData, "a closed store may come back (a restart): the data is fine")
}

func TestClassifyEmbeddedError(t *testing.T) {
	for _, tt := range []struct {
		err     error
		invalid bool
	}{
		{err: nil},
		{err: fmt.Errorf("insert span: %w", sqlite3.TOOBIG), invalid: true},
		{err: fmt.Errorf("insert span: %w", sqlite3.CONSTRAINT), invalid: true},
		{err: fmt.Errorf("commit: %w", sqlite3.FULL)},
		{err: fmt.Errorf("commit: %w", sqlite3.BUSY)},
		{err: signalstore.ErrClosed},
		{err: context.DeadlineExceeded},
	} {
		got := classifyEmbeddedError(tt.err)
		if tt.err == nil {
			assert.NoError(t, got)
			continue
		}
		assert.ErrorIs(t, got, tt.err, "the cause stays reachable")
		assert.Equal(t, tt.invalid, errors.Is(got, ErrInvalidData), "%v", tt.err)
	}
}

// sumBy totals a counter by the values of the given attributes, joined with "/".
func sumBy(t *testing.T, m metricdata.Metrics, keys ...string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
		out[attributeValues(t, p.Attributes, keys)] += p.Value
	}
	return out
}

// countBy totals a histogram's recordings like sumBy.
func countBy(t *testing.T, m metricdata.Metrics, keys ...string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for _, p := range m.Data.(metricdata.Histogram[float64]).DataPoints {
		out[attributeValues(t, p.Attributes, keys)] += p.Count
	}
	return out
}

func attributeValues(t *testing.T, attrs attribute.Set, keys []string) string {
	t.Helper()
	values := make([]string, len(keys))
	for i, key := range keys {
		v, ok := attrs.Value(attribute.Key(key))
		require.True(t, ok, "attribute %q missing", key)
		values[i] = v.AsString()
	}
	return strings.Join(values, "/")
}

// testTraces returns one trace of n spans of service "checkout".
func testTraces(n int) (ptrace.Traces, pcommon.TraceID) {
	traceID := pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "checkout")
	ss := rs.ScopeSpans().AppendEmpty()
	now := time.Now()
	for i := range n {
		span := ss.Spans().AppendEmpty()
		span.SetTraceID(traceID)
		span.SetSpanID(pcommon.SpanID{byte(i + 1)})
		span.SetName(fmt.Sprintf("op-%d", i))
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
	}
	return td, traceID
}

func testLogs(traceID pcommon.TraceID, n int) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "checkout")
	sl := rl.ScopeLogs().AppendEmpty()
	for i := range n {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
		lr.SetTraceID(traceID)
		lr.Body().SetStr(fmt.Sprintf("line %d", i))
	}
	return ld
}

func TestGetDocumentStore(t *testing.T) {
	tel, settings := telemetrySettings(t)
	id := component.NewID(metadata.Type)
	host := hostWith{id: startExtension(t, tempConfig(t), settings)}

	docs, err := GetDocumentStore(host, id)
	require.NoError(t, err, "the embedded backend keeps documents")
	ctx := context.Background()
	doc := signalstore.Document{Kind: "investigation", ID: "inv-1", Ref: "order-1", Updated: time.Now(), Body: []byte(`{"status":"open"}`)}
	require.NoError(t, docs.PutDocument(ctx, doc))
	got, err := docs.GetDocument(ctx, doc.Kind, doc.ID)
	require.NoError(t, err)
	assert.JSONEq(t, string(doc.Body), string(got.Body))
	_, err = docs.GetDocument(ctx, doc.Kind, "absent")
	assert.ErrorIs(t, err, signalstore.ErrNotFound)
	list, err := docs.ListDocuments(ctx, signalstore.DocumentFilter{Kind: doc.Kind, Ref: doc.Ref})
	require.NoError(t, err)
	assert.Len(t, list, 1)

	m, err := tel.GetMetric("otelcol_signalstore_document_duration")
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"put_document/success": 1, "get_document/success": 2, "list_documents/success": 1},
		countBy(t, m, "operation", "outcome"))
}

// readOnlyStore is a backend without documents, like the clickhouse one
// (which needs a server to open).
type readOnlyStore struct{ signalstore.Store }

func TestGetDocumentStoreWithoutDocuments(t *testing.T) {
	id := component.NewIDWithName(metadata.Type, "x")
	ext := newStoreExtension(tempConfig(t), nopSettings())
	require.NoError(t, ext.adopt(&backend{name: clickhouseKey, store: readOnlyStore{}, close: func() error { return nil }}))
	host := hostWith{id: ext}

	_, err := GetStore(host, id)
	require.NoError(t, err, "the store itself is there")
	_, err = GetDocumentStore(host, id)
	require.ErrorIs(t, err, ErrNoDocuments)
	assert.EqualError(t, err, `signalstore extension "signalstore/x": the clickhouse backend keeps no documents`)

	// A provider from before DocumentStoreProvider (a test double elsewhere)
	// keeps no documents either.
	host[id] = storeOnlyProvider{}
	_, err = GetDocumentStore(host, id)
	assert.ErrorIs(t, err, ErrNoDocuments)
}

type storeOnlyProvider struct{ nopExtension }

func (storeOnlyProvider) Store() (signalstore.Store, error) { return readOnlyStore{}, nil }

// TestReadyTellsTheBackendThePipelinesStarted: the ClickHouse backend then
// creates the index views that waited for the exporter's tables.
func TestReadyTellsTheBackendThePipelinesStarted(t *testing.T) {
	e := newStoreExtension(&Config{}, nopSettings())
	require.NoError(t, e.Ready(), "before Start")
	calls := 0
	e.backend = &backend{pipelinesReady: func() { calls++ }}
	require.NoError(t, e.Ready())
	require.NoError(t, e.NotReady())
	require.Equal(t, 1, calls)
	e.backend = &backend{}
	require.NoError(t, e.Ready(), "a backend that does not care")
}
