"""Participation's jobs are registered like the other slices' (config-driven, clock injected)."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import build_deps
from bot.clock import FixedClock
from bot.participation.jobs import NUDGE_JOB_ID, RATE_JOB_ID, register_jobs, run_nudges
from tests.conftest import NOW, make_settings
from tests.scenarios.participation_seed import RATE_KPI


def _jobs(change: object = None) -> dict[str, str]:
    settings = make_settings(change=change)  # type: ignore[arg-type]
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    register_jobs(scheduler, build_deps(settings, clock=FixedClock(NOW)))
    return {job.id: str(job.trigger) for job in scheduler.get_jobs()}


def test_the_nudge_run_follows_its_cron_and_the_rate_job_needs_the_kpi() -> None:
    jobs = _jobs()
    assert set(jobs) == {NUDGE_JOB_ID}
    assert "day_of_week='mon-fri'" in jobs[NUDGE_JOB_ID] and "hour='10'" in jobs[NUDGE_JOB_ID]
    with_kpi = _jobs(lambda raw: raw["kpis"].append(dict(RATE_KPI)))
    assert set(with_kpi) == {NUDGE_JOB_ID, RATE_JOB_ID}


def test_admins_turning_nudges_off_removes_the_job_and_the_run_does_nothing() -> None:
    def off(raw: dict[str, object]) -> None:
        raw["participation"] = {"nudges": False}

    assert _jobs(off) == {}


async def test_a_run_with_nudges_off_sends_nothing() -> None:
    settings = make_settings(change=lambda raw: raw.update(participation={"nudges": False}))
    report = await run_nudges(build_deps(settings, clock=FixedClock(NOW)))
    assert (report.sent, report.skipped) == ([], "off")
