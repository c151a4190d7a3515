"""The checkout edge: one Starlette service over one SQLite database.

Packages, each importing only those listed before it (import-linter checks it; see
docs/architecture.md):

    core      settings, clock, errors, database and migrations, tokens, audit log, outbox,
              metrics, logs, the catalogue the edge loaded, extension points, the `Edge` context
    accounts  users, sessions and sign-in, passwords, API tokens, consent, GDPR
    payments  Paystack client, pricing, orders, events, the ledger, refunds, payouts
    delivery  storage, download links, the library, uploads, approval, product retention
    ops       backups, alerts, readiness, deploys, uptime
    wiring    the one module that registers every built-in extension and builds an `Edge`
    web       the Starlette app factory, middleware, authentication and every HTTP route
    cli       the `digitaldock` command

`sandbox` (the Paystack stand-in) and `testing` (Resend and Sentry stand-ins) stand apart and
import nothing of the edge.
"""
