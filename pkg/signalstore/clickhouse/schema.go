package clickhouse

import (
	"strconv"
	"strings"
	"time"
)

// OllyStack's own schema next to the exporter's tables. Every statement is
// idempotent (IF NOT EXISTS) so each collector replica may run it at start;
// with cluster_name every statement runs ON CLUSTER, and with replicated
// the engines are Replicated* (their ZooKeeper path and replica name come
// from the server's default_replica_path / default_replica_name).
//
// Materialized views only see rows inserted after they exist: data written
// before create_schema ran is not indexed (README: backfilling).

// ddl is one schema statement. A view also names the table it reads,
// because it cannot be created before the exporter has created that table.
type ddl struct {
	name   string
	source string // "" for tables
	sql    string
}

type schemaBuilder struct {
	t          tables
	cluster    string
	replicated bool
	ttl        time.Duration
	corrAttr   string
}

func newSchemaBuilder(cfg *Config) schemaBuilder {
	return schemaBuilder{t: cfg.tables(), cluster: cfg.ClusterName, replicated: cfg.Replicated,
		ttl: cfg.TTL, corrAttr: cfg.CorrelationAttribute}
}

func (b schemaBuilder) onCluster() string {
	if b.cluster == "" {
		return ""
	}
	return " ON CLUSTER " + quoteIdent(b.cluster)
}

// engine returns "<Name>()" or "Replicated<Name>()".
func (b schemaBuilder) engine(name string) string {
	if b.replicated {
		return "Replicated" + name + "()"
	}
	return name + "()"
}

// ttlClause expires rows ttl after the given DateTime expression, in whole
// seconds rounded up (a ttl under a second must not become no time at all).
func (b schemaBuilder) ttlClause(expr string) string {
	if b.ttl <= 0 {
		return ""
	}
	seconds := (b.ttl + time.Second - 1) / time.Second
	return "\nTTL " + expr + " + toIntervalSecond(" + strconv.FormatInt(int64(seconds), 10) + ")"
}

// endOfDay is the TTL expression of rows aggregated per Day: they describe
// data up to the end of their day, and must outlive all of it, so they
// expire ttl after that end, not after its start (which, with a ttl under a
// day, would delete them as soon as they are written).
const endOfDay = "(toDateTime(Day) + toIntervalDay(1))"

// statements returns the schema in creation order: database, tables, views.
func (b schemaBuilder) statements() []ddl {
	return []ddl{
		{name: b.t.database, sql: "CREATE DATABASE IF NOT EXISTS " + quoteIdent(b.t.database) + b.onCluster()},
		b.correlationsTable(),
		b.serviceSpansTable(),
		b.errorFingerprintsTable(),
		b.correlationsFromTraces(),
		b.correlationsFromLogs(),
		b.serviceSpansFromTraces(),
		b.errorFingerprintsFromTraces(),
		b.errorFingerprintsFromLogs(),
	}
}

func (b schemaBuilder) createTable(table, columns, engine, partition, order, ttl string) ddl {
	var sb strings.Builder
	sb.WriteString("CREATE TABLE IF NOT EXISTS " + b.t.q(table) + b.onCluster() + " (\n")
	sb.WriteString(columns)
	sb.WriteString("\n) ENGINE = " + b.engine(engine))
	sb.WriteString("\nPARTITION BY " + partition)
	sb.WriteString("\nORDER BY " + order)
	sb.WriteString(b.ttlClause(ttl))
	sb.WriteString("\nSETTINGS index_granularity = 8192, ttl_only_drop_parts = 1")
	return ddl{name: table, sql: sb.String()}
}

func (b schemaBuilder) createView(view, source, target, selectSQL string) ddl {
	return ddl{name: view, source: source, sql: "CREATE MATERIALIZED VIEW IF NOT EXISTS " + b.t.q(view) + b.onCluster() +
		"\nTO " + b.t.q(target) + "\nAS " + selectSQL}
}

