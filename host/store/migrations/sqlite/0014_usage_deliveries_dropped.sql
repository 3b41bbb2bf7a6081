-- Event deliveries a call caused that its tenant's fan-out budget dropped
-- (recorded as `fan-out-limit` deliveries too), so the call's own record
-- says how much of what it set off did not run.
ALTER TABLE usage_records ADD COLUMN deliveries_dropped BIGINT NOT NULL DEFAULT 0;
