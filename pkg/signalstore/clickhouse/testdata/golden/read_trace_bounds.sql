SELECT toUnixTimestamp64Nano(toDateTime64(min(Start), 9)), toUnixTimestamp64Nano(toDateTime64(max(End), 9)), count()
FROM `default`.`otel_traces_trace_id_ts`
WHERE TraceId IN ?
-- arg 1: GroupSet ["0102030405060708090a0b0c0d0e0f10" "1112131415161718191a1b1c1d1e1f20"]
