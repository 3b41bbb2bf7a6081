-- The stored answer of a call made with an Idempotency-Key. The row is
-- written in the same transaction as the call's usage record, so a retry
-- is answered from here and billed once.
CREATE TABLE idempotent_calls (
    tenant       TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,  -- sha256 of package, operation and body
    answer       TEXT NOT NULL,  -- JSON
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant, key)
);
