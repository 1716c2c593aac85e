-- otel
CREATE DATABASE IF NOT EXISTS `otel` ON CLUSTER `ollystack-prod`;

-- ollystack_correlations
CREATE TABLE IF NOT EXISTS `otel`.`ollystack_correlations` ON CLUSTER `ollystack-prod` (
    CorrelationId String CODEC(ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    Day Date,
    FirstSeen SimpleAggregateFunction(min, DateTime64(9)) CODEC(ZSTD(1)),
    LastSeen SimpleAggregateFunction(max, DateTime64(9)) CODEC(ZSTD(1)),
    SpanCount SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    ErrorCount SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    LogCount SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1)),
    Services SimpleAggregateFunction(groupUniqArrayArray, Array(String)) CODEC(ZSTD(1)),
    Root AggregateFunction(argMin, Tuple(UInt8, String, String), Tuple(UInt8, DateTime64(9))),
    INDEX idx_last_seen LastSeen TYPE minmax GRANULARITY 1
) ENGINE = ReplicatedAggregatingMergeTree()
PARTITION BY Day
ORDER BY (CorrelationId, TraceId)
TTL (toDateTime(Day) + toIntervalDay(1)) + toIntervalSecond(259200)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- ollystack_service_spans
CREATE TABLE IF NOT EXISTS `otel`.`ollystack_service_spans` ON CLUSTER `ollystack-prod` (
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    IsError UInt8
) ENGINE = ReplicatedMergeTree()
PARTITION BY toDate(Timestamp)
ORDER BY (toStartOfFiveMinutes(Timestamp), TraceId, SpanId)
TTL toDateTime(Timestamp) + toIntervalSecond(259200)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- ollystack_error_fingerprints
CREATE TABLE IF NOT EXISTS `otel`.`ollystack_error_fingerprints` ON CLUSTER `ollystack-prod` (
    Day Date,
    Signal LowCardinality(String),
    ServiceName LowCardinality(String),
    Fingerprint UInt64,
    Operation SimpleAggregateFunction(any, String) CODEC(ZSTD(1)),
    ExceptionType SimpleAggregateFunction(any, String) CODEC(ZSTD(1)),
    Message SimpleAggregateFunction(any, String) CODEC(ZSTD(1)),
    Count SimpleAggregateFunction(sum, UInt64),
    FirstSeen SimpleAggregateFunction(min, DateTime64(9)),
    LastSeen SimpleAggregateFunction(max, DateTime64(9)),
    SampleTraceId SimpleAggregateFunction(any, String) CODEC(ZSTD(1))
) ENGINE = ReplicatedAggregatingMergeTree()
PARTITION BY Day
ORDER BY (ServiceName, Signal, Fingerprint)
TTL (toDateTime(Day) + toIntervalDay(1)) + toIntervalSecond(259200)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- ollystack_correlations_traces_mv (reads otel_traces)
CREATE MATERIALIZED VIEW IF NOT EXISTS `otel`.`ollystack_correlations_traces_mv` ON CLUSTER `ollystack-prod`
TO `otel`.`ollystack_correlations`
AS SELECT
    SpanAttributes['request_id'] AS CorrelationId,
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
FROM `otel`.`otel_traces`
WHERE SpanAttributes['request_id'] != ''
GROUP BY CorrelationId, TraceId, Day;

-- ollystack_correlations_logs_mv (reads otel_logs)
CREATE MATERIALIZED VIEW IF NOT EXISTS `otel`.`ollystack_correlations_logs_mv` ON CLUSTER `ollystack-prod`
TO `otel`.`ollystack_correlations`
AS SELECT
    LogAttributes['request_id'] AS CorrelationId,
    TraceId,
    toDate(Timestamp) AS Day,
    min(Timestamp) AS FirstSeen,
    max(Timestamp) AS LastSeen,
    toUInt64(0) AS SpanCount,
    toUInt64(0) AS ErrorCount,
    count() AS LogCount,
    groupUniqArray(CAST(ServiceName AS String)) AS Services,
    argMinState(tuple(toUInt8(0), '', ''), tuple(toUInt8(1), Timestamp)) AS Root
FROM `otel`.`otel_logs`
WHERE LogAttributes['request_id'] != ''
GROUP BY CorrelationId, TraceId, Day;

-- ollystack_service_spans_mv (reads otel_traces)
CREATE MATERIALIZED VIEW IF NOT EXISTS `otel`.`ollystack_service_spans_mv` ON CLUSTER `ollystack-prod`
TO `otel`.`ollystack_service_spans`
AS SELECT
    Timestamp,
    TraceId,
    SpanId,
    ParentSpanId,
    ServiceName,
    Duration,
    toUInt8(StatusCode = 'Error') AS IsError
FROM `otel`.`otel_traces`;

-- ollystack_error_fingerprints_traces_mv (reads otel_traces)
CREATE MATERIALIZED VIEW IF NOT EXISTS `otel`.`ollystack_error_fingerprints_traces_mv` ON CLUSTER `ollystack-prod`
TO `otel`.`ollystack_error_fingerprints`
AS SELECT
    toDate(Timestamp) AS Day,
    'span' AS Signal,
    ServiceName,
    CAST(SpanName AS String) AS Operation,
    arrayElement(arrayFilter(x -> x != '', arrayMap(a -> a['exception.type'], `Events.Attributes`)), 1) AS ExceptionType,
    replaceRegexpAll(substring(if(StatusMessage != '', StatusMessage, arrayElement(arrayFilter(x -> x != '', arrayMap(a -> a['exception.message'], `Events.Attributes`)), 1)), 1, 512), '[0-9]+', '?') AS Message,
    cityHash64(CAST(ServiceName AS String), Operation, ExceptionType, Message) AS Fingerprint,
    count() AS Count,
    min(Timestamp) AS FirstSeen,
    max(Timestamp) AS LastSeen,
    any(TraceId) AS SampleTraceId
FROM `otel`.`otel_traces`
WHERE StatusCode = 'Error'
GROUP BY Day, Signal, ServiceName, Operation, ExceptionType, Message, Fingerprint;

-- ollystack_error_fingerprints_logs_mv (reads otel_logs)
CREATE MATERIALIZED VIEW IF NOT EXISTS `otel`.`ollystack_error_fingerprints_logs_mv` ON CLUSTER `ollystack-prod`
TO `otel`.`ollystack_error_fingerprints`
AS SELECT
    toDate(Timestamp) AS Day,
    'log' AS Signal,
    ServiceName,
    '' AS Operation,
    LogAttributes['exception.type'] AS ExceptionType,
    replaceRegexpAll(substring(if(LogAttributes['exception.message'] != '', LogAttributes['exception.message'], Body), 1, 512), '[0-9]+', '?') AS Message,
    cityHash64(CAST(ServiceName AS String), Operation, ExceptionType, Message) AS Fingerprint,
    count() AS Count,
    min(Timestamp) AS FirstSeen,
    max(Timestamp) AS LastSeen,
    any(TraceId) AS SampleTraceId
FROM `otel`.`otel_logs`
WHERE SeverityNumber >= 17
GROUP BY Day, Signal, ServiceName, Operation, ExceptionType, Message, Fingerprint;

