-- The wishlist: tenants' feature requests, their votes, comments,
-- subscriptions and history, searched with FTS5; and funding to go first,
-- a co-funding campaign tied to a request instead of a published plugin.

CREATE TABLE feature_requests (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    title              TEXT NOT NULL,
    problem            TEXT NOT NULL,
    details            TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('open', 'under-review', 'accepted', 'declined', 'duplicate', 'planned', 'in-progress', 'delivered')),
    posted_by          TEXT NOT NULL REFERENCES accounts (id),
    duplicate_of       BIGINT REFERENCES feature_requests (id),
    builder            TEXT REFERENCES namespaces (name),
    reason             TEXT,
    delivered_package  TEXT,
    delivered_version  TEXT,
    delivered_at       BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX feature_requests_by_status ON feature_requests (status, created_at);

-- One vote per tenant; the count is always the rows'.
CREATE TABLE request_votes (
    request  BIGINT NOT NULL REFERENCES feature_requests (id),
    tenant   TEXT NOT NULL REFERENCES accounts (id),
    at       BIGINT NOT NULL,
    PRIMARY KEY (request, tenant)
);
CREATE INDEX request_votes_by_tenant ON request_votes (tenant);

CREATE TABLE request_subscriptions (
    request  BIGINT NOT NULL REFERENCES feature_requests (id),
    account  TEXT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (request, account)
);

CREATE TABLE request_comments (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    request  BIGINT NOT NULL REFERENCES feature_requests (id),
    author   TEXT NOT NULL REFERENCES accounts (id),
    body     TEXT NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX request_comments_by_request ON request_comments (request, id);

-- Every change of a request: who, why, from and to. Nothing here is updated.
CREATE TABLE request_history (
    request      BIGINT NOT NULL REFERENCES feature_requests (id),
    seq          BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    by_account   TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    note         TEXT NOT NULL,
    PRIMARY KEY (request, seq)
);

-- Full-text search over title, problem and details (external content:
-- the triggers keep it in step with the table).
CREATE VIRTUAL TABLE feature_requests_fts USING fts5(
    title, problem, details,
    content = 'feature_requests', content_rowid = 'id',
    tokenize = 'porter unicode61'
);
CREATE TRIGGER feature_requests_fts_insert AFTER INSERT ON feature_requests BEGIN
    INSERT INTO feature_requests_fts (rowid, title, problem, details)
    VALUES (new.id, new.title, new.problem, new.details);
END;
CREATE TRIGGER feature_requests_fts_update AFTER UPDATE OF title, problem, details ON feature_requests BEGIN
    INSERT INTO feature_requests_fts (feature_requests_fts, rowid, title, problem, details)
    VALUES ('delete', old.id, old.title, old.problem, old.details);
    INSERT INTO feature_requests_fts (rowid, title, problem, details)
    VALUES (new.id, new.title, new.problem, new.details);
END;

-- A campaign now funds either a published plugin (`package`) or a request
-- (`request`, the plugin unknown until delivery). A request's campaign is
-- funded the moment its goal is reached: its pledges are invoiced at the
-- close of `invoice_period`, held in the ledger as the request's funding,
-- and released to `builder_account` at the close of `release_period`.
CREATE TABLE campaigns_new (
    id               TEXT PRIMARY KEY,
    package          TEXT REFERENCES packages (name),
    request          BIGINT REFERENCES feature_requests (id),
    title            TEXT NOT NULL,
    goal             BIGINT NOT NULL,
    deadline         BIGINT NOT NULL,
    return_bps       BIGINT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'funded', 'lapsed')),
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    funded_at        BIGINT,
    invoice_period   TEXT,
    builder_account  TEXT REFERENCES accounts (id),
    release_period   TEXT,
    CHECK (package IS NOT NULL OR request IS NOT NULL)
);
INSERT INTO campaigns_new (id, package, title, goal, deadline, return_bps, status, created_by, created_at)
    SELECT id, package, title, goal, deadline, return_bps, status, created_by, created_at FROM campaigns;
CREATE TABLE pledges_new (
    campaign  TEXT NOT NULL REFERENCES campaigns_new (id),
    tenant    TEXT NOT NULL REFERENCES accounts (id),
    amount    BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (campaign, tenant)
);
INSERT INTO pledges_new (campaign, tenant, amount, at) SELECT campaign, tenant, amount, at FROM pledges;
DROP TABLE pledges;
DROP TABLE campaigns;
ALTER TABLE campaigns_new RENAME TO campaigns;
ALTER TABLE pledges_new RENAME TO pledges;
CREATE UNIQUE INDEX campaigns_one_live_per_request ON campaigns (request) WHERE request IS NOT NULL AND status <> 'lapsed';
CREATE INDEX campaigns_by_invoice_period ON campaigns (invoice_period);
CREATE INDEX campaigns_by_release_period ON campaigns (release_period);

-- An investment born of a request's funding is paid back from the first
-- period after the delivery; before that period the close leaves it out.
ALTER TABLE investments ADD COLUMN pays_from TEXT;
