package embedded

import "github.com/ollystack/ollystack/pkg/signalstore"

// schemaVersion is bumped whenever the DDL below changes incompatibly; Open
// refuses a database written with another version rather than misreading it.
// Additions (a table or index created IF NOT EXISTS, such as
// ollystack_documents) keep the version: Open adds them to an older file, and
// older builds ignore them.
const schemaVersion = "1"

// Table names mirror the contrib ClickHouse exporter (otel_*), so both
// backends read alike; OllyStack's own index and rollup tables are
// prefixed ollystack_.
const (
	tableTraces           = "otel_traces"
	tableLogs             = "otel_logs"
	tableMetricsGauge     = "otel_metrics_gauge"
	tableMetricsSum       = "otel_metrics_sum"
	tableMetricsHistogram = "otel_metrics_histogram"
)

// dataTables are the append-only row tables whose rowid ranges the
// ollystack_segments table tracks for time pruning and retention.
var dataTables = []string{tableTraces, tableLogs, tableMetricsGauge, tableMetricsSum, tableMetricsHistogram}

// The layout is built around one observation: random-key B-tree inserts are
// what make SQLite ingest slow (every insert dirties a random page that the
// commit then writes to the WAL), while appends are cheap. So:
//
//   - Data tables are plain rowid tables with NO secondary index. Rows are
//     appended in rowid order, which is ingestion order.
//   - Each Write sorts its rows by trace id before inserting, so the spans
//     (or logs) of one trace within one batch occupy a contiguous rowid
//     range. ollystack_trace_spans / ollystack_trace_logs then hold one row
//     per (trace, batch) instead of one per span: the trace-id index is a
//     random-key index, but ~10-50x smaller than a per-span one.
//   - ollystack_segments maps coarse rowid ranges to their event-time and
//     ingest-time bounds. Time-range queries scan only the overlapping rowid
//     ranges; retention deletes whole expired ranges by rowid. This replaces
//     a per-row Timestamp index.
//   - Resource attributes, identical for every span of a batch from one
//     process, are stored once in ollystack_resources and referenced by id.
//     ollystack_resource_uses records, per resource and data table, a rowid
//     at or after the resource's last row there. Data is deleted from the
//     low rowids up, so once a table's smallest rowid passes that mark the
//     resource has no rows left in it; a resource with no uses left is
//     deleted. Finding them walks an index instead of scanning the data
//     tables, which have no ResourceId index (see above). Without this,
//     attributes that change per process (service.instance.id, k8s.pod.uid)
//     would add resource rows for ever.
//   - The correlation index (ollystack_correlations) has one row per
//     (correlation id, trace), updated per batch, never per span; the
//     services of the trace are a JSON array in that row rather than rows
//     of their own, which would triple the random-key inserts per trace.
//   - Rollups (ollystack_service_edges, ollystack_span_rollup) are
//     aggregated in memory per batch and upserted per minute bucket.
//   - ollystack_documents keeps the AI features' JSON documents. Unlike the
//     small index tables it is a rowid table: bodies run to 1 MiB, and a
//     WITHOUT ROWID table would carry them in its key B-tree. Its indexes
//     serve ListDocuments by kind (and ref) newest first, and retention by
//     Updated.
//
// Columns are ordered small-first so that reading the leading columns of a
// row never touches the overflow pages holding large attribute JSON.
// Timestamps and durations are integer nanoseconds (UTC); attribute maps are
// JSON objects of strings, as the ClickHouse exporter flattens them.
const schemaDDL = `
CREATE TABLE IF NOT EXISTS ollystack_meta (
	Key   TEXT PRIMARY KEY,
	Value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ollystack_resources (
	ResourceId         INTEGER PRIMARY KEY,
	Hash               BLOB NOT NULL UNIQUE,
	ServiceName        TEXT NOT NULL,
	ResourceAttributes TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS ollystack_resource_uses (
	ResourceId INTEGER NOT NULL,
	TableName  TEXT NOT NULL,
	LastRowId  INTEGER NOT NULL,
	PRIMARY KEY (ResourceId, TableName)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ollystack_resource_uses_expiry ON ollystack_resource_uses (TableName, LastRowId);

CREATE TABLE IF NOT EXISTS ollystack_segments (
	TableName  TEXT NOT NULL,
	FirstRowId INTEGER NOT NULL,
	LastRowId  INTEGER NOT NULL,
	MinTime    INTEGER NOT NULL,
	MaxTime    INTEGER NOT NULL,
	IngestedAt INTEGER NOT NULL,
	PRIMARY KEY (TableName, FirstRowId)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS otel_traces (
	Timestamp      INTEGER NOT NULL,
	TraceId        BLOB NOT NULL,
	SpanId         BLOB NOT NULL,
	ParentSpanId   BLOB NOT NULL,
	ServiceName    TEXT NOT NULL,
	SpanName       TEXT NOT NULL,
	SpanKind       TEXT NOT NULL,
	Duration       INTEGER NOT NULL,
	StatusCode     TEXT NOT NULL,
	CorrelationId  TEXT NOT NULL,
	ResourceId     INTEGER NOT NULL,
	TraceState     TEXT NOT NULL,
	ScopeName      TEXT NOT NULL,
	ScopeVersion   TEXT NOT NULL,
	StatusMessage  TEXT NOT NULL,
	SpanAttributes TEXT NOT NULL,
	Events         TEXT NOT NULL,
	Links          TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS ollystack_trace_spans (
	TraceId    BLOB NOT NULL,
	FirstRowId INTEGER NOT NULL,
	LastRowId  INTEGER NOT NULL,
	PRIMARY KEY (TraceId, FirstRowId)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ollystack_trace_spans_rowid ON ollystack_trace_spans (FirstRowId);

CREATE TABLE IF NOT EXISTS otel_logs (
	Timestamp      INTEGER NOT NULL,
	TraceId        BLOB NOT NULL,
	SpanId         BLOB NOT NULL,
	TraceFlags     INTEGER NOT NULL,
	SeverityText   TEXT NOT NULL,
	SeverityNumber INTEGER NOT NULL,
	ServiceName    TEXT NOT NULL,
	CorrelationId  TEXT NOT NULL,
	ResourceId     INTEGER NOT NULL,
	ScopeName      TEXT NOT NULL,
	ScopeVersion   TEXT NOT NULL,
	EventName      TEXT NOT NULL,
	Body           TEXT NOT NULL,
	LogAttributes  TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS ollystack_trace_logs (
	TraceId    BLOB NOT NULL,
	FirstRowId INTEGER NOT NULL,
	LastRowId  INTEGER NOT NULL,
	PRIMARY KEY (TraceId, FirstRowId)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ollystack_trace_logs_rowid ON ollystack_trace_logs (FirstRowId);

CREATE TABLE IF NOT EXISTS ollystack_correlation_logs (
	CorrelationId TEXT NOT NULL,
	FirstRowId    INTEGER NOT NULL,
	LastRowId     INTEGER NOT NULL,
	PRIMARY KEY (CorrelationId, FirstRowId)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ollystack_correlation_logs_rowid ON ollystack_correlation_logs (FirstRowId);

CREATE TABLE IF NOT EXISTS otel_metrics_gauge (
	TimeUnix          INTEGER NOT NULL,
	StartTimeUnix     INTEGER NOT NULL,
	ServiceName       TEXT NOT NULL,
	MetricName        TEXT NOT NULL,
	ResourceId        INTEGER NOT NULL,
	Value             REAL NOT NULL,
	Flags             INTEGER NOT NULL,
	ScopeName         TEXT NOT NULL,
	ScopeVersion      TEXT NOT NULL,
	MetricDescription TEXT NOT NULL,
	MetricUnit        TEXT NOT NULL,
	Attributes        TEXT NOT NULL,
	Exemplars         TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS otel_metrics_sum (
	TimeUnix               INTEGER NOT NULL,
	StartTimeUnix          INTEGER NOT NULL,
	ServiceName            TEXT NOT NULL,
	MetricName             TEXT NOT NULL,
	ResourceId             INTEGER NOT NULL,
	Value                  REAL NOT NULL,
	Flags                  INTEGER NOT NULL,
	AggregationTemporality INTEGER NOT NULL,
	IsMonotonic            INTEGER NOT NULL,
	ScopeName              TEXT NOT NULL,
	ScopeVersion           TEXT NOT NULL,
	MetricDescription      TEXT NOT NULL,
	MetricUnit             TEXT NOT NULL,
	Attributes             TEXT NOT NULL,
	Exemplars              TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS otel_metrics_histogram (
	TimeUnix               INTEGER NOT NULL,
	StartTimeUnix          INTEGER NOT NULL,
	ServiceName            TEXT NOT NULL,
	MetricName             TEXT NOT NULL,
	ResourceId             INTEGER NOT NULL,
	Count                  INTEGER NOT NULL,
	Sum                    REAL NOT NULL,
	Min                    REAL,
	Max                    REAL,
	Flags                  INTEGER NOT NULL,
	AggregationTemporality INTEGER NOT NULL,
	ScopeName              TEXT NOT NULL,
	ScopeVersion           TEXT NOT NULL,
	MetricDescription      TEXT NOT NULL,
	MetricUnit             TEXT NOT NULL,
	BucketCounts           TEXT NOT NULL,
	ExplicitBounds         TEXT NOT NULL,
	Attributes             TEXT NOT NULL,
	Exemplars              TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS ollystack_exemplar_traces (
	TraceId     BLOB NOT NULL,
	MetricTable TEXT NOT NULL,
	RowId       INTEGER NOT NULL,
	PRIMARY KEY (TraceId, MetricTable, RowId)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ollystack_exemplar_traces_rowid ON ollystack_exemplar_traces (MetricTable, RowId);

CREATE TABLE IF NOT EXISTS ollystack_correlations (
	CorrelationId TEXT NOT NULL,
	TraceId       BLOB NOT NULL,
	FirstSeen     INTEGER NOT NULL,
	LastSeen      INTEGER NOT NULL,
	SpanCount     INTEGER NOT NULL,
	ErrorCount    INTEGER NOT NULL,
	LogCount      INTEGER NOT NULL,
	RootService   TEXT NOT NULL,
	RootSpanName  TEXT NOT NULL,
	Services      TEXT NOT NULL,
	PRIMARY KEY (CorrelationId, TraceId)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ollystack_correlations_lastseen ON ollystack_correlations (LastSeen);

CREATE TABLE IF NOT EXISTS ollystack_service_edges (
	Bucket      INTEGER NOT NULL,
	Caller      TEXT NOT NULL,
	Callee      TEXT NOT NULL,
	Requests    INTEGER NOT NULL,
	Errors      INTEGER NOT NULL,
	DurationSum INTEGER NOT NULL,
	Histogram   BLOB NOT NULL,
	PRIMARY KEY (Bucket, Caller, Callee)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ollystack_span_rollup (
	Bucket      INTEGER NOT NULL,
	ServiceName TEXT NOT NULL,
	SpanName    TEXT NOT NULL,
	Requests    INTEGER NOT NULL,
	Errors      INTEGER NOT NULL,
	DurationSum INTEGER NOT NULL,
	DurationMin INTEGER NOT NULL,
	DurationMax INTEGER NOT NULL,
	Histogram   BLOB NOT NULL,
	PRIMARY KEY (Bucket, ServiceName, SpanName)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ollystack_documents (
	Kind    TEXT NOT NULL,
	Id      TEXT NOT NULL,
	Ref     TEXT NOT NULL,
	Updated INTEGER NOT NULL,
	Body    TEXT NOT NULL,
	PRIMARY KEY (Kind, Id)
);
CREATE INDEX IF NOT EXISTS ollystack_documents_ref ON ollystack_documents (Kind, Ref, Updated, Id);
CREATE INDEX IF NOT EXISTS ollystack_documents_updated ON ollystack_documents (Kind, Updated, Id);
CREATE INDEX IF NOT EXISTS ollystack_documents_expiry ON ollystack_documents (Updated);
`

// rollupBucketNanos is the width of rollup rows (service edges, span rollup).
const rollupBucketNanos = int64(signalstore.ServiceEdgeResolution)

// purgeTables are emptied by Purge, in an order that keeps indexes
// consistent if the purge is interrupted (it runs in one transaction anyway).
var purgeTables = []string{
	"ollystack_trace_spans", "ollystack_trace_logs", "ollystack_correlation_logs",
	"ollystack_exemplar_traces", "ollystack_correlations",
	"ollystack_service_edges", "ollystack_span_rollup", "ollystack_segments",
	tableTraces, tableLogs, tableMetricsGauge, tableMetricsSum, tableMetricsHistogram,
	"ollystack_resource_uses", "ollystack_resources", "ollystack_documents",
}
