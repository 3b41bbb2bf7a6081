-- Tokens may expire: a token past `expires_at` (unix ms) is refused like a
-- revoked one. NULL: it does not expire.
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;
