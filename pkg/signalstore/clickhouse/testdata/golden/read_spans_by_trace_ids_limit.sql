SELECT Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName,
    ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage,
    `Events.Timestamp`, `Events.Name`, `Events.Attributes`, `Links.TraceId`, `Links.SpanId`, `Links.TraceState`, `Links.Attributes`
FROM `default`.`otel_traces`
WHERE TraceId IN ? AND Timestamp >= fromUnixTimestamp64Nano(toInt64(?)) AND Timestamp < fromUnixTimestamp64Nano(toInt64(?))
ORDER BY Timestamp, SpanId
LIMIT ?
-- arg 1: GroupSet ["0102030405060708090a0b0c0d0e0f10" "1112131415161718191a1b1c1d1e1f20"]
-- arg 2: int64 1795366800000000000
-- arg 3: int64 1795370400000000000
-- arg 4: int 1001
