-- The web console: sign-in sessions, and the legal details printed on
-- invoices (issuer and recipient). Numbered 0020 so it cannot collide with
-- migrations added meanwhile on other branches.

-- A console session, made from an API token. Only the sha256 of the
-- session id is stored (the id itself lives in the browser's cookie); a
-- session ends at `expires_at`, at sign-out, or when its token is revoked.
CREATE TABLE console_sessions (
    id_hash     TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL REFERENCES tokens (hash),
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    csrf        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);

-- Legal details of a party to an invoice: an account (the recipient), or
-- `@platform`, the operator's company that issues invoices.
CREATE TABLE party_details (
    party               TEXT PRIMARY KEY,
    legal_name          TEXT NOT NULL,
    address             TEXT NOT NULL,
    tax_id              TEXT NOT NULL,
    payment_terms_days  BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
