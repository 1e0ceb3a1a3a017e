"""Housekeeping of the Slack edge (scheduled I/O: the store and Slack): the daily prune of exactly-once
keys and the outbox sweep that retries Slack work owed for stored changes."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import db
from bot.keys import prune_keys
from bot.slack.outbox import run_sweep

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

JOB_ID = "slack.prune_keys"
#: Daily, at a quiet hour of the configured zone.
PRUNE_CRON = "17 4 * * *"
#: Keys deleted per transaction: short write transactions, so submissions never wait long behind one.
BATCH = 1000

OUTBOX_JOB_ID = "slack.outbox"
#: How often owed Slack work (decisions told after Slack failed) is retried.
OUTBOX_SWEEP_SECONDS = 60


def register_jobs(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    """The key prune and the outbox sweep, in every replica (both are safe to run concurrently)."""
    scheduler.add_job(
        deps.inflight.track(run_prune),
        CronTrigger.from_crontab(PRUNE_CRON, timezone=deps.settings.tz),
        args=[deps],
        id=JOB_ID,
        name="key prune",
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=3600,
        max_instances=1,
    )
    scheduler.add_job(
        deps.inflight.track(run_sweep),
        IntervalTrigger(seconds=OUTBOX_SWEEP_SECONDS, timezone=deps.settings.tz),
        args=[deps.outbox],
        id=OUTBOX_JOB_ID,
        name="outbox sweep",
        coalesce=True,
        max_instances=1,
        replace_existing=True,
    )


async def run_prune(deps: Deps) -> int:
    """Delete every key that can no longer matter, in batches; how many were deleted."""
    total = 0
    while True:
        async with db.unit_of_work(deps.sessions, write=True) as session:
            deleted = await prune_keys(session, now=deps.clock.now(), limit=BATCH)
        total += deleted
        if deleted < BATCH:
            break
        await asyncio.sleep(0)  # let waiting writers in between batches
    if total:
        log.info("pruned %d exactly-once key(s) that can no longer matter", total)
    return total
