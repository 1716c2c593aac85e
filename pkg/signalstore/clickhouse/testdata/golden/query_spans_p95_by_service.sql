SELECT SpanName AS c0, CAST(quantileOrNull(0.95)(Duration) AS Nullable(Float64)) AS c1, toInt64(count()) AS c2
FROM `default`.`otel_traces`
WHERE Timestamp >= fromUnixTimestamp64Nano(toInt64(?)) AND Timestamp < fromUnixTimestamp64Nano(toInt64(?)) AND ServiceName = ?
GROUP BY c0
ORDER BY c1 DESC, c0 ASC
LIMIT ?
-- arg 1: int64 1795366800000000000
-- arg 2: int64 1795370400000000000
-- arg 3: string "checkout"
-- arg 4: int 11
-- column span_name string
-- column p95_duration duration nullable
-- column count int
