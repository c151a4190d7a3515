-- Paystack in production (issue #19). Only additions, so the previous release runs on this
-- schema for the length of a deploy (docs/operations.md).
--
-- A payout's `status` stays ours (queued, pending, success, failed, reversed); Paystack's own
-- word on the transfer is kept beside it: `otp` when the account needs an OTP to finalise it
-- (an admin enters it, docs/payments.md), `pending`/`success`/... otherwise. `verified_at`: when
-- reconciliation last asked `GET /transfer/verify`.
ALTER TABLE payouts ADD COLUMN paystack_status TEXT;
ALTER TABLE payouts ADD COLUMN verified_at TEXT;

-- The recipient type Paystack was given for the account (nuban, ghipss, mobile_money, basa,
-- kepss); NULL for accounts saved before this migration (all nuban).
ALTER TABLE payout_recipients ADD COLUMN recipient_type TEXT;

-- Paystack's refund state as its events report it (pending, processing, processed, failed,
-- needs-attention), and how the refund started: 'edge' (our POST /refund) or 'dashboard' (made
-- in Paystack's dashboard and matched to its purchase by transaction reference).
ALTER TABLE refunds ADD COLUMN paystack_status TEXT;
ALTER TABLE refunds ADD COLUMN origin TEXT NOT NULL DEFAULT 'edge';
ALTER TABLE flagged_refunds ADD COLUMN paystack_status TEXT;
