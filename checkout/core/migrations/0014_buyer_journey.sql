-- The buyer's journey (issue #15): the payment method as Paystack reported it, shown on the
-- receipt; who decided a refund (the seller from their dashboard, or an admin) and the reason
-- a declined refund gives the buyer.
ALTER TABLE orders ADD COLUMN payment_method TEXT;          -- "Visa ending 4081", "Mobile money (MTN)", ...
ALTER TABLE refunds ADD COLUMN decided_as TEXT CHECK (decided_as IN ('seller', 'admin'));
ALTER TABLE refunds ADD COLUMN decision_note TEXT;           -- the reason a declined refund gives the buyer
