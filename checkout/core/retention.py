"""The retention job: every registered retention task once, one report, one audit entry.

What each area keeps and for how long is written beside its data (the Privacy Policy's "Data
retention" table lives in `checkout.accounts.gdpr`); the tasks are registered in
`checkout.wiring`, so the job runs the same steps from the web app, the CLI and the tests.
"""

from __future__ import annotations

import structlog

from checkout.core import audit
from checkout.core.context import Edge
from checkout.core.db import atomic

log = structlog.get_logger("checkout.retention")


def run(edge: Edge) -> dict[str, int]:
    """Run every retention task in order; returns what was removed, by kind."""
    now = edge.clock()
    report: dict[str, int] = {}
    for _name, task in edge.hooks.retention_tasks:
        report.update(task(edge, now))
    with atomic(edge.db):
        audit.record(edge, "retention.run", **report)
    log.info("retention_run", **report)
    return report
