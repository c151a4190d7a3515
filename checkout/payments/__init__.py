"""Payments: where money moves.

One rule runs through this package: a state change, its ledger journal, its purchases and its
outbox emails are written in **one** SQLite transaction (`atomic`), and every entry point is
idempotent on the state it finds. So a webhook, the callback's verify and the reconciliation
job can all report the same payment, in any order and any number of times, and it is applied
once. Paystack is called outside transactions; what must happen after a call is recorded
before it (a `processing` refund, a `queued` payout) so a crash leaves a visible, resumable
state instead of a lost or doubled movement.

Order states: pending -> paid | failed | abandoned | flagged; a late success still turns
failed/abandoned into paid (the money was taken); paid -> partially_refunded -> refunded.
"""

EMAIL_SUBJECTS = {
    "receipt": "Your DigitalDock receipt",
    "order_link": "Your DigitalDock order: a fresh link to your files",
    "sale": "You made a sale on DigitalDock",
    "refund_requested": "A buyer asked for a refund",
    "refund_processed": "Your DigitalDock refund was processed",
    "refund_declined": "Your DigitalDock refund request was declined",
    "refund_received": "We received your DigitalDock refund request",
    "refund_approved": "Your DigitalDock refund was approved",
    "payout_sent": "DigitalDock sent you a payout",
    "payout_returned": "Your DigitalDock payout came back",
    "refund_seller": "A sale of yours was refunded",
    "payout_account_changed": "Your DigitalDock payout account was changed",
    "statement_sealed": "Your DigitalDock statement for the month is sealed",
}
