-- Reviews and ratings from verified buyers, wishlist price alerts, email preferences (issue #14).
-- Only additions, so the previous release runs on this schema for the length of a deploy.

-- One review per buyer and product. Who may write one is decided in checkout/reviews (a
-- purchase not refunded); the aggregate counts only approved reviews whose author still owns
-- the product, so a refund takes a review out of the stars without deleting it.
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    product_slug TEXT NOT NULL,
    seller TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'hidden')),
    held_reason TEXT,                   -- why a new or edited review waits for an admin
    hidden_reason TEXT,                 -- an admin's reason, also in the audit log
    reply TEXT,                         -- the seller's one public reply
    replied_at TEXT,
    replied_by INTEGER REFERENCES users(id),
    helpful INTEGER NOT NULL DEFAULT 0 CHECK (helpful >= 0),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by INTEGER REFERENCES users(id)
);
CREATE UNIQUE INDEX reviews_one_per_buyer ON reviews(user_id, product_slug);
CREATE INDEX reviews_product ON reviews(product_slug, status, created_at);
CREATE INDEX reviews_status ON reviews(status, id);
-- the export's histogram reads only this index (benchmarks/reviews.py)
CREATE INDEX reviews_counted ON reviews(status, product_slug, rating, user_id);

-- "Was this helpful?": one vote per account and review; reviews.helpful is their count.
CREATE TABLE review_votes (
    review_id INTEGER NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (review_id, user_id)
);

-- Any signed-in account may report a review; an admin dismisses the report or hides the review.
CREATE TABLE review_reports (
    id INTEGER PRIMARY KEY,
    review_id INTEGER NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dismissed', 'upheld')),
    created_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by INTEGER REFERENCES users(id)
);
CREATE UNIQUE INDEX review_reports_one_open ON review_reports(review_id, user_id) WHERE status = 'open';
CREATE INDEX review_reports_status ON review_reports(status, id);

-- A purchase's review invitation is sent once, whatever happens to the email afterwards.
CREATE TABLE review_invites (
    purchase_id INTEGER PRIMARY KEY REFERENCES purchases(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    sent_at TEXT NOT NULL
);

-- Email preferences that differ from the default: review invitations are on until the
-- unsubscribe link turns them off; price-drop alerts are off until the wishlist turns them on.
CREATE TABLE email_preferences (
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL CHECK (kind IN ('review_invite', 'price_drop')),
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- Popularity: units sold in the last 30 days, per product, from this index alone.
CREATE INDEX purchases_recent ON purchases(created_at, product_slug) WHERE status = 'active';

-- The price a saved product had when it was saved (or last alerted), to notice a drop.
ALTER TABLE wishlist_items ADD COLUMN price_minor INTEGER;
ALTER TABLE wishlist_items ADD COLUMN currency TEXT;
