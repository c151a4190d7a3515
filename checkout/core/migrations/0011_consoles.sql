-- Consoles (issue #16): account standing (ban, verify), buyers' reports of products, claims of
-- catalogue sellers, product views, the ledger's daily roll-up that reports read, sealed seller
-- statements and samples of the edge's own metrics. Only additions, so the previous release
-- runs on this schema for the length of a deploy (docs/operations.md).

-- A banned account cannot sign in, its sessions and API tokens are gone, its catalogue sellers
-- are suspended on the storefront and their payouts wait; unbanning clears the three columns.
ALTER TABLE users ADD COLUMN banned_at TEXT;
ALTER TABLE users ADD COLUMN banned_by INTEGER REFERENCES users(id);
ALTER TABLE users ADD COLUMN ban_reason TEXT;
-- A verified seller: its catalogue sellers carry the storefront's badge.
ALTER TABLE users ADD COLUMN verified_at TEXT;
ALTER TABLE users ADD COLUMN verified_by INTEGER REFERENCES users(id);
CREATE INDEX users_created ON users(created_at);

-- The category a line was sold in (the catalogue's, at the time of the sale), for the reports
-- per category; NULL for lines sold before this column (reports use the catalogue's then).
ALTER TABLE order_lines ADD COLUMN category TEXT;

-- Buyers report a product from its page; an admin decides, always with a reason.
CREATE TABLE product_reports (
    id INTEGER PRIMARY KEY,
    product_slug TEXT NOT NULL,
    seller TEXT NOT NULL DEFAULT '',
    user_id INTEGER REFERENCES users(id),
    reason TEXT NOT NULL,               -- one of moderation.REPORT_REASONS
    details TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dismissed', 'unlisted')),
    created_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by INTEGER REFERENCES users(id),
    decision_reason TEXT
);
CREATE INDEX product_reports_status ON product_reports(status, id);
-- one open report per buyer and product: a second one adds nothing for the admin
CREATE UNIQUE INDEX product_reports_one_open ON product_reports(user_id, product_slug) WHERE status = 'open';

-- A new seller whose name is a catalogue seller's asks to manage it; an admin decides.
CREATE TABLE seller_claims (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    seller_slug TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'approved', 'rejected')),
    created_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by INTEGER REFERENCES users(id),
    decision_reason TEXT
);
CREATE UNIQUE INDEX seller_claims_one_open ON seller_claims(user_id, seller_slug) WHERE status = 'open';

-- Product page views: one counter per product and UTC day, nothing about who viewed.
CREATE TABLE product_views (
    product_slug TEXT NOT NULL,
    day TEXT NOT NULL,
    views INTEGER NOT NULL DEFAULT 0 CHECK (views >= 0),
    PRIMARY KEY (product_slug, day)
) WITHOUT ROWID;
CREATE INDEX product_views_day ON product_views(day);

-- The ledger, rolled up per UTC day, currency, seller and product as each journal is posted, so
-- a report over any range reads thousands of rows instead of millions of entries. Written only
-- by the trigger below (and the backfill here); `digitaldock ledger check` proves it equals the
-- entries. Amounts are minor units; owed and kept amounts are positive:
--   gross: paid by buyers (sales); refunds: returned to buyers; fees: the platform's commission
--   net of refunded fees; costs: Paystack's charges; seller_net: owed to sellers net of refunds.
-- orders counts sale journals (on the row of their first line), units sale lines, refunded_units
-- refunded lines. Paystack's charges belong to an order, not a line: seller = product = ''.
CREATE TABLE ledger_daily (
    day TEXT NOT NULL,
    currency TEXT NOT NULL,
    seller TEXT NOT NULL,
    product TEXT NOT NULL,
    category TEXT NOT NULL,             -- the line's category when sold; '' when not recorded
    orders INTEGER NOT NULL DEFAULT 0,
    units INTEGER NOT NULL DEFAULT 0,
    refunded_units INTEGER NOT NULL DEFAULT 0,
    gross INTEGER NOT NULL DEFAULT 0,
    refunds INTEGER NOT NULL DEFAULT 0,
    fees INTEGER NOT NULL DEFAULT 0,
    costs INTEGER NOT NULL DEFAULT 0,
    seller_net INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, currency, seller, product, category)
) WITHOUT ROWID;
CREATE INDEX ledger_daily_seller ON ledger_daily(seller, day);

