SELECT TraceId, min(FirstSeen) AS first_seen, max(LastSeen) AS last_seen
FROM `default`.`ollystack_correlations`
WHERE CorrelationId = ? AND TraceId != ''
GROUP BY TraceId
HAVING last_seen >= fromUnixTimestamp64Nano(toInt64(?)) AND first_seen < fromUnixTimestamp64Nano(toInt64(?))
ORDER BY first_seen, TraceId
-- arg 1: string "order-42"
-- arg 2: int64 1795366800000000000
-- arg 3: int64 1795370400000000000