// correlationsTable is the correlation index: one row per (correlation id,
// trace id, day) after merges, so a lookup reads a handful of rows by
// primary key instead of scanning spans. Logs without trace context are
// indexed under TraceId ”. Root keeps the earliest root span (roots sort
// first by the leading flag), for the entry service of a summary.
func (b schemaBuilder) correlationsTable() ddl {
	return b.createTable(b.t.correlations, `    CorrelationId String CODEC(ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    Day Date,
    FirstSeen SimpleAggregateFunction(min, DateTime64(9)) CODEC(ZSTD(1)),
    LastSeen SimpleAggregateFunction(max, DateTime64(9)) CODEC(ZSTD(1)),
    SpanCount SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    ErrorCount SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    LogCount SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    Services SimpleAggregateFunction(groupUniqArrayArray, Array(String)) CODEC(ZSTD(1)),
    Root AggregateFunction(argMin, Tuple(UInt8, String, String), Tuple(UInt8, DateTime64(9))),
    INDEX idx_last_seen LastSeen TYPE minmax GRANULARITY 1`,
		"AggregatingMergeTree", "Day", "(CorrelationId, TraceId)", endOfDay)
}

func (b schemaBuilder) correlationsFromTraces() ddl {
	attr := stringLiteral(b.corrAttr)
	return b.createView(b.t.correlations+"_traces_mv", b.t.traces, b.t.correlations, `SELECT
    SpanAttributes[`+attr+`] AS CorrelationId,
    TraceId,
    toDate(Timestamp) AS Day,
    min(Timestamp) AS FirstSeen,
    max(fromUnixTimestamp64Nano(toUnixTimestamp64Nano(Timestamp) + toInt64(Duration))) AS LastSeen,
    count() AS SpanCount,
    countIf(StatusCode = 'Error') AS ErrorCount,
    toUInt64(0) AS LogCount,
    groupUniqArray(CAST(ServiceName AS String)) AS Services,
    argMinState(tuple(toUInt8(ParentSpanId = ''), CAST(ServiceName AS String), CAST(SpanName AS String)),
        tuple(toUInt8(ParentSpanId != ''), Timestamp)) AS Root
FROM `+b.t.q(b.t.traces)+`
WHERE SpanAttributes[`+attr+`] != ''
GROUP BY CorrelationId, TraceId, Day`)
}

func (b schemaBuilder) correlationsFromLogs() ddl {
	attr := stringLiteral(b.corrAttr)
	return b.createView(b.t.correlations+"_logs_mv", b.t.logs, b.t.correlations, `SELECT
    LogAttributes[`+attr+`] AS CorrelationId,
    TraceId,
    toDate(Timestamp) AS Day,
    min(Timestamp) AS FirstSeen,
    max(Timestamp) AS LastSeen,
    toUInt64(0) AS SpanCount,
    toUInt64(0) AS ErrorCount,
    count() AS LogCount,
    groupUniqArray(CAST(ServiceName AS String)) AS Services,
    argMinState(tuple(toUInt8(0), '', ''), tuple(toUInt8(1), Timestamp)) AS Root
FROM `+b.t.q(b.t.logs)+`
WHERE LogAttributes[`+attr+`] != ''
GROUP BY CorrelationId, TraceId, Day`)
}

// serviceSpansTable is a narrow, time-ordered copy of the columns the
// service graph needs. A materialized view cannot join a span to its parent
// (the parent may arrive in another insert, or never), so edges are joined
// at query time over the requested window; this table makes that join read
// seven small columns ordered by time instead of otel_traces, which is
// ordered by service and span name.
func (b schemaBuilder) serviceSpansTable() ddl {
	return b.createTable(b.t.serviceSpans, `    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    IsError UInt8`,
		"MergeTree", "toDate(Timestamp)", "(toStartOfFiveMinutes(Timestamp), TraceId, SpanId)", "toDateTime(Timestamp)")
}

func (b schemaBuilder) serviceSpansFromTraces() ddl {
	return b.createView(b.t.serviceSpans+"_mv", b.t.traces, b.t.serviceSpans, `SELECT
    Timestamp,
    TraceId,
    SpanId,
    ParentSpanId,
    ServiceName,
    Duration,
    toUInt8(StatusCode = 'Error') AS IsError
FROM `+b.t.q(b.t.traces))
}

