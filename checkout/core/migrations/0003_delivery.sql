-- Delivery and seller uploads (issue #7): the download log, product versions seen, seller
-- submissions and the quarantine register. Purchases themselves belong to 0002 (issue #6).

-- Every download attempt with a validly signed link: 'started' rows are the downloads that
-- count (per purchase and file, per user and hour); other outcomes are refusals, kept so the
-- buyer, the seller and admins can see what happened. One link starts at most one download.
CREATE TABLE downloads (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users(id),
    purchase_id INTEGER REFERENCES purchases(id),
    product_slug TEXT NOT NULL,
    seller TEXT NOT NULL DEFAULT '',
    file_name TEXT NOT NULL DEFAULT '',
    file_sha256 TEXT NOT NULL,
    link_id TEXT NOT NULL,
    at TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT,
    outcome TEXT NOT NULL
);
CREATE UNIQUE INDEX downloads_one_start_per_link ON downloads(link_id) WHERE outcome = 'started';
CREATE INDEX downloads_purchase_file ON downloads(purchase_id, file_sha256, outcome);
CREATE INDEX downloads_user_at ON downloads(user_id, at);
CREATE INDEX downloads_seller ON downloads(seller, product_slug);

-- The version and file set of each product last seen in the catalogue, so a new version is
-- noticed once and its owners are emailed once.
CREATE TABLE product_versions (
    product_slug TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    files_hash TEXT NOT NULL,
    seen_at TEXT NOT NULL
);

-- A seller's product submission from the upload form; JSON columns hold the schema's fields.
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    product_slug TEXT NOT NULL,
    seller_slug TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'pending', 'approved', 'rejected')),
    fields TEXT NOT NULL DEFAULT '{}',
    files TEXT NOT NULL DEFAULT '[]',
    images TEXT NOT NULL DEFAULT '[]',
    scan TEXT NOT NULL DEFAULT '{}',
    reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by INTEGER REFERENCES users(id),
    published_as TEXT
);
CREATE INDEX submissions_user ON submissions(user_id);
CREATE INDEX submissions_status ON submissions(status);

-- Uploaded files refused by the type check or the virus scanner, moved under quarantine/.
CREATE TABLE quarantined_uploads (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users(id),
    file_name TEXT NOT NULL,
    storage_key TEXT,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);
