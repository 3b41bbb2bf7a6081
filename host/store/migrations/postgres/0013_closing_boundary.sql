-- The period a close is under way for. A close first fixes this boundary in
-- a short transaction: from then on usage writers put records of that
-- period into the next open one, without waiting for the close, which
-- computes under a lock the writers never take.
ALTER TABLE billing_state ADD COLUMN closing TEXT;
