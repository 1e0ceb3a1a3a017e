"""The one send path of a digest: ``send_digest`` posts the ``kind`` digest of a period to each
configured channel at most once (claim → post with retries → record the ts → attach files →
posted), used by the scheduled job, the retry sweep, the start-up catch-up and ``sns-bot digest
--post`` (I/O: store and Slack through ``claims`` and ``posting``).

Exactly-once rests on the ``digest_run`` unique row, not on the scheduler: whoever inserts (or
takes over an expired) claim posts, and stops as soon as an update finds the claim taken over. A
claim whose poster died or failed is taken over later; when a post may have gone through, this
bot's message is looked for (by its metadata and bot id) in the channel before posting again, and
when the channel cannot be read nothing is posted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.db import unit_of_work
from bot.digest import notices
from bot.digest.claims import (
    Claim,
    ClaimLost,
    ClaimState,
    Hold,
    claim,
    finish,
    lease_kept,
    owner_id,
    record_ts,
    retry_delay,
)
from bot.digest.models import RunStatus
from bot.digest.posting import (
    SLACK_ERRORS,
    Sleep,
    Unverifiable,
    attach,
    error_text,
    is_transient,
    post_digest,
)
from bot.digest.render import Rendered, render
from bot.digest.schedule import channels_for
from bot.periods import Period, PeriodKind
from bot.slack.posting import post_once

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    """What happened to a digest in one channel (the CLI prints ``digest.cli.outcome.<value>``)."""

    POSTED = "posted"
    #: Found already posted by an earlier attempt (and recorded).
    RECOVERED = "recovered"
    ALREADY_POSTED = "already_posted"
    #: Another process holds the claim.
    BUSY = "busy"
    #: A permanent error; the admins were told.
    FAILED = "failed"
    #: Transient errors outlasted the retries, or an earlier failure's backoff is still running.
    RETRY_LATER = "retry_later"
    #: A post may be in the channel but the channel cannot be read; nothing was posted.
    UNVERIFIED = "unverified"
    #: Another process took the claim over while this one worked; this one stopped.
    LOST = "lost"
    #: An empty period, and the config says to skip those.
    SKIPPED = "skipped"
    #: Recorded as missed (beyond the catch-up window).
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class ChannelResult:
    channel: str
    outcome: Outcome
    message_ts: str | None = None
    error: str | None = None


#: Claim answers that mean this channel is done with for now, and what they are reported as.
_FINISHED = {
    ClaimState.POSTED: Outcome.ALREADY_POSTED,
    ClaimState.FAILED: Outcome.FAILED,
    ClaimState.MISSED: Outcome.MISSED,
    ClaimState.SKIPPED: Outcome.SKIPPED,
}


def _when_empty(settings: Settings, kind: PeriodKind) -> str:
    if kind == PeriodKind.WEEKLY:
        return settings.digest.weekly.when_empty
    if kind == PeriodKind.QUARTERLY:
        return settings.digest.quarterly.when_empty
    return settings.digest.monthly.when_empty


async def send_digest(
    deps: Deps,
    *,
    kind: PeriodKind,
    period: Period,
    take_over: bool = False,
    sleep: Sleep | None = None,
    owner: str | None = None,
) -> list[ChannelResult]:
    """Post the ``kind`` digest of ``period`` to each configured channel, at most once each.

    Args:
        take_over: also post where an earlier attempt failed permanently or the period was
            recorded as missed, and without waiting for a failed attempt's backoff (an admin's
            ``--post``).
        sleep: the backoff's sleep (default: the clock's).
        owner: claim owner id (default: :func:`owner_id`; tests give each simulated replica its own).

    Returns:
        One result per channel: ``posted``, ``recovered`` (found already posted by an earlier
        attempt), ``already_posted``, ``busy`` (another process holds the claim), ``skipped``
        (empty period, config says skip), ``failed`` (permanent error, admins told),
        ``retry_later`` (transient errors outlasted the retries, or the backoff of an earlier failure
        is still running; the sweep retries), ``unverified`` (a post may be in the channel but the
        channel cannot be read; nothing posted, the sweep looks again, admins told) or ``lost``
        (another process took the claim over while this one worked; this one stopped).
    """
    owner = owner or owner_id()
    sleep = sleep or deps.clock.sleep
    label = period.label
    lease = timedelta(seconds=deps.settings.digest.lease_seconds)
    rendered: list[Rendered] = []  # rendered at most once, for the first channel that needs it
    results: list[ChannelResult] = []
    for channel in channels_for(deps.settings, kind):
        now = deps.clock.now()
        async with unit_of_work(deps.sessions) as session:
            got = await claim(
                session,
                kind=kind,
                period=label,
                channel=channel,
                now=now,
                lease=lease,
                owner=owner,
                take_over=take_over,
            )
        if got.state in _FINISHED:
            results.append(ChannelResult(channel, _FINISHED[got.state], got.message_ts))
            continue
        if got.state == ClaimState.BUSY:
            results.append(ChannelResult(channel, Outcome.BUSY))
            continue
        if got.state == ClaimState.WAITING:
            results.append(ChannelResult(channel, Outcome.RETRY_LATER, error=got.error))
            continue
        # An admin's --post reads its outcome on the terminal: no "late" DMs for it.
        hold = Hold(got.run_id, owner, kind, label, channel, tell=not take_over)
        async with lease_kept(deps, hold):
            results.append(await _deliver(deps, hold, got, period=period, rendered=rendered, sleep=sleep))
    if any(r.outcome in (Outcome.POSTED, Outcome.RECOVERED) for r in results):
        deps.home.refresh()  # Homes link the latest digests
    return results


async def _deliver(
    deps: Deps, hold: Hold, got: Claim, *, period: Period, rendered: list[Rendered], sleep: Sleep
) -> ChannelResult:
    """Everything after the claim for one channel: post (or find) the message, record it, attach the
    files, finish the row; on failure leave it for a later attempt or mark it failed."""
    kind, label, channel = hold.kind, hold.period, hold.channel

    async def digest() -> Rendered:
        if not rendered:
            rendered.append(await render(deps, kind=kind, period=period))
        return rendered[0]

    ts, found = got.message_ts, got.message_ts is not None
    try:
        if ts is None:
            doc = await digest()
            if doc.empty and _when_empty(deps.settings, kind) == "skip" and not got.maybe_posted:
                if not await finish(deps, hold, status=RunStatus.SKIPPED, sure_not_posted=True):
                    return ChannelResult(channel, Outcome.LOST)
                return ChannelResult(channel, Outcome.SKIPPED)
            ts, found = await post_digest(
                deps,
                doc.message(deps.settings, channel),
                hold=hold,
                since=got.claimed_at,
                look_first=got.maybe_posted,
                sleep=sleep,
            )
            if not await record_ts(deps, hold, ts):
                # The new owner finds this message in the channel (by its metadata) and records it.
                log.warning(
                    "%s: posted (ts %s) after the claim was taken over; left to the new owner", hold, ts
                )
                return ChannelResult(channel, Outcome.LOST, ts)
            if found:
                log.info("digest %s %s → %s was already posted (ts %s); recorded", kind, label, channel, ts)
            else:
                log.info("digest %s %s posted to %s (ts %s)", kind, label, channel, ts)
        await notices.tell_out_if_late(deps, kind=kind, period=label, channel=channel, found=found)
        outcome = Outcome.RECOVERED if found else Outcome.POSTED
        thread = await digest() if kind != PeriodKind.WEEKLY else None
        uploads = thread.uploads if thread is not None else ()
        questions = thread.questions if thread is not None else None
        if uploads or questions is not None:
            try:
                if questions is not None:  # the review's questions open the thread, once
                    await post_once(
                        deps.slack,
                        channel=channel,
                        message=questions,
                        thread_ts=ts,
                        key=f"digest_questions:{label}:{channel}",
                        look_first=found,
                    )
                if uploads:
                    await attach(deps, channel=channel, ts=ts, uploads=uploads, look=found)
            except (Unverifiable, *SLACK_ERRORS) as exc:
                error = f"files: {error_text(exc)}"
                if isinstance(exc, Unverifiable) or not is_transient(exc):
                    log.warning("%s: attachments not shared (thread %s): %s", hold, ts, error)
                    if not await finish(deps, hold, status=RunStatus.POSTED, error=error):
                        return ChannelResult(channel, Outcome.LOST, ts)
                    return ChannelResult(channel, outcome, ts, error)
                retry_at = deps.clock.now() + retry_delay(got.attempts)
                log.warning("%s: attachments not shared yet (%s); retrying at %s", hold, error, retry_at)
                if not await finish(deps, hold, status=RunStatus.CLAIMED, error=error, retry_at=retry_at):
                    return ChannelResult(channel, Outcome.LOST, ts)
                return ChannelResult(channel, outcome, ts, error)
        if not await finish(deps, hold, status=RunStatus.POSTED):
            return ChannelResult(channel, Outcome.LOST, ts)
        return ChannelResult(channel, outcome, ts)
    except ClaimLost:
        return ChannelResult(channel, Outcome.LOST)
    except Unverifiable as exc:
        # A post may be in the channel, but the channel cannot be read: posting again could double
        # the digest, and calling it failed could be untrue. Keep the claim open, look again later
        # (inviting the bot, or a restored scope, lets the look succeed), and tell the admins.
        log.error("%s: cannot check whether it is already posted (%s); not posting", hold, exc.error)
        if hold.tell and not hold.lost:  # told while the claim is ours: the next holder sees it
            await notices.tell_late(
                deps, kind=kind, period=label, channel=channel, error=exc.error, unverified=True
            )
        retry_at = deps.clock.now() + retry_delay(got.attempts)
        if not await finish(deps, hold, status=RunStatus.CLAIMED, error=exc.error, retry_at=retry_at):
            return ChannelResult(channel, Outcome.LOST)
        return ChannelResult(channel, Outcome.UNVERIFIED, error=exc.error)
    except SLACK_ERRORS as exc:
        error = error_text(exc)
        if is_transient(exc):
            if hold.tell and not hold.lost:  # told while the claim is ours: the next holder sees it
                await notices.tell_late(deps, kind=kind, period=label, channel=channel, error=error)
            retry_at = deps.clock.now() + retry_delay(got.attempts)
            if not await finish(
                deps,
                hold,
                status=RunStatus.CLAIMED,
                error=error,
                retry_at=retry_at,
                sure_not_posted=not (got.maybe_posted or hold.ambiguous),
            ):
                return ChannelResult(channel, Outcome.LOST)
            log.error("%s not posted yet (%s); next attempt at %s", hold, error, retry_at.isoformat())
            return ChannelResult(channel, Outcome.RETRY_LATER, error=error)
        if not await finish(
            deps,
            hold,
            status=RunStatus.FAILED,
            error=error,
            sure_not_posted=not (got.maybe_posted or hold.ambiguous),
        ):
            return ChannelResult(channel, Outcome.LOST)
        log.error("digest %s %s → %s failed: %s", kind, label, channel, error)
        await notices.tell_failed(deps, kind=kind, period=label, channel=channel, error=error)
        return ChannelResult(channel, Outcome.FAILED, error=error)
