-- An Idempotency-Key is claimed before its call runs: the row is inserted
-- `pending` (no answer yet) with a random claim id, and completed to `done`
-- with the answer, in the transaction that writes the call's usage record.
-- A second request with the key finds the row and is answered from it (in
-- progress, or the stored answer) instead of running the plugin again.
-- Rows written before this migration are finished calls.
ALTER TABLE idempotent_calls ADD COLUMN state TEXT NOT NULL DEFAULT 'done';
ALTER TABLE idempotent_calls ADD COLUMN claim TEXT;
