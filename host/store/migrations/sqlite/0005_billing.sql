-- Billing: usage assigned to periods, plans, agreements, investments,
-- co-funding, tenant terms, the ledger, invoices and statements.

-- The period a usage record is billed in: its calendar month (UTC), or the
-- first open period if that month was closed when the record arrived.
ALTER TABLE usage_records ADD COLUMN period TEXT NOT NULL DEFAULT '';
UPDATE usage_records SET period = strftime('%Y-%m', recorded_at / 1000, 'unixepoch');
-- Covers the close's aggregation, which then reads the index alone.
CREATE INDEX usage_by_period ON usage_records (period, tenant, plugin, operation, outcome, version, fuel);

-- Billable metric units of successful calls: one row per (call, metric,
-- key). `unit_key` is '' for summed metrics; for unique metrics the close
-- counts distinct keys per (tenant, plugin, metric) in the period.
CREATE TABLE usage_units (
    tenant    TEXT NOT NULL,
    id        TEXT NOT NULL,
    period    TEXT NOT NULL,
    plugin    TEXT NOT NULL,
    metric    TEXT NOT NULL,
    unit_key  TEXT NOT NULL,
    quantity  BIGINT NOT NULL,
    PRIMARY KEY (tenant, id, metric, unit_key)
);
CREATE INDEX usage_units_by_period ON usage_units (period, tenant, plugin, metric, unit_key, quantity);

-- The platform's billing settings and the close watermark: one row. Usage
-- writers lock it shared, the close exclusively, so a record is either in
-- the period being closed or lands in the next open one.
CREATE TABLE billing_state (
    id                BIGINT PRIMARY KEY CHECK (id = 1),
    currency          TEXT NOT NULL,
    platform_fee_bps  BIGINT NOT NULL,
    last_closed       TEXT
);
INSERT INTO billing_state (id, currency, platform_fee_bps, last_closed) VALUES (1, 'EUR', 2000, NULL);

-- A plugin's price plans, as its author set them; `seq` 1, 2, … A plan
-- applies from `effective_from` until a later one does.
CREATE TABLE price_plans (
    package         TEXT NOT NULL REFERENCES packages (name),
    seq             BIGINT NOT NULL,
    effective_from  TEXT NOT NULL,
    plan            TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (package, seq)
);

-- The split of a plugin's revenue, set by the operator, and its payback
-- accrual (1/10000 minor units, a u128 as text). Without a row: the
-- platform's default fee, no investors, the first publisher as author.
CREATE TABLE agreements (
    package             TEXT PRIMARY KEY REFERENCES packages (name),
    author              TEXT NOT NULL REFERENCES accounts (id),
    platform_fee_bps    BIGINT NOT NULL,
    investor_share_bps  BIGINT NOT NULL,
    after_payback       TEXT NOT NULL,
    accrued             TEXT NOT NULL,
    updated_at          BIGINT NOT NULL
);

-- Investments in a plugin, paid back from its revenue; `paid` so far.
CREATE TABLE investments (
    id          TEXT PRIMARY KEY,
    package     TEXT NOT NULL REFERENCES packages (name),
    investor    TEXT NOT NULL REFERENCES accounts (id),
    principal   BIGINT NOT NULL,
    return_bps  BIGINT NOT NULL,
    paid        BIGINT NOT NULL,
    campaign    TEXT,
    funded_at   BIGINT NOT NULL
);
CREATE INDEX investments_by_package ON investments (package, funded_at, id);

-- Co-funding campaigns and their pledges (one per tenant, replaceable
-- until the deadline).
CREATE TABLE campaigns (
    id          TEXT PRIMARY KEY,
    package     TEXT NOT NULL REFERENCES packages (name),
    title       TEXT NOT NULL,
    goal        BIGINT NOT NULL,
    deadline    BIGINT NOT NULL,
    return_bps  BIGINT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'funded', 'lapsed')),
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE pledges (
    campaign  TEXT NOT NULL REFERENCES campaigns (id),
    tenant    TEXT NOT NULL REFERENCES accounts (id),
    amount    BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (campaign, tenant)
);

-- A tenant's minimum monthly commitment and discounts.
CREATE TABLE tenant_terms (
    tenant   TEXT PRIMARY KEY REFERENCES accounts (id),
    minimum  BIGINT NOT NULL
);
CREATE TABLE discounts (
    id           TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL REFERENCES accounts (id),
    reason       TEXT NOT NULL,
    amount       TEXT NOT NULL,  -- JSON: {"kind":"percent","bps":…} or {"kind":"fixed","minor":…}
    from_period  TEXT NOT NULL,
    to_period    TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- The ledger: balanced transactions of signed entries (debits positive).
-- Prepaid credit is the negated balance of a tenant's `credit` account.
CREATE TABLE ledger_transactions (
    id          TEXT PRIMARY KEY,
    period      TEXT NOT NULL,
    memo        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE ledger_entries (
    txn           TEXT NOT NULL REFERENCES ledger_transactions (id),
    seq           BIGINT NOT NULL,
    account_kind  TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    amount        BIGINT NOT NULL,
    PRIMARY KEY (txn, seq)
);
CREATE INDEX ledger_by_account ON ledger_entries (account_kind, account_id);

-- Closed periods, and what their close wrote. Nothing here is updated.
CREATE TABLE billing_periods (
    period     TEXT PRIMARY KEY,
    closed_at  BIGINT NOT NULL,
    closed_by  TEXT NOT NULL,
    summary    TEXT NOT NULL
);
CREATE TABLE invoices (
    number      TEXT PRIMARY KEY,
    period      TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    currency    TEXT NOT NULL,
    total       BIGINT NOT NULL,
    amount_due  BIGINT NOT NULL,
    document    TEXT NOT NULL,  -- JSON of the invoice
    issued_at   BIGINT NOT NULL
);
CREATE INDEX invoices_by_tenant ON invoices (tenant, period);
CREATE TABLE statements (
    number     TEXT PRIMARY KEY,
    period     TEXT NOT NULL,
    party      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    currency   TEXT NOT NULL,
    total      BIGINT NOT NULL,
    document   TEXT NOT NULL,
    issued_at  BIGINT NOT NULL
);
CREATE INDEX statements_by_party ON statements (party, period);