// errorFingerprintsTable groups errors by what they are rather than by
// occurrence: service, operation, exception type and the message with its
// digits masked, hashed. Error spans and ERROR-or-worse logs feed it. The
// hash decides identity, so the describing columns keep any() of their
// (equal) values instead of widening the sort key.
func (b schemaBuilder) errorFingerprintsTable() ddl {
	return b.createTable(b.t.errorFingerprints, `    Day Date,
    Signal LowCardinality(String),
    ServiceName LowCardinality(String),
    Fingerprint UInt64,
    Operation SimpleAggregateFunction(any, String) CODEC(ZSTD(1)),
    ExceptionType SimpleAggregateFunction(any, String) CODEC(ZSTD(1)),
    Message SimpleAggregateFunction(any, String) CODEC(ZSTD(1)),
    Count SimpleAggregateFunction(sum, UInt64),
    FirstSeen SimpleAggregateFunction(min, DateTime64(9)),
    LastSeen SimpleAggregateFunction(max, DateTime64(9)),
    SampleTraceId SimpleAggregateFunction(any, String) CODEC(ZSTD(1))`,
		"AggregatingMergeTree", "Day", "(ServiceName, Signal, Fingerprint)", endOfDay)
}

// maskDigits normalises a message for fingerprinting: ids, counts and
// durations vary between occurrences of the same error.
func maskDigits(expr string) string {
	return "replaceRegexpAll(substring(" + expr + ", 1, 512), '[0-9]+', '?')"
}

func (b schemaBuilder) errorFingerprintsFromTraces() ddl {
	firstEventAttr := func(key string) string {
		return "arrayElement(arrayFilter(x -> x != '', arrayMap(a -> a['" + key + "'], `Events.Attributes`)), 1)"
	}
	return b.createView(b.t.errorFingerprints+"_traces_mv", b.t.traces, b.t.errorFingerprints, `SELECT
    toDate(Timestamp) AS Day,
    'span' AS Signal,
    ServiceName,
    CAST(SpanName AS String) AS Operation,
    `+firstEventAttr("exception.type")+` AS ExceptionType,
    `+maskDigits("if(StatusMessage != '', StatusMessage, "+firstEventAttr("exception.message")+")")+` AS Message,
    cityHash64(CAST(ServiceName AS String), Operation, ExceptionType, Message) AS Fingerprint,
    count() AS Count,
    min(Timestamp) AS FirstSeen,
    max(Timestamp) AS LastSeen,
    any(TraceId) AS SampleTraceId
FROM `+b.t.q(b.t.traces)+`
WHERE StatusCode = 'Error'
GROUP BY Day, Signal, ServiceName, Operation, ExceptionType, Message, Fingerprint`)
}

// errorSeverityNumber is OpenTelemetry's SEVERITY_NUMBER_ERROR.
const errorSeverityNumber = 17

func (b schemaBuilder) errorFingerprintsFromLogs() ddl {
	return b.createView(b.t.errorFingerprints+"_logs_mv", b.t.logs, b.t.errorFingerprints, `SELECT
    toDate(Timestamp) AS Day,
    'log' AS Signal,
    ServiceName,
    '' AS Operation,
    LogAttributes['exception.type'] AS ExceptionType,
    `+maskDigits("if(LogAttributes['exception.message'] != '', LogAttributes['exception.message'], Body)")+` AS Message,
    cityHash64(CAST(ServiceName AS String), Operation, ExceptionType, Message) AS Fingerprint,
    count() AS Count,
    min(Timestamp) AS FirstSeen,
    max(Timestamp) AS LastSeen,
    any(TraceId) AS SampleTraceId
FROM `+b.t.q(b.t.logs)+`
WHERE SeverityNumber >= `+strconv.Itoa(errorSeverityNumber)+`
GROUP BY Day, Signal, ServiceName, Operation, ExceptionType, Message, Fingerprint`)
}

// tableExistsSQL lists which of the given tables exist, to defer views
// whose source the exporter has not created yet.
func tableExistsSQL(database string, names []string) statement {
	return statement{sql: "SELECT name FROM system.tables WHERE database = ? AND name IN ?",
		args: []any{database, groupSet(names)}}
}
