"""Exactly once: concurrent replicas, crash recovery, 429/5xx retries, permanent errors, catch-up."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from bot.app import build_deps
from bot.clock import FixedClock
from bot.db import make_engine
from bot.digest.delivery import send_digest
from bot.digest.ids import digest_metadata
from bot.digest.jobs import catch_up, run_digest_job
from bot.digest.models import DigestRun
from bot.periods import parse_period
from bot.runtime.deps import Deps
from bot.slack.client import build_web_client
from tests.conftest import ADMIN, BOT_TOKEN, MGMT_CHANNEL
from tests.fakes.slack import FakeSlack
from tests.scenarios.digest_seed import jst

W47 = parse_period("weekly", "2026-W47")
SECOND = "C0SECOND1"


def two_channels(deps: Deps) -> Deps:
    weekly = replace(deps.settings.digest.weekly, channels=(MGMT_CHANNEL, SECOND))
    return replace(deps, settings=replace(deps.settings, digest=replace(deps.settings.digest, weekly=weekly)))


async def runs(deps: Deps) -> list[tuple[str, str, str, str | None]]:
    async with deps.sessions() as session:
        rows = (await session.scalars(select(DigestRun).order_by(DigestRun.kind, DigestRun.channel_id))).all()
    return [(r.kind, r.period, r.status, r.channel_id) for r in rows]


async def test_two_replicas_running_every_minute_post_once(
    deps: Deps, db_url: str, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    """Two independent processes' worth of Deps (own engines, own clients) fire the job together."""
    clock.set(jst(2026, 11, 23, 9))
    other_engine = make_engine(db_url)
    other = build_deps(
        deps.settings,
        clock=clock,
        engine=other_engine,
        slack=build_web_client(token=BOT_TOKEN, base_url=fake_slack.api_url),
    )
    first, second = two_channels(deps), two_channels(other)
    try:
        for _minute in range(3):  # a cron of every minute: the job fires again and again
            await asyncio.gather(*(run_digest_job(d, "weekly") for d in (first, second, first, second)))
            clock.advance(minutes=1)
    finally:
        await other_engine.dispose()
    assert len(fake_slack.messages(MGMT_CHANNEL)) == 1
    assert len(fake_slack.messages(SECOND)) == 1
    assert await runs(deps) == [
        ("weekly", "2026-W47", "posted", MGMT_CHANNEL),
        ("weekly", "2026-W47", "posted", SECOND),
    ]


async def claim_row(
    deps: Deps,
    *,
    lease_left: timedelta,
    created: timedelta = timedelta(minutes=5),
    attempted: bool = True,
    kind: str = "weekly",
    period: str = "2026-W47",
) -> None:
    """The claim a crashed poster left behind; ``attempted``: it had sent its chat.postMessage."""
    now = deps.clock.now()
    async with deps.sessions.begin() as session:
        session.add(
            DigestRun(
                kind=kind,
                period=period,
                channel_id=MGMT_CHANNEL,
                status="claimed",
                claimed_by="crashed-host:1",
                lease_until=now + lease_left,
                attempts=1,
                created_at=now - created,
                attempted_at=now - created if attempted else None,
            )
        )


