-- Operations (issue #8): backup runs, replica/ops state and alert de-duplication.

CREATE TABLE backup_runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('snapshot', 'prune', 'replica')),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    ok INTEGER CHECK (ok IN (0, 1)),
    key TEXT,
    sha256 TEXT,
    size INTEGER,
    error TEXT
);
CREATE INDEX backup_runs_kind ON backup_runs(kind, id);

CREATE TABLE ops_state (             -- small named facts: replica freshness, last uptime probe
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE alerts (                -- one row per alert kind, so a flapping check mails once an interval
    kind TEXT PRIMARY KEY,
    message TEXT NOT NULL,
    first_at TEXT NOT NULL,
    last_sent_at TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 1
);
