-- Lines the operator voided for a period not yet closed: a tenant's use of
-- a plugin that the close does not rate (its reason goes to the ledger). One
-- per tenant, plugin and period; voiding again replaces the reason.
CREATE TABLE voids (
    period      TEXT NOT NULL,
    tenant      TEXT NOT NULL REFERENCES accounts (id),
    plugin      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (period, tenant, plugin)
);
