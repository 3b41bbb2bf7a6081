-- The operator's per-tenant overrides of the server's default limits; a
-- NULL column takes the default. Tenants read their limits, never set them.
CREATE TABLE tenant_limits (
    tenant              TEXT PRIMARY KEY,
    concurrency         BIGINT,
    rate_per_second     BIGINT,
    burst               BIGINT,
    storage_quota_bytes BIGINT,
    fan_out             BIGINT,
    updated_at          BIGINT NOT NULL
);
