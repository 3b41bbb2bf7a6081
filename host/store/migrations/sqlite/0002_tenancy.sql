-- Installs, their history and pending upgrades; plugin storage; usage.

-- One install of a package by a tenant. `uninstalled_at` set means
-- uninstalled: the row and the plugin's storage stay for the retention
-- period unless purged.
CREATE TABLE installs (
    tenant          TEXT NOT NULL REFERENCES accounts (id),
    package         TEXT NOT NULL REFERENCES packages (name),
    requirement     TEXT NOT NULL,
    version         TEXT NOT NULL,
    previous        TEXT,
    grants          TEXT NOT NULL,   -- JSON array of capability names
    config          TEXT NOT NULL,   -- JSON object of settings
    storage_quota   BIGINT NOT NULL,
    installed_at    BIGINT NOT NULL,
    uninstalled_at  BIGINT,
    PRIMARY KEY (tenant, package)
);

CREATE TABLE install_history (
    tenant        TEXT NOT NULL,
    package       TEXT NOT NULL,
    seq           BIGINT NOT NULL,  -- 1, 2, … per install: the order of events
    at            BIGINT NOT NULL,
    action        TEXT NOT NULL,
    from_version  TEXT,
    to_version    TEXT,
    detail        TEXT NOT NULL
);
CREATE UNIQUE INDEX install_history_by_install ON install_history (tenant, package, seq);

-- A published version an install's requirement admits but that asks for
-- capabilities the tenant has not granted.
CREATE TABLE pending_upgrades (
    tenant            TEXT NOT NULL,
    package           TEXT NOT NULL,
    version           TEXT NOT NULL,
    new_capabilities  TEXT NOT NULL,  -- JSON array
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (tenant, package, version)
);

-- Plugin storage, scoped by (tenant, plugin). `size` = key + value bytes.
CREATE TABLE kv (
    tenant  TEXT NOT NULL,
    plugin  TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   BLOB NOT NULL,
    size    BIGINT NOT NULL,
    PRIMARY KEY (tenant, plugin, key)
);

-- One row per call. (tenant, id) is unique: the id is the call's
-- transaction id, so a record written twice is stored once.
CREATE TABLE usage_records (
    tenant           TEXT NOT NULL,
    id               TEXT NOT NULL,
    plugin           TEXT NOT NULL,
    version          TEXT NOT NULL,
    digest           TEXT NOT NULL,
    operation        TEXT NOT NULL,
    fuel             BIGINT NOT NULL,
    wall_time_us     BIGINT NOT NULL,
    peak_memory      BIGINT NOT NULL,
    outcome          TEXT NOT NULL,
    units            TEXT NOT NULL,   -- JSON array of meter reports
    idempotency_key  TEXT,
    recorded_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX usage_by_time ON usage_records (recorded_at);
