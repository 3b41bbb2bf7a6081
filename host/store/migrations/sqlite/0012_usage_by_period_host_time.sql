-- The close sums host time beside fuel: the covering index it streams its
-- group-by from carries it too, so closing still reads no table rows.
CREATE INDEX usage_by_period_host ON usage_records (period, tenant, plugin, operation, outcome, version, fuel, host_time_us);
DROP INDEX usage_by_period;