CREATE TRIGGER ledger_daily_on_post AFTER UPDATE OF posted ON ledger_journals
WHEN NEW.posted = 1 AND OLD.posted = 0 AND NEW.kind IN ('sale', 'refund', 'paystack_fee')
BEGIN
    INSERT INTO ledger_daily (day, currency, seller, product, category, orders, units, refunded_units, gross, refunds, fees,
                              costs, seller_net)
    SELECT substr(NEW.created_at, 1, 10), e.currency, COALESCE(l.seller, ''), COALESCE(l.product_slug, ''),
           COALESCE(l.category, ''),
           CASE WHEN NEW.kind = 'sale' AND e.order_line_id IS (SELECT MIN(x.order_line_id) FROM ledger_entries x
                                                               WHERE x.journal_id = NEW.id) THEN 1 ELSE 0 END,
           CASE WHEN NEW.kind = 'sale' AND e.order_line_id IS NOT NULL THEN 1 ELSE 0 END,
           CASE WHEN NEW.kind = 'refund' AND e.order_line_id IS NOT NULL THEN 1 ELSE 0 END,
           SUM(CASE WHEN NEW.kind = 'sale' AND e.account = 'paystack:receivable' THEN e.amount ELSE 0 END),
           SUM(CASE WHEN NEW.kind = 'refund' AND e.account = 'paystack:receivable' THEN -e.amount ELSE 0 END),
           SUM(CASE WHEN e.account = 'platform:fees' THEN -e.amount ELSE 0 END),
           SUM(CASE WHEN e.account = 'platform:paystack-costs' THEN e.amount ELSE 0 END),
           SUM(CASE WHEN e.account LIKE 'seller:%' THEN -e.amount ELSE 0 END)
    FROM ledger_entries e LEFT JOIN order_lines l ON l.id = e.order_line_id
    WHERE e.journal_id = NEW.id
    GROUP BY e.currency, e.order_line_id
    ON CONFLICT (day, currency, seller, product, category) DO UPDATE SET
        orders = orders + excluded.orders, units = units + excluded.units,
        refunded_units = refunded_units + excluded.refunded_units, gross = gross + excluded.gross,
        refunds = refunds + excluded.refunds, fees = fees + excluded.fees, costs = costs + excluded.costs,
        seller_net = seller_net + excluded.seller_net;
END;

-- the journals already posted
INSERT INTO ledger_daily (day, currency, seller, product, category, orders, units, refunded_units, gross, refunds, fees, costs,
                          seller_net)
SELECT day, currency, seller, product, category, SUM(orders), SUM(units), SUM(refunded_units), SUM(gross), SUM(refunds),
       SUM(fees), SUM(costs), SUM(seller_net)
FROM (
    SELECT substr(j.created_at, 1, 10) AS day, e.currency AS currency, COALESCE(l.seller, '') AS seller,
           COALESCE(l.product_slug, '') AS product, COALESCE(l.category, '') AS category,
           CASE WHEN j.kind = 'sale' AND e.order_line_id IS (SELECT MIN(x.order_line_id) FROM ledger_entries x
                                                             WHERE x.journal_id = j.id) THEN 1 ELSE 0 END AS orders,
           CASE WHEN j.kind = 'sale' AND e.order_line_id IS NOT NULL THEN 1 ELSE 0 END AS units,
           CASE WHEN j.kind = 'refund' AND e.order_line_id IS NOT NULL THEN 1 ELSE 0 END AS refunded_units,
           SUM(CASE WHEN j.kind = 'sale' AND e.account = 'paystack:receivable' THEN e.amount ELSE 0 END) AS gross,
           SUM(CASE WHEN j.kind = 'refund' AND e.account = 'paystack:receivable' THEN -e.amount ELSE 0 END) AS refunds,
           SUM(CASE WHEN e.account = 'platform:fees' THEN -e.amount ELSE 0 END) AS fees,
           SUM(CASE WHEN e.account = 'platform:paystack-costs' THEN e.amount ELSE 0 END) AS costs,
           SUM(CASE WHEN e.account LIKE 'seller:%' THEN -e.amount ELSE 0 END) AS seller_net
    FROM ledger_journals j JOIN ledger_entries e ON e.journal_id = j.id LEFT JOIN order_lines l ON l.id = e.order_line_id
    WHERE j.posted = 1 AND j.kind IN ('sale', 'refund', 'paystack_fee')
    GROUP BY j.id, e.currency, e.order_line_id
) GROUP BY day, currency, seller, product, category;

-- A seller's statement, month by month: each closed month is sealed with the SHA-256 of its
-- entries and of the previous month's seal, so a later change to a past entry shows.
CREATE TABLE seller_statements (
    seller_slug TEXT NOT NULL,
    month TEXT NOT NULL,                -- YYYY-MM (UTC)
    entries INTEGER NOT NULL,
    closing TEXT NOT NULL,              -- JSON {currency: minor units owed at the month's end}
    prev_hash TEXT NOT NULL,            -- '' for a seller's first month
    hash TEXT NOT NULL,
    sealed_at TEXT NOT NULL,
    PRIMARY KEY (seller_slug, month)
);
CREATE TRIGGER seller_statements_no_update BEFORE UPDATE ON seller_statements
BEGIN SELECT RAISE(ABORT, 'seller_statements: a seal never changes'); END;

-- The tie-out sums balances from the entries: a covering index answers each account's sum from
-- the index alone (it replaces the (account, currency) index, whose queries it serves too), and
-- journals are found by kind (payouts, for what left the platform).
CREATE INDEX ledger_entries_account_amount ON ledger_entries(account, currency, amount);
DROP INDEX ledger_entries_account;
CREATE INDEX ledger_journals_kind ON ledger_journals(kind);

-- Payouts by seller and date, for the statement, the dashboard and the payouts report.
CREATE INDEX payouts_seller_created ON payouts(seller_slug, created_at);
CREATE INDEX payouts_created ON payouts(created_at);

-- The edge's own Prometheus figures, sampled every METRICS_SAMPLE_SECONDS for the admin's
-- charts (cumulative counters as Prometheus exposes them; rates are differences of samples).
CREATE TABLE metrics_samples (
    at TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
