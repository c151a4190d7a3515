-- Account security (issue #22). Only additions, so the previous release runs on this schema
-- for the length of a deploy (docs/operations.md).
--
-- Payout accounts: a new or changed account is held for PAYOUT_ACCOUNT_HOLD_HOURS before money
-- goes to it, and each change keeps what it replaced, so the seller's cancel link can put it back.
-- changed_at is NULL for accounts saved before this migration: they are not held.
ALTER TABLE payout_recipients ADD COLUMN changed_at TEXT;
ALTER TABLE payout_recipients ADD COLUMN bank_name TEXT;

CREATE TABLE payout_account_changes (
    id INTEGER PRIMARY KEY,
    seller_slug TEXT NOT NULL,
    currency TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    changed_by INTEGER REFERENCES users(id),   -- NULL: an operator's command
    old_recipient_code TEXT,                   -- NULL: there was no account before
    old_bank_code TEXT,
    old_bank_name TEXT,
    old_account_number TEXT,
    old_account_name TEXT,
    old_created_at TEXT,
    old_changed_at TEXT,
    new_recipient_code TEXT NOT NULL,
    new_bank_code TEXT NOT NULL,
    new_bank_name TEXT,
    new_account_number TEXT NOT NULL,
    cancelled_at TEXT                          -- set by the cancel link (or a cancel of an earlier change)
);
CREATE INDEX payout_account_changes_seller ON payout_account_changes(seller_slug, currency, id);

-- Sign-in failures, one row per failed attempt and scope, kept for LOGIN_WINDOW_MINUTES: per
-- email address (whether or not an account has it) and per client IP. Keys are SHA-256 of the
-- normalised address or the IP, so the table is no list of addresses people typed.
CREATE TABLE sign_in_failures (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL CHECK (scope IN ('email', 'ip')),
    key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX sign_in_failures_key ON sign_in_failures(scope, key, at);
