SELECT TimeUnix, StartTimeUnix, ServiceName, MetricName, MetricDescription, MetricUnit,
    ResourceAttributes, ScopeName, Attributes, toFloat64(0), Count, Sum, BucketCounts, ExplicitBounds, Min, Max, AggregationTemporality, false,
    `Exemplars.TimeUnix`, `Exemplars.Value`, `Exemplars.TraceId`, `Exemplars.SpanId`, `Exemplars.FilteredAttributes`
FROM `default`.`otel_metrics_histogram`
WHERE hasAny(`Exemplars.TraceId`, ?) AND TimeUnix >= fromUnixTimestamp64Nano(toInt64(?)) AND TimeUnix < fromUnixTimestamp64Nano(toInt64(?))
ORDER BY TimeUnix, MetricName
-- arg 1: []string []string{"0102030405060708090a0b0c0d0e0f10", "1112131415161718191a1b1c1d1e1f20"}
-- arg 2: int64 1795366800000000000
-- arg 3: int64 1795370400000000000
