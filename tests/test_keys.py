"""Exactly-once keys are pruned once they can no longer matter, by a daily job (issue 13, item 8).

Before: every Events API delivery, modal submission, reminder and digest failure added a
``processed_key`` row that was never deleted (one per interaction, forever), and the table had no
index on its time.
"""

from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select

from bot.app import build_scheduler
from bot.keys import ProcessedKey, claim_key
from bot.runtime.deps import Deps
from tests.conftest import NOW

HOUR, DAY = timedelta(hours=1), timedelta(days=1)

#: key → (age, still there after the prune?)
KEYS = {
    "event:Ev0001": (2 * HOUR, True),  # Slack may still redeliver it
    "event:Ev0002": (DAY + HOUR, False),
    "review:view:V0001:h1": (DAY + HOUR, False),
    "review:view:V0002:h2": (HOUR, True),
    "home:kpi_view:V0003:h3": (2 * DAY, False),
    "review:17:1:0:remind:1": (20 * DAY, True),  # review:view: rules do not apply to it
    "review:18:1:0:escalate:1": (31 * DAY, False),
    "digest_failed:weekly:2026-W01:C0MGMT0001": (300 * DAY, True),
    "digest_failed:monthly:2024-10:C0MGMT0001": (401 * DAY, False),
    "digest_late:weekly:2026-W02:C0MGMT0001": (399 * DAY, True),  # its "out" note may still come
    "kpi.collector.auth:x:0123456789abcdef": (1000 * DAY, True),  # kept: the token may still be refused
    "someday:a:new:kind": (1000 * DAY, True),  # unknown kinds are kept, never guessed
}


async def _keys(deps: Deps) -> set[str]:
    async with deps.sessions() as session:
        return set((await session.scalars(select(ProcessedKey.key))).all())


async def _run_housekeeping(deps: Deps) -> None:
    """Run the scheduled prune of exactly-once keys the way the scheduler would."""
    scheduler = build_scheduler(deps)
    jobs = [job for job in scheduler.get_jobs() if "prune" in job.id]
    assert jobs, "no job prunes processed_key"
    for job in jobs:
        assert isinstance(job.trigger, CronTrigger)
        await job.func(*job.args, **job.kwargs)


async def test_keys_are_pruned_by_kind_once_they_can_no_longer_matter(deps: Deps) -> None:
    async with deps.sessions.begin() as session:
        for key, (age, _kept) in KEYS.items():
            assert await claim_key(session, key=key, now=NOW - age)

    await _run_housekeeping(deps)

    assert await _keys(deps) == {key for key, (_age, kept) in KEYS.items() if kept}
    # A redelivery of a kept event is still refused; a pruned one could no longer arrive.
    async with deps.sessions.begin() as session:
        assert not await claim_key(session, key="event:Ev0001", now=NOW)


async def test_a_large_backlog_is_pruned_in_batches(deps: Deps) -> None:
    async with deps.sessions.begin() as session:
        session.add_all(
            ProcessedKey(key=f"event:Ev{i:06d}", created_at=NOW - 2 * DAY - timedelta(seconds=i))
            for i in range(2_500)
        )
        session.add(ProcessedKey(key="event:fresh", created_at=NOW))

    await _run_housekeeping(deps)

    async with deps.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedKey)) == 1