async def test_crashed_after_claim_before_post_posts_once(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    clock.set(jst(2026, 11, 23, 9, 10))
    await claim_row(deps, lease_left=-timedelta(minutes=1))
    (result,) = await send_digest(deps, kind="weekly", period=W47)
    assert result.outcome == "posted"
    assert len(fake_slack.messages(MGMT_CHANNEL)) == 1
    # The recovery looked for the message first, with metadata, from before the claim.
    (history,) = fake_slack.calls_to("conversations.history")
    assert history.params["channel"] == MGMT_CHANNEL
    assert history.params["include_all_metadata"] in ("1", "true", True)


async def test_crashed_after_post_before_record_does_not_post_again(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    clock.set(jst(2026, 11, 23, 9, 10))
    await claim_row(deps, lease_left=-timedelta(minutes=1))
    # What the crashed process managed to post before dying (plus unrelated chatter).
    await deps.slack.chat_postMessage(channel=MGMT_CHANNEL, text="おはようございます")
    posted = await deps.slack.chat_postMessage(
        channel=MGMT_CHANNEL,
        text="digest",
        metadata=digest_metadata(kind="weekly", period="2026-W47", channel=MGMT_CHANNEL),
    )
    await deps.slack.chat_postMessage(
        channel=MGMT_CHANNEL,
        text="older digest",
        metadata=digest_metadata(kind="weekly", period="2026-W46", channel=MGMT_CHANNEL),
    )
    (result,) = await send_digest(deps, kind="weekly", period=W47)
    assert (result.outcome, result.message_ts) == ("recovered", posted["ts"])
    assert len(fake_slack.calls_to("chat.postMessage")) == 3  # nothing new
    async with deps.sessions() as session:
        run = (await session.scalars(select(DigestRun))).one()
    assert (run.status, run.message_ts) == ("posted", posted["ts"])


async def test_a_live_claim_is_left_alone(deps: Deps, clock: FixedClock, fake_slack: FakeSlack) -> None:
    clock.set(jst(2026, 11, 23, 9, 1))
    await claim_row(deps, lease_left=timedelta(seconds=60))
    (result,) = await send_digest(deps, kind="weekly", period=W47)
    assert result.outcome == "busy"
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_rate_limits_are_retried_with_backoff(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    clock.set(jst(2026, 11, 23, 9))
    # Posting bypasses the SDK's automatic retries: the digest's own backoff handles every failure.
    fake_slack.fail("chat.postMessage", status=429, retry_after=0, times=2)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    (result,) = await send_digest(deps, kind="weekly", period=W47, sleep=sleep)
    assert result.outcome == "posted"
    assert slept == [2.0, 4.0]
    assert len(fake_slack.messages(MGMT_CHANNEL)) == 1
    # A 429 means Slack did nothing, so no history lookup was needed before the retry.
    assert fake_slack.calls_to("conversations.history") == []


async def test_server_errors_are_retried_after_checking_the_channel(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    clock.set(jst(2026, 11, 23, 9))
    fake_slack.fail("chat.postMessage", status=503, times=2)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    (result,) = await send_digest(deps, kind="weekly", period=W47, sleep=sleep)
    assert result.outcome == "posted"
    assert slept == [2.0, 4.0]
    # Each 5xx may hide a post that went through: the channel is checked before every re-post.
    assert len(fake_slack.calls_to("conversations.history")) == 2
    assert len(fake_slack.messages(MGMT_CHANNEL)) == 1


async def test_retries_running_out_leave_the_claim_for_later(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    clock.set(jst(2026, 11, 23, 9))
    fake_slack.fail("chat.postMessage", status=429, retry_after=0, times=None)

    async def sleep(seconds: float) -> None:
        return None

    (result,) = await send_digest(deps, kind="weekly", period=W47, sleep=sleep)
    assert (result.outcome, result.error) == ("retry_later", "ratelimited")
    fake_slack.reset()
    clock.advance(minutes=1)
    (again,) = await send_digest(deps, kind="weekly", period=W47, sleep=sleep)
    assert again.outcome == "posted"
    assert len(fake_slack.messages(MGMT_CHANNEL)) == 1


async def test_a_permanent_error_is_reported_to_admins_once(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    clock.set(jst(2026, 11, 23, 9))
    fake_slack.fail(
        "chat.postMessage",
        error="not_in_channel",
        times=None,
        when=lambda p: p.get("channel") == MGMT_CHANNEL,
    )
    (result,) = await send_digest(deps, kind="weekly", period=W47)
    assert (result.outcome, result.error) == ("failed", "not_in_channel")
    await run_digest_job(deps, "weekly")  # the next run does not retry a permanent failure
    (retry,) = await send_digest(deps, kind="weekly", period=W47, take_over=True)  # an admin's --post
    assert retry.outcome == "failed"
    dms = [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == ADMIN]
    assert len(dms) == 1
    assert "`not_in_channel`" in dms[0].params["text"] and "2026-W47" in dms[0].params["text"]
    assert (
        len([c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == MGMT_CHANNEL]) == 2
    )


async def test_catch_up_within_the_grace_window(deps: Deps, clock: FixedClock, fake_slack: FakeSlack) -> None:
    clock.set(jst(2026, 11, 25, 12))  # Wednesday: Monday's weekly run was missed 2 days ago
    assert await catch_up(deps) == {"weekly": "sent", "monthly": "missed", "quarterly": "none"}
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert post.params["metadata"]["event_payload"]["period"] == "2026-W47"
    # The monthly run of 2026-11-02 is 23 days old: recorded as missed, not posted.
    assert await runs(deps) == [
        ("monthly", "2026-10", "missed", MGMT_CHANNEL),
        ("weekly", "2026-W47", "posted", MGMT_CHANNEL),
    ]
    # Restarting again changes nothing.
    assert await catch_up(deps) == {"weekly": "sent", "monthly": "missed", "quarterly": "none"}
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


async def test_catch_up_beyond_the_grace_window(deps: Deps, clock: FixedClock, fake_slack: FakeSlack) -> None:
    clock.set(jst(2026, 11, 27, 10))  # Friday: 4 days after Monday 09:00 > 3 days
    assert (await catch_up(deps))["weekly"] == "missed"
    assert fake_slack.calls_to("chat.postMessage") == []
    assert ("weekly", "2026-W47", "missed", MGMT_CHANNEL) in await runs(deps)


async def test_catch_up_of_the_monthly_digest_after_new_year(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    clock.set(jst(2027, 1, 5, 8))  # the 2027-01-04 run (first business day) was missed a day ago
    result = await catch_up(deps)
    assert result["monthly"] == "sent"
    periods = [
        c.params["metadata"]["event_payload"]["period"] for c in fake_slack.calls_to("chat.postMessage")
    ]
    assert "2026-12" in periods
