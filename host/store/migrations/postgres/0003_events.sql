-- One row per delivery of an event to an install.
CREATE TABLE event_deliveries (
    tenant        TEXT NOT NULL,
    event_id      TEXT NOT NULL,
    topic         TEXT NOT NULL,
    package       TEXT NOT NULL,
    depth         BIGINT NOT NULL,
    outcome       TEXT NOT NULL,
    message       TEXT NOT NULL,
    delivered_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, event_id, package)
);
