SELECT p.ServiceName AS caller, c.ServiceName AS callee,
    toInt64(count()) AS requests,
    toInt64(countIf(c.IsError = 1)) AS errors,
    avg(c.Duration) AS avg_duration,
    quantiles(0.5, 0.95, 0.99)(c.Duration) AS latency
FROM (
    SELECT TraceId, ParentSpanId, ServiceName, Duration, IsError FROM `default`.`ollystack_service_spans`
    WHERE ParentSpanId != '' AND Timestamp >= fromUnixTimestamp64Nano(toInt64(?)) AND Timestamp < fromUnixTimestamp64Nano(toInt64(?))
) AS c
INNER JOIN (
    SELECT TraceId, SpanId, ServiceName FROM `default`.`ollystack_service_spans`
    WHERE Timestamp >= fromUnixTimestamp64Nano(toInt64(?)) AND Timestamp < fromUnixTimestamp64Nano(toInt64(?))
) AS p ON c.TraceId = p.TraceId AND c.ParentSpanId = p.SpanId
WHERE p.ServiceName != c.ServiceName
GROUP BY caller, callee
ORDER BY caller, callee
-- arg 1: int64 1795366800000000000
-- arg 2: int64 1795370400000000000
-- arg 3: int64 1795366500000000000
-- arg 4: int64 1795370400000000000
