-- The bytes each (tenant, plugin) storage scope holds, kept as a running
-- total by every write: checking a quota reads one row, however full the
-- scope is (summing the sizes held the write lock for as long as the scope
-- was large, and slowed every other tenant's writes meanwhile).
CREATE TABLE kv_scopes (
    tenant TEXT NOT NULL,
    plugin TEXT NOT NULL,
    bytes  BIGINT NOT NULL,
    PRIMARY KEY (tenant, plugin)
);
INSERT INTO kv_scopes (tenant, plugin, bytes)
    SELECT tenant, plugin, SUM(size) FROM kv GROUP BY tenant, plugin;
