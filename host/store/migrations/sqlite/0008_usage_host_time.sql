-- Wall time a call spent inside host functions (storage, WASI waits, the
-- contract's imports), in microseconds, beside the fuel its guest code
-- burnt. Records written before it was measured read 0.
ALTER TABLE usage_records ADD COLUMN host_time_us BIGINT NOT NULL DEFAULT 0;
