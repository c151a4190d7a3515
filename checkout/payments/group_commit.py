"""Group commit for Paystack webhooks: one durable commit for the events that queued up while
the previous commit was being written.

A webhook may be answered 200 only once its event is stored and applied durably: Paystack
stops retrying after a 200. Committing each event on its own makes the disk's flush the limit
under a burst (a flash sale, Paystack replaying a backlog). Here the events that arrive while
one batch is written are applied next, in arrival order, each in its own savepoint (an event
that fails is undone alone and answered with its error), and committed together. Every answer
still waits for the commit that holds its event, so a crash before that commit acknowledges
nothing and loses nothing: Paystack delivers those events again.

With one request at a time a batch is that one event, as before.
"""

from __future__ import annotations

import asyncio

import structlog

from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.payments import events

log = structlog.get_logger("checkout.payments")

MAX_BATCH = 64


class GroupCommit:
    """Queues verified webhook bodies and applies them in shared transactions."""

    def __init__(self, edge: Edge, max_batch: int = MAX_BATCH):
        self.edge = edge
        self.max_batch = max_batch
        self._pending: list[tuple[bytes, asyncio.Future[str]]] = []
        self._scheduled = False
        self.batches = 0  # how many commits, for tests and metrics

    async def receive(self, raw: bytes) -> str:
        """The event's outcome, once the transaction holding it has committed."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[str] = loop.create_future()
        self._pending.append((raw, done))
        if not self._scheduled:
            self._scheduled = True
            # flush two turns of the event loop from now: requests read in the same turn as
            # this one reach this point in the next, and join the batch (one turn gave
            # batches of one every other time; two gave 8 of 16 at a time under load)
            loop.call_soon(loop.call_soon, self._flush)
        return await done

    def _flush(self) -> None:
        batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
        results: list[tuple[asyncio.Future[str], str | None, BaseException | None, dict | None]] = []
        try:
            with atomic(self.edge.db):
                for raw, done in batch:
                    try:
                        outcome, logged = events.store_and_apply(self.edge, raw)
                        results.append((done, outcome, None, logged))
                    except Exception as exc:  # noqa: BLE001 - handed to that event's request
                        results.append((done, None, exc, None))
        except Exception as exc:  # the commit itself failed: no event in the batch is stored
            results = [(done, None, exc, None) for _, done in batch]
        else:
            self.batches += 1
        finally:
            if self._pending:
                asyncio.get_running_loop().call_soon(self._flush)
            else:
                self._scheduled = False
        for done, outcome, exc, logged in results:
            if logged:
                log.info("payment_event", **logged)
            if done.done():  # the client went away; the event is stored all the same
                continue
            if exc is not None:
                done.set_exception(exc)
            else:
                done.set_result(outcome)  # type: ignore[arg-type]


def group_commit(edge: Edge) -> GroupCommit:
    """The edge's webhook queue (one per edge, created on first use)."""
    queue = getattr(edge, "_webhook_group_commit", None)
    if queue is None:
        queue = edge._webhook_group_commit = GroupCommit(edge)
    return queue
