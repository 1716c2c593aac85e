SELECT toInt64(count()) AS c0, count() / ? AS c1, CAST(avgOrNull(Duration) AS Nullable(Float64)) AS c2, CAST(minOrNull(Duration) AS Nullable(Float64)) AS c3, CAST(maxOrNull(Duration) AS Nullable(Float64)) AS c4, CAST(quantileOrNull(0.5)(Duration) AS Nullable(Float64)) AS c5, CAST(quantileOrNull(0.9)(Duration) AS Nullable(Float64)) AS c6, CAST(quantileOrNull(0.99)(Duration) AS Nullable(Float64)) AS c7
FROM `default`.`otel_traces`
WHERE Timestamp >= fromUnixTimestamp64Nano(toInt64(?)) AND Timestamp < fromUnixTimestamp64Nano(toInt64(?)) AND StatusCode = ? AND Duration > ? AND SpanKind != ?
ORDER BY c0
LIMIT ?
-- arg 1: float64 3600
-- arg 2: int64 1795366800000000000
-- arg 3: int64 1795370400000000000
-- arg 4: string "Error"
-- arg 5: int64 250000000
-- arg 6: string "Internal"
-- arg 7: int 101
-- column count int
-- column rate float
-- column avg_duration duration nullable
-- column min_duration duration nullable
-- column max_duration duration nullable
-- column p50_duration duration nullable
-- column p90_duration duration nullable
-- column p99_duration duration nullable
