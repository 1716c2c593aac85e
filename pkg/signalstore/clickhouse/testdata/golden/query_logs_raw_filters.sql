SELECT Timestamp AS c0, TraceId AS c1, SpanId AS c2, ServiceName AS c3, SeverityText AS c4, toInt64(SeverityNumber) AS c5, Body AS c6, LogAttributes[?] AS c7
FROM `default`.`otel_logs`
WHERE Timestamp >= fromUnixTimestamp64Nano(toInt64(?)) AND Timestamp < fromUnixTimestamp64Nano(toInt64(?)) AND position(Body, ?) > 0 AND SeverityNumber >= ? AND LogAttributes[?] = ? AND TraceId = ?
ORDER BY c0 DESC, c2 DESC
LIMIT ?
-- arg 1: string "correlation_id"
-- arg 2: int64 1795366800000000000
-- arg 3: int64 1795370400000000000
-- arg 4: string "timeout"
-- arg 5: int64 17
-- arg 6: string "correlation_id"
-- arg 7: string "order-42"
-- arg 8: string "0102030405060708090a0b0c0d0e0f10"
-- arg 9: int 101
-- column timestamp time
-- column trace_id string
-- column span_id string
-- column service_name string
-- column severity_text string
-- column severity_number int
-- column body string
-- column correlation_id string
