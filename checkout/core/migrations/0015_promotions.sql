-- Promotions (issue #17): discount codes and their uses. Only additions, so the previous release
-- runs on this schema for the length of a deploy (docs/operations.md). Amounts are minor units.

-- A discount code: a seller's (for their products, all or the ones listed in
-- discount_code_products) or the platform's (seller = ''), either a percentage (percent_bps, in
-- basis points) or a fixed amount in one currency. Codes are case-insensitive (code_key is the
-- upper-cased code) and unique per scope. A code with a currency applies only to orders in it.
CREATE TABLE discount_codes (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,                       -- as its creator wrote it
    code_key TEXT NOT NULL,                   -- upper-cased: what a buyer's code is matched on
    seller TEXT NOT NULL DEFAULT '',          -- catalogue seller slug; '' = a platform code
    percent_bps INTEGER CHECK (percent_bps BETWEEN 1 AND 10000),
    amount INTEGER CHECK (amount > 0),
    currency TEXT,
    starts_at TEXT,
    ends_at TEXT,
    max_uses INTEGER CHECK (max_uses > 0),    -- paid orders, all buyers
    per_buyer INTEGER CHECK (per_buyer > 0),  -- paid orders of one buyer
    min_order INTEGER CHECK (min_order > 0),  -- the order's catalogue total, in `currency`
    first_purchase_only INTEGER NOT NULL DEFAULT 0,
    paused INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER,
    created_at TEXT NOT NULL,
    CHECK ((percent_bps IS NULL) <> (amount IS NULL)),
    CHECK (amount IS NULL OR currency IS NOT NULL),
    CHECK (min_order IS NULL OR currency IS NOT NULL),
    UNIQUE (seller, code_key)
);
CREATE INDEX discount_codes_key ON discount_codes(code_key);

CREATE TABLE discount_code_products (
    code_id INTEGER NOT NULL REFERENCES discount_codes(id),
    product_slug TEXT NOT NULL,
    PRIMARY KEY (code_id, product_slug)
) WITHOUT ROWID;

-- One row per paid order that used a code, written in the transaction that fulfils the order
-- (so the last use cannot be taken twice). discount: what the buyer saved; revenue: what they paid.
CREATE TABLE discount_uses (
    id INTEGER PRIMARY KEY,
    code_id INTEGER NOT NULL REFERENCES discount_codes(id),
    order_id INTEGER NOT NULL UNIQUE REFERENCES orders(id),
    user_id INTEGER NOT NULL,
    currency TEXT NOT NULL,
    discount INTEGER NOT NULL CHECK (discount >= 0),
    revenue INTEGER NOT NULL CHECK (revenue >= 0),
    created_at TEXT NOT NULL
);
CREATE INDEX discount_uses_code ON discount_uses(code_id, user_id);

-- The code an order was priced with (a pending order holds one use for DISCOUNT_HOLD_MINUTES).
ALTER TABLE orders ADD COLUMN discount_code_id INTEGER REFERENCES discount_codes(id);
CREATE INDEX orders_discount_code ON orders(discount_code_id, status) WHERE discount_code_id IS NOT NULL;
-- A discounted line: list_amount is the catalogue price (amount is what was paid), discount the
-- difference; subsidy is what a platform code pays the seller from `platform:discounts` so the
-- seller gets what an undiscounted sale would give (seller's share = net + subsidy).
ALTER TABLE order_lines ADD COLUMN list_amount INTEGER;
ALTER TABLE order_lines ADD COLUMN discount INTEGER NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN subsidy INTEGER NOT NULL DEFAULT 0;

-- Affiliates: a seller invites an account to earn a commission (basis points of what the buyer
-- paid for a line, taken from the seller's share, never from the platform fee) on sales through
-- its link (`?via=CODE`), for all the seller's products or the ones in affiliate_products.
CREATE TABLE affiliates (
    id INTEGER PRIMARY KEY,
    seller TEXT NOT NULL,                     -- catalogue seller slug
    user_id INTEGER NOT NULL REFERENCES users(id),
    code TEXT NOT NULL UNIQUE,                -- the ?via= value, upper-cased
    commission_bps INTEGER NOT NULL CHECK (commission_bps BETWEEN 1 AND 10000),
    active INTEGER NOT NULL DEFAULT 1,
    created_by INTEGER,
    created_at TEXT NOT NULL,
    UNIQUE (seller, user_id)
);
CREATE TABLE affiliate_products (
    affiliate_id INTEGER NOT NULL REFERENCES affiliates(id),
    product_slug TEXT NOT NULL,
    PRIMARY KEY (affiliate_id, product_slug)
) WITHOUT ROWID;
-- Buy or Add-to-cart forms sent with the link's code, per UTC day.
CREATE TABLE affiliate_clicks (
    affiliate_id INTEGER NOT NULL REFERENCES affiliates(id),
    day TEXT NOT NULL,
    clicks INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (affiliate_id, day)
) WITHOUT ROWID;
-- A line sold through an affiliate's link: the commission booked to `affiliate:<id>:pending`
-- (the seller's share is then net + subsidy − commission).
ALTER TABLE order_lines ADD COLUMN affiliate_id INTEGER REFERENCES affiliates(id);
ALTER TABLE order_lines ADD COLUMN commission INTEGER NOT NULL DEFAULT 0;
CREATE INDEX order_lines_affiliate ON order_lines(affiliate_id) WHERE affiliate_id IS NOT NULL;

-- Upsells: at checkout, a product's seller offers one other product of theirs to add with one
-- click before paying, at its price or `percent_bps` off (borne by the seller).
CREATE TABLE upsells (
    product_slug TEXT PRIMARY KEY,
    seller TEXT NOT NULL,
    offer_slug TEXT NOT NULL,
    percent_bps INTEGER CHECK (percent_bps BETWEEN 1 AND 9999),
    created_at TEXT NOT NULL,
    CHECK (offer_slug <> product_slug)
);
