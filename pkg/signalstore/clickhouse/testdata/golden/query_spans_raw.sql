SELECT Timestamp AS c0, TraceId AS c1, SpanId AS c2, ServiceName AS c3, SpanName AS c4, SpanKind AS c5, toInt64(Duration) AS c6, StatusCode AS c7, SpanAttributes[?] AS c8
FROM `default`.`otel_traces`
WHERE Timestamp >= fromUnixTimestamp64Nano(toInt64(?)) AND Timestamp < fromUnixTimestamp64Nano(toInt64(?))
ORDER BY c0 DESC, c2 DESC
LIMIT ?
-- arg 1: string "correlation_id"
-- arg 2: int64 1795366800000000000
-- arg 3: int64 1795370400000000000
-- arg 4: int 101
-- column timestamp time
-- column trace_id string
-- column span_id string
-- column service_name string
-- column span_name string
-- column span_kind string
-- column duration duration
-- column status_code string
-- column correlation_id string
