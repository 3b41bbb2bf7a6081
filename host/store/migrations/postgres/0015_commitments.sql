-- Minimum commitments over ranges of periods, in money or in units of a
-- plugin's metric. The single standing minimum of `tenant_terms` becomes an
-- open-ended money commitment from the earliest period; closed periods keep
-- their invoices as they were.
CREATE TABLE commitments (
    id           TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL REFERENCES accounts (id),
    minimum      TEXT NOT NULL,  -- JSON: {"kind":"money","minor":…} or {"kind":"units","plugin":…,"metric":…,"units":…}
    from_period  TEXT NOT NULL,
    to_period    TEXT,           -- NULL: until ended
    created_at   BIGINT NOT NULL
);
CREATE INDEX commitments_by_tenant ON commitments (tenant, created_at);
INSERT INTO commitments (id, tenant, minimum, from_period, to_period, created_at)
    SELECT 'com-' || tenant, tenant, '{"kind":"money","minor":' || CAST(minimum AS TEXT) || '}', '1970-01', NULL, 0
    FROM tenant_terms WHERE minimum > 0;
DROP TABLE tenant_terms;
