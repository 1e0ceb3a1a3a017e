"""The jobs of a configured APScheduler, fired by an injected clock instead of the wall clock (test
helper).

``build_scheduler(deps)`` holds the same jobs ``sns-bot run`` starts. :class:`SimulatedScheduler`
steps a :class:`~bot.clock.FixedClock` and, at each step, runs every job whose trigger fired since
its last run — once, however many fire times passed (the bot's jobs all have ``coalesce=True``) —
and awaits them before the next step. Replicas are several schedulers stepped together (their due
jobs run concurrently). A test thus sees what running bots do over minutes or days, in milliseconds
and in a repeatable order. Jobs may move the clock themselves (a backoff through ``clock.sleep``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import FixedClock


@dataclass(slots=True)
class _Job:
    replica: int
    job: Any
    next_at: datetime | None


@dataclass(slots=True)
class SimulatedScheduler:
    schedulers: Sequence[AsyncIOScheduler]
    clock: FixedClock
    #: Which job ids run (default: all of them).
    only: Callable[[str], bool] = lambda _job_id: True
    #: (replica index, job id, clock time) of every run, in order.
    ran: list[tuple[int, str, datetime]] = field(default_factory=list)
    _jobs: list[_Job] = field(default_factory=list)

    def __post_init__(self) -> None:
        now = self.clock.now()
        for replica, scheduler in enumerate(self.schedulers):
            for job in scheduler.get_jobs():  # the pending jobs of a scheduler that was not started
                if self.only(job.id):
                    self._jobs.append(_Job(replica, job, job.trigger.get_next_fire_time(None, now)))

    def _advance(self, entry: _Job, now: datetime) -> None:
        fired = entry.next_at
        while fired is not None and fired <= now:  # coalesce: every fire time up to now is this run
            following = entry.job.trigger.get_next_fire_time(fired, now)
            if following is not None and following <= fired:
                following = entry.job.trigger.get_next_fire_time(None, fired + timedelta(microseconds=1))
            fired = following
        entry.next_at = fired

    async def run_until(self, until: datetime, *, step: timedelta = timedelta(seconds=15)) -> None:
        """Step the clock to ``until``, running due jobs at each step (a step is never skipped)."""
        while self.clock.now() < until:
            now = self.clock.now()
            due = [entry for entry in self._jobs if entry.next_at is not None and entry.next_at <= now]
            for entry in due:
                self.ran.append((entry.replica, entry.job.id, now))
                self._advance(entry, now)
            await asyncio.gather(*(entry.job.func(*entry.job.args, **entry.job.kwargs) for entry in due))
            if self.clock.now() == now:
                self.clock.advance(seconds=step.total_seconds())

    def runs_of(self, job_id: str) -> list[datetime]:
        return [at for _replica, ran_id, at in self.ran if ran_id == job_id]
