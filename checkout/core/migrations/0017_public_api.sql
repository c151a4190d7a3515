-- The public API (issue #21): personal access tokens with scopes, idempotency keys of POSTs that
-- create something, and sellers' outgoing webhooks (endpoints, and one row per delivery, which is
-- also the queue the webhook worker reads: written in the same transaction as the event).
-- Only additions, so the previous release runs on this schema for the length of a deploy.

CREATE TABLE personal_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,          -- the public part shown in lists ("ddp_ab12cd34")
    token_hash TEXT NOT NULL,             -- sha256 of the secret part; the token itself is shown once
    scopes TEXT NOT NULL,                 -- space-separated, e.g. "read:sales write:products"
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    last_used_ip TEXT,
    expires_at TEXT,
    revoked_at TEXT
);
CREATE INDEX personal_tokens_user ON personal_tokens(user_id, created_at);

-- Same key, same answer: a retried POST returns the first answer and creates nothing more.
CREATE TABLE idempotency_keys (
    user_id INTEGER NOT NULL REFERENCES users(id),
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    events TEXT NOT NULL,                 -- space-separated event names
    secret TEXT NOT NULL,                 -- signs deliveries (HMAC-SHA256); shown once
    old_secret TEXT,                      -- the previous secret, still signing until old_secret_until
    old_secret_until TEXT,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    disabled_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_user ON webhook_endpoints(user_id);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id),
    event TEXT NOT NULL,
    event_id TEXT NOT NULL,               -- the same for every redelivery of one event
    payload TEXT NOT NULL,                -- the exact JSON body sent
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'succeeded', 'failed', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_at TEXT,
    response_status INTEGER,
    response_body TEXT,                   -- the first bytes of the endpoint's answer
    last_error TEXT,
    duration_ms INTEGER,
    created_at TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id);
