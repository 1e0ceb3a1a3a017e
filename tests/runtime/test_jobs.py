"""The runtime's own jobs: the exactly-once key prune and the outbox sweep, both in every replica,
registered by :func:`bot.runtime.jobs.register_jobs` like any feature's jobs."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import build_deps
from bot.clock import FixedClock
from bot.runtime import jobs
from tests.conftest import NOW, make_settings


async def test_register_jobs_adds_the_key_prune_and_the_outbox_sweep() -> None:
    settings = make_settings()
    deps = build_deps(settings, clock=FixedClock(NOW))
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    jobs.register_jobs(scheduler, deps)
    scheduler.start(paused=True)
    try:
        found = {job.id: job for job in scheduler.get_jobs()}
        assert sorted(found) == [jobs.OUTBOX_JOB_ID, jobs.JOB_ID]
        sweep = found[jobs.OUTBOX_JOB_ID]
        assert (sweep.name, sweep.coalesce, sweep.max_instances) == ("outbox sweep", True, 1)
        assert sweep.trigger.interval == timedelta(seconds=jobs.OUTBOX_SWEEP_SECONDS)
        assert sweep.args == (deps.outbox,)
        prune = found[jobs.JOB_ID]
        assert (prune.coalesce, prune.max_instances, prune.misfire_grace_time) == (True, 1, 3600)
    finally:
        scheduler.shutdown(wait=False)
        await deps.engine.dispose()


async def test_the_composition_root_schedules_them_through_the_registrar() -> None:
    from bot.app import build_scheduler

    settings = make_settings()
    deps = build_deps(settings, clock=FixedClock(NOW))
    try:
        ids = [job.id for job in build_scheduler(deps).get_jobs()]
        assert ids[-2:] == [jobs.JOB_ID, jobs.OUTBOX_JOB_ID]
    finally:
        await deps.engine.dispose()
