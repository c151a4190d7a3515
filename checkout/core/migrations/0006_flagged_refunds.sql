-- Returning a flagged payment (an amount or currency other than the order's, or a second
-- payment for products the buyer owned): nothing was delivered and the ledger never took the
-- money in, so the refund is the whole payment, not an order line, and posts no journal.

CREATE TABLE flagged_refunds (       -- at most one per order; a failed one is tried again in place
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL UNIQUE REFERENCES orders(id),
    status TEXT NOT NULL CHECK (status IN ('processing', 'processed', 'failed')),
    amount INTEGER,                  -- what Paystack returned, from its refund.processed event
    currency TEXT,
    requested_by INTEGER REFERENCES users(id),
    requested_at TEXT NOT NULL,
    processed_at TEXT,
    last_error TEXT
);
