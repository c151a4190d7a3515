-- Payments (issue #6): orders, purchases, Paystack events, the double-entry ledger, carts,
-- wishlists, refunds, seller bank accounts and payouts. Amounts are integer minor units.

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,           -- our reference, sent to Paystack
    user_id INTEGER NOT NULL REFERENCES users(id),
    email TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    status TEXT NOT NULL CHECK (status IN ('pending','paid','failed','abandoned','flagged','refunded','partially_refunded')),
    catalog_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    paid_at TEXT,
    authorization_url TEXT,
    paystack_id INTEGER,                      -- Paystack's transaction id
    paystack_fees INTEGER,                    -- Paystack's own charge, the platform's cost
    flag_reason TEXT,
    guest INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
CREATE INDEX orders_user ON orders(user_id, created_at);
CREATE INDEX orders_status ON orders(status, created_at);

CREATE TABLE order_lines (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    product_slug TEXT NOT NULL,
    seller TEXT NOT NULL,                     -- catalogue seller slug
    title TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    fee_bps INTEGER NOT NULL CHECK (fee_bps BETWEEN 0 AND 10000),
    fee INTEGER NOT NULL CHECK (fee >= 0),
    net INTEGER NOT NULL CHECK (net >= 0),
    released_at TEXT,                         -- seller earnings moved pending -> available
    refunded_at TEXT,
    CHECK (fee + net = amount)
);
CREATE INDEX order_lines_order ON order_lines(order_id);
CREATE INDEX order_lines_seller ON order_lines(seller);

CREATE TABLE purchases (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    order_id INTEGER NOT NULL REFERENCES orders(id),
    order_line_id INTEGER NOT NULL UNIQUE REFERENCES order_lines(id),
    product_slug TEXT NOT NULL,
    seller TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active','refunded','revoked')),
    created_at TEXT NOT NULL,
    refunded_at TEXT
);
CREATE INDEX purchases_user ON purchases(user_id, product_slug);
-- A buyer owns a product at most once while it is active.
CREATE UNIQUE INDEX purchases_one_active ON purchases(user_id, product_slug) WHERE status = 'active';

-- Every webhook (and verify result) as received; (event, dedup_key) is unique because
-- Paystack events carry no id: a redelivery inserts nothing and applies nothing.
CREATE TABLE payment_events (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL CHECK (source IN ('webhook','verify','reconcile')),
    event TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    reference TEXT,
    raw_body TEXT NOT NULL,
    signature_ok INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    applied_at TEXT,
    outcome TEXT NOT NULL DEFAULT 'received',
    UNIQUE (event, dedup_key)
);
CREATE INDEX payment_events_reference ON payment_events(reference);

-- The ledger. A journal is opened, its entries inserted, then it is posted; posting checks
-- that the entries sum to zero per currency. Entries of a posted journal can never be
-- added, changed or deleted, and a journal cannot be un-posted.
CREATE TABLE ledger_journals (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('sale','paystack_fee','release','refund','payout','payout_success','payout_return')),
    order_id INTEGER REFERENCES orders(id),
    order_line_id INTEGER REFERENCES order_lines(id),
    refund_id INTEGER REFERENCES refunds(id),
    payout_id INTEGER REFERENCES payouts(id),
    memo TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    posted INTEGER NOT NULL DEFAULT 0 CHECK (posted IN (0, 1))
);
-- One sale and one Paystack-fee journal per order, one release/refund per line, one of each payout step.
CREATE UNIQUE INDEX ledger_one_sale ON ledger_journals(order_id, kind) WHERE kind IN ('sale', 'paystack_fee');
CREATE UNIQUE INDEX ledger_one_per_line ON ledger_journals(order_line_id, kind) WHERE kind IN ('release', 'refund');
CREATE UNIQUE INDEX ledger_one_per_payout ON ledger_journals(payout_id, kind) WHERE payout_id IS NOT NULL;

