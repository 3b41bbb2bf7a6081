-- A tenant's latest usage records are read by (tenant, recorded_at); the
-- index on recorded_at alone served no query and cost every write.
DROP INDEX usage_by_time;
CREATE INDEX usage_by_tenant_time ON usage_records (tenant, recorded_at);
