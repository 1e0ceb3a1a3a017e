"""Housekeeping of the Slack edge: the daily prune of exactly-once keys (scheduled I/O: the store)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot import db
from bot.keys import prune_keys

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

JOB_ID = "slack.prune_keys"
#: Daily, at a quiet hour of the configured zone.
PRUNE_CRON = "17 4 * * *"
#: Keys deleted per transaction: short write transactions, so submissions never wait long behind one.
BATCH = 1000


def register_jobs(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    scheduler.add_job(
        deps.inflight.track(run_prune),
        CronTrigger.from_crontab(PRUNE_CRON, timezone=deps.settings.tz),
        args=[deps],
        id=JOB_ID,
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=3600,
        max_instances=1,
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
