-- Retention of product files (issue #8): when each product and file was seen in catalog.json,
-- so the retention job knows which products left the catalogue and since when.

CREATE TABLE catalog_products (      -- one row per product slug ever seen in catalog.json
    product_slug TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,      -- last catalogue load that listed it
    removed_at TEXT                  -- first load without it; NULL while listed (a re-listed product resets it)
);
CREATE INDEX catalog_products_removed ON catalog_products(removed_at);

CREATE TABLE catalog_files (         -- one row per (product, file key) ever listed
    product_slug TEXT NOT NULL,
    file_key TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    sha256 TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    purged_at TEXT,                  -- deleted from storage by the retention job
    PRIMARY KEY (product_slug, file_key)
);
CREATE INDEX catalog_files_key ON catalog_files(file_key);
