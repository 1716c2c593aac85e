SELECT Timestamp, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber, ServiceName, Body,
    ResourceAttributes, ScopeName, ScopeVersion, LogAttributes, EventName
FROM `default`.`otel_logs`
WHERE LogAttributes[?] = ? AND Timestamp >= fromUnixTimestamp64Nano(toInt64(?)) AND Timestamp < fromUnixTimestamp64Nano(toInt64(?))
ORDER BY Timestamp, TraceId
LIMIT ?
-- arg 1: string "correlation_id"
-- arg 2: string "order-42"
-- arg 3: int64 1795366800000000000
-- arg 4: int64 1795370400000000000
-- arg 5: int 20
