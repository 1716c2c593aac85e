SELECT fromUnixTimestamp64Nano(toInt64(intDiv(toUnixTimestamp64Nano(Timestamp), ?) * ?)) AS c0, toInt64(SeverityNumber) AS c1, count() / ? AS c2, CAST(avgOrNull(SeverityNumber) AS Nullable(Float64)) AS c3, CAST(maxOrNull(SeverityNumber) AS Nullable(Float64)) AS c4
FROM `default`.`otel_logs`
WHERE Timestamp >= fromUnixTimestamp64Nano(toInt64(?)) AND Timestamp < fromUnixTimestamp64Nano(toInt64(?))
GROUP BY c0, c1
ORDER BY c0 ASC, c1 ASC
LIMIT ?
-- arg 1: int64 60000000000
-- arg 2: int64 60000000000
-- arg 3: float64 60
-- arg 4: int64 1795366800000000000
-- arg 5: int64 1795370400000000000
-- arg 6: int 101
-- column time time
-- column severity_number int
-- column rate float
-- column avg_severity_number float nullable
-- column max_severity_number int nullable
