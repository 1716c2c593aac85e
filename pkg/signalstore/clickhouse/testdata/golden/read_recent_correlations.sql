SELECT CorrelationId,
    min(FirstSeen) AS first_seen,
    max(LastSeen) AS last_seen,
    toInt64(uniqExactIf(TraceId, TraceId != '')) AS traces,
    toInt64(sum(SpanCount)) AS spans,
    toInt64(sum(ErrorCount)) AS errors,
    toInt64(sum(LogCount)) AS logs,
    arraySort(groupUniqArrayArray(Services)) AS service_list,
    tupleElement(argMinMerge(Root), 1) = 1 AS has_root,
    tupleElement(argMinMerge(Root), 2) AS root_service,
    tupleElement(argMinMerge(Root), 3) AS root_span
FROM `default`.`ollystack_correlations`
WHERE CorrelationId IN (
    SELECT DISTINCT CorrelationId FROM `default`.`ollystack_correlations`
    WHERE Day >= toDate32(fromUnixTimestamp64Nano(toInt64(?))) - 1 AND LastSeen >= fromUnixTimestamp64Nano(toInt64(?))
)
GROUP BY CorrelationId
HAVING last_seen >= fromUnixTimestamp64Nano(toInt64(?))
ORDER BY last_seen DESC, CorrelationId
LIMIT ?
-- arg 1: int64 1795366800000000000
-- arg 2: int64 1795366800000000000
-- arg 3: int64 1795366800000000000
-- arg 4: int 100
