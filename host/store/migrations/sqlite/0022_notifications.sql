-- Notifications: each account's inbox, the webhooks it registered, and
-- every delivery to a webhook with each of its tries. Numbered 0022 so it
-- cannot collide with migrations added meanwhile on other branches.

-- One notification in an account's inbox. Ids sort by creation time; the
-- newest MAX_INBOX (1,000) per account are kept.
CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    account     TEXT NOT NULL REFERENCES accounts (id),
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    text        TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    read_at     BIGINT
);
CREATE INDEX notifications_by_account ON notifications (account, id);
CREATE INDEX notifications_unread ON notifications (account, read_at);

-- A webhook: where an account's notifications are POSTed. `events` is a
-- JSON array of kinds (empty: every kind); `secret` signs each delivery,
-- so it is kept as is (it is the receiver's key, not a password).
CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    account     TEXT NOT NULL REFERENCES accounts (id),
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX webhooks_by_account ON webhooks (account);

-- One notification's delivery to one webhook. `body` is fixed when it is
-- made, so every try sends the same bytes. A node claims a due try by
-- setting `claim` and `claimed_until` in one conditional UPDATE, so two
-- nodes never send the same try; a claim whose node died lapses.
CREATE TABLE webhook_deliveries (
    id             TEXT PRIMARY KEY,
    webhook        TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    account        TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    kind           TEXT NOT NULL,
    body           TEXT NOT NULL,
    status         TEXT NOT NULL,
    attempts       BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    first_try_at   BIGINT,
    next_try_at    BIGINT,
    claim          TEXT,
    claimed_until  BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_try_at);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook, created_at);

-- Every try of a delivery: the webhook's delivery log.
CREATE TABLE webhook_attempts (
    delivery     TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt      BIGINT NOT NULL,
    tried_at     BIGINT NOT NULL,
    status_code  BIGINT,
    error        TEXT,
    duration_ms  BIGINT NOT NULL,
    outcome      TEXT NOT NULL,
    next_try_at  BIGINT,
    PRIMARY KEY (delivery, attempt)
);
