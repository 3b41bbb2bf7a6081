-- Accounts, tokens and the registry. Times are unix milliseconds.

CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    role        TEXT NOT NULL CHECK (role IN ('operator', 'author', 'tenant')),
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- API tokens are stored as the sha256 of the token; the token itself is
-- shown once, when it is issued.
CREATE TABLE tokens (
    hash        TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    label       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE namespaces (
    name        TEXT PRIMARY KEY,
    created_at  BIGINT NOT NULL
);

CREATE TABLE namespace_owners (
    namespace   TEXT NOT NULL REFERENCES namespaces (name),
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (namespace, account_id)
);

-- Component bytes, content-addressed by `sha256:<hex>`.
CREATE TABLE blobs (
    digest      TEXT PRIMARY KEY,
    bytes       BLOB NOT NULL,
    size        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE packages (
    name        TEXT PRIMARY KEY,
    namespace   TEXT NOT NULL REFERENCES namespaces (name),
    description TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- A version is immutable once published; only `yanked` changes.
CREATE TABLE versions (
    package       TEXT NOT NULL REFERENCES packages (name),
    version       TEXT NOT NULL,
    digest        TEXT NOT NULL REFERENCES blobs (digest),
    manifest      TEXT NOT NULL,
    contract      TEXT NOT NULL,
    yanked        BIGINT NOT NULL DEFAULT 0,  -- 0 or 1: the Any driver has no portable boolean
    published_by  TEXT NOT NULL REFERENCES accounts (id),
    published_at  BIGINT NOT NULL,
    PRIMARY KEY (package, version)
);
