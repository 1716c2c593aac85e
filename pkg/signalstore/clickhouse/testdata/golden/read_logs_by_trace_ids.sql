SELECT Timestamp, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber, ServiceName, Body,
    ResourceAttributes, ScopeName, ScopeVersion, LogAttributes, EventName
FROM `default`.`otel_logs`
WHERE TraceId IN ? AND Timestamp >= fromUnixTimestamp64Nano(toInt64(?)) AND Timestamp < fromUnixTimestamp64Nano(toInt64(?))
ORDER BY Timestamp, TraceId
-- arg 1: GroupSet ["0102030405060708090a0b0c0d0e0f10" "1112131415161718191a1b1c1d1e1f20"]
-- arg 2: int64 1795366800000000000
-- arg 3: int64 1795370400000000000
