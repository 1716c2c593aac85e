SELECT SpanAttributes[?] AS c0, ResourceAttributes[?] AS c1, toInt64(count()) AS c2
FROM `default`.`otel_traces`
WHERE Timestamp >= fromUnixTimestamp64Nano(toInt64(?)) AND Timestamp < fromUnixTimestamp64Nano(toInt64(?)) AND SpanAttributes[?] != ? AND ResourceAttributes[?] = ?
GROUP BY c0, c1
ORDER BY c2 DESC, c0 ASC, c1 ASC
LIMIT ?
-- arg 1: string "http.route"
-- arg 2: string "k8s.pod.name"
-- arg 3: int64 1795366800000000000
-- arg 4: int64 1795370400000000000
-- arg 5: string "http.route"
-- arg 6: string "/health"
-- arg 7: string "deployment.environment.name"
-- arg 8: string "prod"
-- arg 9: int 101
-- column attribute.http.route string
-- column resource.k8s.pod.name string
-- column n int
