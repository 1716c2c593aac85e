SELECT toUnixTimestamp64Nano(min(FirstSeen)), toUnixTimestamp64Nano(max(LastSeen)), count()
FROM `default`.`ollystack_correlations`
WHERE CorrelationId = ?
-- arg 1: string "order-42"
