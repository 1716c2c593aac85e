SELECT Fingerprint, Signal, ServiceName,
    any(Operation), any(ExceptionType), any(Message),
    toInt64(sum(Count)) AS occurrences,
    min(FirstSeen) AS first_seen,
    max(LastSeen) AS last_seen,
    any(SampleTraceId)
FROM `default`.`ollystack_error_fingerprints`
WHERE Day >= toDate32(fromUnixTimestamp64Nano(toInt64(?))) AND Day <= toDate32(fromUnixTimestamp64Nano(toInt64(?)))
GROUP BY Fingerprint, Signal, ServiceName
HAVING last_seen >= fromUnixTimestamp64Nano(toInt64(?)) AND first_seen < fromUnixTimestamp64Nano(toInt64(?))
ORDER BY occurrences DESC, Fingerprint
LIMIT ?
-- arg 1: int64 1795366800000000000
-- arg 2: int64 1795370400000000000
-- arg 3: int64 1795366800000000000
-- arg 4: int64 1795370400000000000
-- arg 5: int 100
