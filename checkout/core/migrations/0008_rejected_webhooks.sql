-- Refused webhooks (bad signature, wrong source) no longer go into payment_events: only
-- verified events are stored there. A small capped table keeps a sample of the refused ones
-- (count and last ones, for the alert and the admin), so forgeries cannot grow the database.
CREATE TABLE rejected_webhooks (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    ip TEXT,
    outcome TEXT NOT NULL,
    size INTEGER NOT NULL,
    sample TEXT NOT NULL
);
CREATE INDEX rejected_webhooks_at ON rejected_webhooks(at);

INSERT INTO rejected_webhooks (at, ip, outcome, size, sample)
    SELECT received_at, NULL, COALESCE(outcome, 'bad_signature'), LENGTH(raw_body), SUBSTR(raw_body, 1, 512)
    FROM payment_events WHERE signature_ok = 0 ORDER BY id DESC LIMIT 1000;
DELETE FROM payment_events WHERE signature_ok = 0;
