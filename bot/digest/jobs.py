"""Digest scheduling: the jobs, the retry sweep and the start-up catch-up (I/O: scheduler, store
and Slack through ``delivery``; the triggers are ``schedule``'s).

Jobs are thin: take ``now`` from the clock, compute the last finished period, call
``delivery.send_digest``. Double posts are prevented by the ``digest_run`` claim, not by the
scheduler, so several replicas may run the same jobs safely. A digest whose scheduled run did not
post it (Slack or the database down at fire time, a crashed poster) is retried by the sweep, every
:data:`SWEEP_SECONDS` in every scheduling process, within ``[digest] catch_up_days``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.db import unit_of_work
from bot.digest.claims import record_missed
from bot.digest.delivery import send_digest
from bot.digest.ids import JobId
from bot.digest.queries import channels_with_runs, due_runs
from bot.digest.schedule import (
    KINDS,
    channels_for,
    fire_time_of,
    last_due,
    period_named,
    previous_fire_time,
    trigger_for,
)
from bot.errors import BotError
from bot.periods import Period, PeriodKind

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

#: How often every scheduling process looks for digests to retry (two small queries when none is due).
SWEEP_SECONDS = 60


async def run_digest_job(deps: Deps, kind: PeriodKind) -> None:
    """The scheduled job: post the last finished period's digest (exactly once per channel)."""
    period = last_due(deps.settings, kind, deps.clock.now())
    try:
        results = await send_digest(deps, kind=kind, period=period)
    except BotError as exc:  # the database is down: the claim was not taken; catch-up will retry
        log.error("digest %s %s not sent: %s", kind, period.label, exc.key)
        return
    for result in results:
        log.info("digest %s %s → %s: %s", kind, period.label, result.channel, result.outcome)


async def run_digest_sweep(deps: Deps) -> list[tuple[str, str]]:
    """The periodic retry: send every digest of a recent period that is not finished yet.

    Due are (1) unfinished claims whose lease ran out and whose backoff is over — a send whose
    retries ran out, a poster that died or lost the database, a channel that could not be read, a
    post whose attachments are missing — and (2) the last fire time's period in a channel with no
    row at all: its scheduled run could not even claim it (the database was down). Only periods
    whose fire time lies within ``[digest] catch_up_days`` count, as for the start-up catch-up; a
    fire time younger than one sweep interval is left to its own job. Several replicas may sweep at
    once: the claim row decides who posts.

    Returns:
        The (kind, period label) pairs it sent, for logs and tests.
    """
    settings = deps.settings
    now = deps.clock.now()
    grace = timedelta(days=settings.digest.catch_up_days)
    kinds = [kind for kind in KINDS if channels_for(settings, kind)]
    due: dict[tuple[str, str], tuple[PeriodKind, Period]] = {}
    try:
        async with unit_of_work(deps.sessions) as session:
            for kind in kinds:
                fired = previous_fire_time(trigger_for(settings, kind), now, settings.tz)
                if fired is None or not timedelta(seconds=SWEEP_SECONDS) <= now - fired <= grace:
                    continue
                period = last_due(settings, kind, fired)
                have = await channels_with_runs(session, kind=kind, period=period.label)
                if set(channels_for(settings, kind)) - have:
                    due[(kind, period.label)] = (kind, period)
            runs = await due_runs(session, now=now)
    except BotError as exc:  # the database is down: the next sweep looks again
        log.warning("digest sweep skipped: %s", exc.key)
        return []
    for kind_name, label, channel in runs:
        run_kind = next((k for k in kinds if k == kind_name), None)
        if run_kind is None or (run_kind, label) in due or channel not in channels_for(settings, run_kind):
            continue
        try:
            period = period_named(settings, run_kind, label)
        except BotError:
            continue
        fired = fire_time_of(settings, run_kind, period)
        if fired is not None and now - fired <= grace:
            due[(run_kind, label)] = (run_kind, period)
    sent: list[tuple[str, str]] = []
    for kind, period in due.values():
        try:
            results = await send_digest(deps, kind=kind, period=period)
        except BotError as exc:
            log.warning("sweep: digest %s %s not sent: %s", kind, period.label, exc.key)
            continue
        for result in results:
            log.info("sweep: digest %s %s → %s: %s", kind, period.label, result.channel, result.outcome)
        sent.append((kind, period.label))
    return sent


def register_jobs(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    """Add the weekly, monthly and quarterly digest jobs (only for kinds that have channels) and the sweep."""
    grace = max(60, int(deps.settings.digest.catch_up_days * 86400))
    kinds = [kind for kind in KINDS if channels_for(deps.settings, kind)]
    for kind in kinds:
        scheduler.add_job(
            deps.inflight.track(run_digest_job),
            trigger_for(deps.settings, kind),
            args=[deps, kind],
            id=str(JobId(f"digest.{kind}")),
            name=f"{kind} digest",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=grace,
            replace_existing=True,
        )
    if kinds:
        every = timedelta(seconds=SWEEP_SECONDS)
        scheduler.add_job(
            deps.inflight.track(run_digest_sweep),
            # From the injected clock, not the wall clock (the interval trigger's default start).
            IntervalTrigger(
                seconds=SWEEP_SECONDS, start_date=deps.clock.now() + every, timezone=deps.settings.tz
            ),
            args=[deps],
            id=str(JobId.SWEEP),
            name="digest retry sweep",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=SWEEP_SECONDS,
            replace_existing=True,
        )


async def catch_up(deps: Deps) -> dict[str, str]:
    """At start: post a digest whose time passed while the bot was down, within the grace window.

    For each kind, the schedule's last fire time before now decides the period. Within
    ``catch_up_days`` it is sent (the claim makes this a no-op when it was posted already);
    beyond, channels without a row are recorded as ``missed`` and logged.

    Returns:
        kind → ``sent`` | ``missed`` | ``failed`` (the database is down; the sweep retries) |
        ``none`` (no earlier fire time or no channels), for logs and tests.
    """
    if not deps.settings.scheduler.enabled:  # another replica schedules (and catches up)
        return {}
    now = deps.clock.now()
    tz = deps.settings.tz
    grace = timedelta(days=deps.settings.digest.catch_up_days)
    out: dict[str, str] = {}
    for kind in KINDS:
        if not channels_for(deps.settings, kind):
            out[kind] = "none"
            continue
        fired = previous_fire_time(trigger_for(deps.settings, kind), now, tz)
        if fired is None:
            out[kind] = "none"
            continue
        period: Period = last_due(deps.settings, kind, fired)
        if now - fired <= grace:
            try:
                results = await send_digest(deps, kind=kind, period=period)
            except BotError as exc:  # the database is down: the sweep sends it once it is back
                log.warning("catch-up: digest %s %s not sent: %s", kind, period.label, exc.key)
                out[kind] = "failed"
                continue
            for result in results:  # every outcome: after a restart, operators ask what catch-up did
                log.info(
                    "catch-up: digest %s %s → %s: %s", kind, period.label, result.channel, result.outcome
                )
            out[kind] = "sent"
        else:
            marked = await record_missed(deps, kind=kind, period=period)
            for channel in marked:
                log.warning(
                    "digest %s %s for %s was due %s, beyond the %s-day catch-up window: missed",
                    kind,
                    period.label,
                    channel,
                    fired.isoformat(),
                    deps.settings.digest.catch_up_days,
                )
            out[kind] = "missed"
    return out
