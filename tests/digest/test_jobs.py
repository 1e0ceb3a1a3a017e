"""The digest jobs the scheduler gets: ids, safety options, the retry sweep, none without channels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import build_deps
from bot.clock import FixedClock
from bot.digest.jobs import register_jobs
from tests.conftest import NOW, make_settings


async def test_register_jobs_with_ids_and_safety_options() -> None:
    settings = make_settings()
    deps = build_deps(settings, clock=FixedClock(NOW))
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    register_jobs(scheduler, deps)
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert sorted(jobs) == ["digest.monthly", "digest.sweep", "digest.weekly"]
        for job in (jobs["digest.weekly"], jobs["digest.monthly"]):
            assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 3 * 86400)
        assert jobs["digest.weekly"].next_run_time.astimezone(UTC) > datetime.now(UTC)
        # The retry sweep: every minute from the injected clock, never two at once, late runs merged.
        sweep = jobs["digest.sweep"]
        assert (sweep.coalesce, sweep.max_instances, sweep.misfire_grace_time) == (True, 1, 60)
        assert sweep.trigger.start_date == NOW + timedelta(minutes=1)
        assert sweep.trigger.interval == timedelta(minutes=1)
    finally:
        scheduler.shutdown(wait=False)
        await deps.engine.dispose()


async def test_no_channels_no_job() -> None:
    settings = make_settings(change=lambda raw: raw["digest"]["monthly"].update(channels=[]))
    deps = build_deps(settings, clock=FixedClock(NOW))
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    register_jobs(scheduler, deps)
    assert [job.id for job in scheduler.get_jobs()] == ["digest.weekly", "digest.sweep"]
    await deps.engine.dispose()
