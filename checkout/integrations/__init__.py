"""Integrations: what the edge pushes out to sellers' own systems (issue #21).

Outgoing webhooks: a seller (or an admin) registers endpoints for events (`checkout.core.signals`);
each event queues one delivery per subscribed endpoint in the transaction of the change; a
worker signs and POSTs them (`sender`), retries failures with exponential backoff for
WEBHOOK_RETRY_HOURS, then gives up, disables the endpoint and emails its owner. Endpoints on
private, loopback or link-local addresses are refused (`addresses`), redirects are not
followed, answers are read up to a cap and every call has a timeout, so a slow or hostile
endpoint costs one worker slot for WEBHOOK_TIMEOUT_SECONDS at most and never a request.
"""

EMAIL_SUBJECTS = {
    "webhook_disabled": "A DigitalDock webhook endpoint was disabled",
}
