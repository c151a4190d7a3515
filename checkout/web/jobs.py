"""The edge's background jobs, run by the app's lifespan: the outbox worker, the retention
schedule, reconciliation of pending orders, the payout schedule and sellers' webhook deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from starlette.concurrency import run_in_threadpool

from checkout.core import outbox, retention
from checkout.core.context import Edge
from checkout.integrations import webhooks
from checkout.ops import platform_metrics
from checkout.payments import charges, payouts
from checkout.reviews import export

log = structlog.get_logger("checkout.app")


async def _outbox_worker(edge: Edge, stop: asyncio.Event) -> None:
    """Send due emails until asked to stop; a send in progress always finishes first."""
    backend = outbox.backend_for(edge)
    interval = edge.settings.OUTBOX_POLL_SECONDS
    while not stop.is_set():
        try:
            for row in outbox.claim_due(edge):
                provider_id, error = await asyncio.to_thread(outbox.send_one, backend, row)
                outbox.record_result(edge, row, provider_id, error)
        except Exception:  # noqa: BLE001 - the worker must survive any one bad round
            log.exception("outbox_worker_error")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


async def _retention_schedule(edge: Edge, stop: asyncio.Event) -> None:
    interval = edge.settings.RETENTION_INTERVAL_SECONDS
    while not stop.is_set():
        try:
            retention.run(edge)
        except Exception:  # noqa: BLE001
            log.exception("retention_error")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


async def reconcile_async(edge: Any) -> dict[str, int]:
    """`charges.reconcile` and `payouts.verify_in_flight` with the Paystack calls off the event loop."""
    counts: dict[str, int] = {}

    def note(outcome: str) -> None:
        counts[outcome] = counts.get(outcome, 0) + 1

    for ref in charges.pending_to_verify(edge):
        note(charges.apply_verify_result(edge, ref, await run_in_threadpool(charges.call_verify, edge, ref), "reconcile"))
    for ref in charges.orders_without_fees(edge):
        note(charges.apply_fees(edge, ref, await run_in_threadpool(charges.call_verify, edge, ref)))
    for payout in payouts.in_flight_to_verify(edge):
        note("transfer_" + payouts.apply_transfer_verified(
            edge, payout, await run_in_threadpool(payouts.call_verify_transfer, edge, payout)))
    return counts


async def payouts_async(edge: Any) -> dict[str, int]:
    counts = payouts.queue_payouts(edge)
    for payout in payouts.queued_payouts(edge):
        result = await run_in_threadpool(payouts.call_transfer, edge, payout)
        counts[payouts.record_payout_result(edge, payout, result)] += 1
    return counts


async def _every(edge: Any, seconds: float, job: Any, stop: Any, name: str) -> None:
    import asyncio
    import contextlib

    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        if stop.is_set():
            break
        try:
            counts = await job(edge)
            if any(counts.values()):
                log.info(name, **counts)
        except Exception:  # noqa: BLE001 - a scheduled job must survive any one bad round
            log.exception(f"{name}_error")


async def send_webhooks(edge: Any) -> dict[str, int]:
    """Due webhook deliveries, sent side by side in worker threads (a slow endpoint holds only
    its own thread, for WEBHOOK_TIMEOUT_SECONDS at most), then recorded."""
    counts = {"succeeded": 0, "retry": 0, "dead": 0}
    items = webhooks.claim_due(edge, limit=10)
    outcomes = await asyncio.gather(*(asyncio.to_thread(webhooks.send_one, edge, item) for item in items))
    for item, outcome in zip(items, outcomes, strict=True):
        counts[webhooks.record_result(edge, item, outcome)] += 1
    return counts


async def sample_metrics(edge: Any) -> dict[str, int]:
    platform_metrics.sample(edge)
    return {}


async def stats_exporter(edge: Any, stop: Any) -> None:
    """Export ratings and popularity for the build and rebuild the storefront when they changed
    (checkout.reviews.export.publish): every REVIEWS_EXPORT_SECONDS (sales, refunds and the
    30-day window move popularity), and at once when a review changes (`request_export`).
    One export at a time; a burst of changes is one export. The export reads on a read-only
    connection of its own and the rebuild runs in its own process, both off the event loop."""
    wanted = edge.service("stats_export_wanted", asyncio.Event)
    interval = edge.settings.REVIEWS_EXPORT_SECONDS
    path = edge.settings.database_path
    while not stop.is_set():
        waiter = asyncio.ensure_future(wanted.wait())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait([waiter, stopper], timeout=interval, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        stopper.cancel()
        if stop.is_set():
            return
        wanted.clear()
        try:
            await asyncio.to_thread(export.publish_from, edge, path)
        except Exception:  # noqa: BLE001 - the exporter must survive any one bad round
            log.exception("stats_export_error")


def background_tasks(edge: Any, stop: Any) -> list[Any]:
    """Reconciliation of pending orders, the payout schedule and the metric samples of the
    platform charts, as asyncio tasks."""
    import asyncio

    tasks = []
    if edge.settings.METRICS_SAMPLE_SECONDS > 0:
        tasks.append(asyncio.create_task(_every(edge, edge.settings.METRICS_SAMPLE_SECONDS, sample_metrics, stop,
                                                "metrics_sample")))
    if edge.settings.RECONCILE_INTERVAL_SECONDS > 0:
        tasks.append(asyncio.create_task(_every(edge, edge.settings.RECONCILE_INTERVAL_SECONDS, reconcile_async, stop,
                                                "reconcile")))
    if edge.settings.WEBHOOK_POLL_SECONDS > 0:
        tasks.append(asyncio.create_task(_every(edge, edge.settings.WEBHOOK_POLL_SECONDS, send_webhooks, stop,
                                                "webhooks")))
    if edge.settings.PAYOUT_INTERVAL_SECONDS > 0:
        tasks.append(asyncio.create_task(_every(edge, edge.settings.PAYOUT_INTERVAL_SECONDS, payouts_async, stop,
                                                "payouts")))
    if edge.settings.REVIEWS_EXPORT_SECONDS > 0:
        tasks.append(asyncio.create_task(stats_exporter(edge, stop)))
    return tasks