CREATE TABLE ledger_entries (
    id INTEGER PRIMARY KEY,
    journal_id INTEGER NOT NULL REFERENCES ledger_journals(id),
    account TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount <> 0),
    order_line_id INTEGER REFERENCES order_lines(id)   -- which sale line a movement belongs to
);
CREATE INDEX ledger_entries_account ON ledger_entries(account, currency);
CREATE INDEX ledger_entries_journal ON ledger_entries(journal_id);

CREATE TRIGGER ledger_entries_open_journal BEFORE INSERT ON ledger_entries
WHEN (SELECT posted FROM ledger_journals WHERE id = NEW.journal_id) IS NOT 0
BEGIN SELECT RAISE(ABORT, 'ledger: entries can only be added to an open journal'); END;
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger: entries are append-only'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger: entries are append-only'); END;
CREATE TRIGGER ledger_journals_no_delete BEFORE DELETE ON ledger_journals
BEGIN SELECT RAISE(ABORT, 'ledger: journals are append-only'); END;
CREATE TRIGGER ledger_journals_post BEFORE UPDATE ON ledger_journals
BEGIN
    SELECT RAISE(ABORT, 'ledger: a posted journal cannot change') WHERE OLD.posted = 1;
    SELECT RAISE(ABORT, 'ledger: only the posted flag of a journal can change')
    WHERE NEW.kind IS NOT OLD.kind OR NEW.order_id IS NOT OLD.order_id OR NEW.order_line_id IS NOT OLD.order_line_id
       OR NEW.refund_id IS NOT OLD.refund_id OR NEW.payout_id IS NOT OLD.payout_id;
    SELECT RAISE(ABORT, 'ledger: a journal needs at least two entries')
    WHERE (SELECT COUNT(*) FROM ledger_entries WHERE journal_id = NEW.id) < 2;
    SELECT RAISE(ABORT, 'ledger: journal entries do not sum to zero')
    WHERE EXISTS (SELECT 1 FROM ledger_entries WHERE journal_id = NEW.id GROUP BY currency HAVING SUM(amount) <> 0);
END;

-- Which user account manages which catalogue seller (sellers are slugs in catalog.json).
CREATE TABLE seller_accounts (
    seller_slug TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    fee_bps INTEGER CHECK (fee_bps BETWEEN 0 AND 10000),   -- premium override; NULL = PLATFORM_FEE_BPS
    created_at TEXT NOT NULL
);
CREATE INDEX seller_accounts_user ON seller_accounts(user_id);

CREATE TABLE cart_items (
    id INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,                      -- 'u:<user id>' or 'g:<guest cart id>'
    product_slug TEXT NOT NULL,
    amount INTEGER,                           -- pay-what-you-want amount chosen, else NULL
    added_at TEXT NOT NULL,
    UNIQUE (owner, product_slug)
);

CREATE TABLE wishlist_items (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    product_slug TEXT NOT NULL,
    added_at TEXT NOT NULL,
    UNIQUE (user_id, product_slug)
);

CREATE TABLE refunds (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    order_line_id INTEGER NOT NULL REFERENCES order_lines(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('requested','approved','processing','processed','rejected','failed')),
    requested_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by INTEGER REFERENCES users(id),
    paystack_refund_id INTEGER,
    processed_at TEXT,
    last_error TEXT
);
-- At most one open or processed refund per line.
CREATE UNIQUE INDEX refunds_one_per_line ON refunds(order_line_id) WHERE status NOT IN ('rejected', 'failed');

CREATE TABLE payout_recipients (
    id INTEGER PRIMARY KEY,
    seller_slug TEXT NOT NULL,
    currency TEXT NOT NULL,
    recipient_code TEXT NOT NULL,
    bank_code TEXT NOT NULL,
    account_number TEXT NOT NULL,
    account_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (seller_slug, currency)
);

CREATE TABLE payouts (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    seller_slug TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    recipient_code TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued','pending','success','failed','reversed')),
    transfer_code TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX payouts_seller ON payouts(seller_slug, currency);
