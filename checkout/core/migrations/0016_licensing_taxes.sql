-- Issue #18: license keys, stamped PDFs, taxes and invoices.

-- One license key per purchase of a product with `license_keys: true`. The key is shown to its
-- buyer (library, thank-you page, receipt) so it is kept as issued; it is never logged.
CREATE TABLE license_keys (
    id INTEGER PRIMARY KEY,
    purchase_id INTEGER NOT NULL UNIQUE REFERENCES purchases(id),
    product_slug TEXT NOT NULL,
    seller TEXT NOT NULL,
    license_key TEXT NOT NULL UNIQUE,
    activation_limit INTEGER CHECK (activation_limit IS NULL OR activation_limit >= 1),  -- NULL: no limit
    disabled_at TEXT,                          -- by the seller, or by a refund
    disabled_reason TEXT,
    created_at TEXT NOT NULL,
    reset_at TEXT                              -- the seller last cleared its activations
);
CREATE INDEX license_keys_seller ON license_keys(seller, product_slug);

-- Each machine a key was activated on; a deactivated one no longer counts against the limit.
CREATE TABLE license_activations (
    id INTEGER PRIMARY KEY,
    license_id INTEGER NOT NULL REFERENCES license_keys(id),
    instance_id TEXT NOT NULL UNIQUE,          -- given to the caller, who deactivates with it
    instance_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    deactivated_at TEXT
);
CREATE INDEX license_activations_key ON license_activations(license_id, deactivated_at);

-- Taxes. `order_lines.amount` stays the taxable amount (what the fee and the seller's share are
-- cut from); `tax` is charged on top of it, so the order's amount is Σ (amount + tax).
ALTER TABLE order_lines ADD COLUMN tax INTEGER NOT NULL DEFAULT 0 CHECK (tax >= 0);
ALTER TABLE order_lines ADD COLUMN tax_bps INTEGER NOT NULL DEFAULT 0 CHECK (tax_bps BETWEEN 0 AND 10000);
ALTER TABLE orders ADD COLUMN tax_country TEXT;        -- the buyer's choice at checkout (ISO 3166 alpha-2)
ALTER TABLE orders ADD COLUMN vat_id TEXT;             -- optional, printed on the invoice
ALTER TABLE orders ADD COLUMN prices_include_tax INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN card_country TEXT;       -- what Paystack reported for the card
ALTER TABLE orders ADD COLUMN country_mismatch TEXT;   -- flagged for a person, the order is not blocked

-- Invoices and credit notes. Numbers are consecutive per series without gaps: each is taken as
-- MAX + 1 inside the transaction that pays (or refunds) the order, which SQLite serialises, so a
-- rolled-back payment takes its number back with it. `data` is the document as issued (JSON).
CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    series TEXT NOT NULL,
    number INTEGER NOT NULL CHECK (number >= 1),
    order_id INTEGER NOT NULL REFERENCES orders(id),
    refund_id INTEGER REFERENCES refunds(id),
    issued_at TEXT NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (series, number)
);
CREATE UNIQUE INDEX invoices_one_per_order ON invoices(order_id) WHERE kind = 'invoice';
CREATE UNIQUE INDEX invoices_one_per_refund ON invoices(refund_id) WHERE kind = 'credit_note';
CREATE TRIGGER invoices_no_update BEFORE UPDATE ON invoices
BEGIN SELECT RAISE(ABORT, 'invoices: an issued invoice never changes'); END;
CREATE TRIGGER invoices_no_delete BEFORE DELETE ON invoices
BEGIN SELECT RAISE(ABORT, 'invoices: an issued invoice is never deleted'); END;

-- Stamped copies of PDFs, one per purchase and file, made on the first download.
CREATE TABLE stamped_files (
    id INTEGER PRIMARY KEY,
    purchase_id INTEGER NOT NULL REFERENCES purchases(id),
    sha256 TEXT NOT NULL,                      -- the original file's
    status TEXT NOT NULL CHECK (status IN ('preparing', 'ready', 'unstamped', 'failed')),
    storage_key TEXT,                          -- the stamped copy in storage
    stamped_sha256 TEXT,
    size INTEGER,
    note TEXT,                                 -- why a file was delivered unstamped
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (purchase_id, sha256)
);
