"""A digest whose post failed is retried until it is posted (issue 13, items 2 and 9).

Slack or the database down at the digest's fire time, a poster that lost its claim to another
replica, admins told once that a digest is late and once that it went out, only this bot's messages
trusted when looking for an earlier post, a channel the bot cannot read, a digest recovered after a
crash that still gets its chart and CSV, and claim owner ids that differ between process starts.

The bot's scheduled jobs run through :class:`tests.fakes.scheduler.SimulatedScheduler`: the jobs
``sns-bot run`` schedules (``build_scheduler``), fired by the injected clock, so hours of retries
take milliseconds and no test sleeps or depends on timing.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from bot.actions.ui import questions_message
from bot.app import build_deps, build_scheduler
from bot.clock import FixedClock
from bot.db import make_engine
from bot.digest.delivery import send_digest
from bot.digest.ids import DIGEST_EVENT_TYPE, digest_metadata
from bot.digest.jobs import run_digest_sweep
from bot.digest.models import DigestRun
from bot.i18n import translator
from bot.kpi.values import sync_accounts
from bot.models import Base
from bot.periods import parse_period
from bot.runtime.deps import Deps
from bot.slack.client import build_web_client
from bot.slack.posting import post_once
from tests.conftest import (
    ADMIN,
    BOT_TOKEN,
    GROUP_MEMBER,
    MANAGER_GROUP,
    MGMT_CHANNEL,
    OPERATOR,
    make_settings,
)
from tests.fakes.payloads import BOT_ID
from tests.fakes.scheduler import SimulatedScheduler
from tests.fakes.tcp_proxy import TcpProxy
from tests.reliability.bot_process import ROOT
from tests.reliability.faults_support import AfterFaultSlack, dm, replies, top_level
from tests.scenarios.digest_seed import add_kpi, jst

W47 = parse_period("weekly", "2026-W47")
NOV = parse_period("monthly", "2026-11")
#: Monday 2026-11-23 09:00 in Tokyo: the weekly digest of 2026-W47 is due.
FIRE = jst(2026, 11, 23, 9)
T = translator("ja")
WEEKLY = T("digest.kinds.weekly")


@pytest.fixture
async def fake_slack() -> AsyncIterator[AfterFaultSlack]:
    async with AfterFaultSlack() as slack:
        slack.usergroups[MANAGER_GROUP] = [GROUP_MEMBER]
        yield slack
        slack.assert_no_invalid_payloads()


def quick_sdk_retries(deps: Deps) -> Deps:
    """The Web API client's own retries (DMs, history) without their 0.5-2 s real sleeps."""
    for handler in deps.slack.retry_handlers:
        handler.interval_calculator = FixedValueRetryIntervalCalculator(0.0)
    return deps


async def replica(deps: Deps, url: str) -> Deps:
    """Another process's dependencies on the same store: its own engine and Slack client."""
    other = build_deps(
        deps.settings,
        clock=deps.clock,
        engine=make_engine(url),
        slack=build_web_client(token=BOT_TOKEN, base_url=deps.settings.slack_api_url),
    )
    return quick_sdk_retries(other)


def digests(fake: AfterFaultSlack, kind: str = "weekly") -> list[dict[str, Any]]:
    """The digest posts of ``kind`` in the channel (by their metadata)."""
    return [
        m
        for m in top_level(fake, MGMT_CHANNEL)
        if (m.get("metadata") or {}).get("event_type") == DIGEST_EVENT_TYPE
        and m["metadata"]["event_payload"]["kind"] == kind
    ]


def admin_dms(fake: AfterFaultSlack) -> list[str]:
    return [m["text"] for m in fake.messages(dm(ADMIN))]


async def run_row(deps: Deps, kind: str = "weekly", period: str = "2026-W47") -> DigestRun:
    async with deps.sessions() as session:
        return (
            await session.scalars(select(DigestRun).where(DigestRun.kind == kind, DigestRun.period == period))
        ).one()


def digest_jobs(job_id: str) -> bool:
    return job_id.startswith("digest.")


async def crashed_claim(
    deps: Deps, *, attempted: bool, kind: str = "weekly", period: str = "2026-W47", ts: str | None = None
) -> None:
    """The claim a poster left when it died 5 minutes ago; ``attempted``: it had sent its post;
    ``ts``: it had recorded the post too (and died before the attachments)."""
    now = deps.clock.now()
    async with deps.sessions.begin() as session:
        session.add(
            DigestRun(
                kind=kind,
                period=period,
                channel_id=MGMT_CHANNEL,
                status="claimed",
                claimed_by="crashed-host:1:0",
                lease_until=now - timedelta(minutes=3),
                attempts=1,
                message_ts=ts,
                created_at=now - timedelta(minutes=5),
                attempted_at=now - timedelta(minutes=5) if attempted else None,
            )
        )


# ---------------------------------------------------------------------------------------------
# Slack or the database down at fire time
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["503", "reset"])
@pytest.mark.parametrize("outage", [30, 600], ids=["30s", "10min"])
async def test_slack_down_at_fire_time_posts_the_digest_once_when_it_is_back(
    deps: Deps, clock: FixedClock, fake_slack: AfterFaultSlack, fault: str, outage: int
) -> None:
    """Every Web API call fails from the fire time for ``outage`` seconds (a 503 burst, or reset
    connections); the running bot's jobs go on, and the digest appears once when Slack is back."""
    quick_sdk_retries(deps)
    clock.set(FIRE - timedelta(seconds=30))
    back = FIRE + timedelta(seconds=outage)
    post_times = []

    def down(params: dict[str, Any]) -> bool:
        if params.get("channel") == MGMT_CHANNEL and "metadata" in params:
            post_times.append(clock.now())
        return clock.now() < back

    for method in ("chat.postMessage", "conversations.history", "auth.test"):
        if fault == "503":
            fake_slack.fail(method, status=503, times=None, when=down)
        else:
            fake_slack.fail(method, drop=True, times=None, when=down)
    bot = SimulatedScheduler([build_scheduler(deps)], clock, only=digest_jobs)
    await bot.run_until(back + timedelta(minutes=40))

    [posted] = digests(fake_slack)
    row = await run_row(deps)
    assert (row.status, row.message_ts, row.error) == ("posted", posted["ts"], None)
    assert bot.runs_of("digest.weekly") == [FIRE]  # the schedule fired once; the sweep did the rest
    # Attempts back off (1, 2, 4, … minutes between sends, each send trying for about 30 s) instead of
    # hammering Slack: a 10-minute outage is a handful of sends, not one per sweep.
    sends = [t for i, t in enumerate(post_times) if i == 0 or t - post_times[i - 1] > timedelta(minutes=1)]
    assert len(sends) <= (1 if outage == 30 else 5), sends
    assert all(b - a > timedelta(seconds=80) for a, b in zip(sends, sends[1:], strict=False)), sends
    # Slack was down for the DMs too; once it was back the digest went out at the next attempt.
    assert admin_dms(fake_slack) == []


async def test_the_sweep_retries_only_within_the_catch_up_window(
    deps: Deps, clock: FixedClock, fake_slack: AfterFaultSlack
) -> None:
    quick_sdk_retries(deps)
    clock.set(FIRE)
    fake_slack.fail("chat.postMessage", status=429, retry_after=0, times=None, when=lambda p: "metadata" in p)
    (first,) = await send_digest(deps, kind="weekly", period=W47)
    assert first.outcome == "retry_later"
    clock.set(FIRE + timedelta(days=2, hours=23))  # [digest] catch_up_days = 3
    assert await run_digest_sweep(deps) == [("weekly", "2026-W47")]
    posts = len(fake_slack.calls_to("chat.postMessage"))
    clock.set(FIRE + timedelta(days=3, minutes=1))
    assert await run_digest_sweep(deps) == []
    assert len(fake_slack.calls_to("chat.postMessage")) == posts
    assert (await run_row(deps)).status == "claimed"


@pytest.fixture
async def proxy(pg_url: str) -> AsyncIterator[TcpProxy]:
    target = make_url(pg_url)
    async with TcpProxy(target_host=target.host or "127.0.0.1", target_port=target.port or 5432) as proxy:
        yield proxy


@pytest.fixture
async def pg_deps(
    pg_url: str, proxy: TcpProxy, fake_slack: AfterFaultSlack, clock: FixedClock
) -> AsyncIterator[Deps]:
    """The bot's dependencies with PostgreSQL reached through ``proxy`` (an emptied store)."""
    direct = make_engine(pg_url)
    async with direct.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await direct.dispose()
    url = make_url(pg_url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = make_settings(db_url=url, api_url=fake_slack.api_url)
    deps = build_deps(
        settings,
        clock=clock,
        engine=make_engine(url, pool_size=2),
        slack=build_web_client(token=BOT_TOKEN, base_url=fake_slack.api_url),
    )
    async with deps.sessions.begin() as session:
        await sync_accounts(session, accounts=settings.accounts)
    yield quick_sdk_retries(deps)
    await deps.engine.dispose()


@pytest.mark.postgres
async def test_the_database_down_at_fire_time_posts_the_digest_once_when_it_is_back(
    pg_deps: Deps, proxy: TcpProxy, clock: FixedClock, fake_slack: AfterFaultSlack
) -> None:
    """PostgreSQL is cut at the fire time, so the scheduled run cannot even claim the digest (no
    row is written); the sweep sees the last fire time's period unposted once the database is back."""
    clock.set(FIRE - timedelta(seconds=30))
    bot = SimulatedScheduler([build_scheduler(pg_deps)], clock, only=digest_jobs)
    await bot.run_until(FIRE - timedelta(seconds=1))
    await proxy.cut()
    await bot.run_until(FIRE + timedelta(minutes=5))
    assert bot.runs_of("digest.weekly") == [FIRE]
    assert digests(fake_slack) == []
    proxy.restore()
    await bot.run_until(FIRE + timedelta(minutes=15))

    [posted] = digests(fake_slack)
    row = await run_row(pg_deps)
    assert (row.status, row.message_ts, row.attempts) == ("posted", posted["ts"], 1)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


# ---------------------------------------------------------------------------------------------
# A poster that lost its claim stops
# ---------------------------------------------------------------------------------------------


async def test_a_poster_whose_claim_was_taken_over_stops_and_the_digest_is_posted_once(
    deps: Deps, db_url: str, clock: FixedClock, fake_slack: AfterFaultSlack
) -> None:
    """Replica A's first post gets a 503 (nothing stored), then A stalls past its lease (a frozen VM,
    a long pause, its database unreachable for the renewals). Replica B takes the claim over, finds
    nothing in the channel and posts; while B's post is in flight A wakes up. A must notice that the
    claim is B's and stop, instead of looking (B's message is not there yet) and posting again."""
    clock.set(FIRE)
    b_deps = await replica(deps, db_url)
    fake_slack.fail("chat.postMessage", status=503, times=1)  # A's post: refused, nothing stored
    fake_slack.fail("chat.postMessage", delay=2.0, times=1)  # B's post: still in flight when A wakes
    b_send: list[asyncio.Task[Any]] = []

    async def a_stalls(seconds: float) -> None:
        clock.advance(seconds=deps.settings.digest.lease_seconds + seconds)
        b_send.append(asyncio.create_task(send_digest(b_deps, kind="weekly", period=W47, owner="replica-b")))
        await fake_slack.wait_for("chat.postMessage", count=2)  # B is posting

    try:
        (a,) = await send_digest(deps, kind="weekly", period=W47, owner="replica-a", sleep=a_stalls)
        (b,) = await b_send[0]
    finally:
        await b_deps.engine.dispose()

    [posted] = digests(fake_slack)
    assert (a.outcome, b.outcome) == ("lost", "posted")
    row = await run_row(deps)
    assert (row.status, row.message_ts, row.claimed_by, row.attempts) == (
        "posted",
        posted["ts"],
        "replica-b",
        2,
    )
    assert len(fake_slack.calls_to("chat.postMessage")) == 2  # A's refused post and B's


# ---------------------------------------------------------------------------------------------
# Admins: late once, went out once
# ---------------------------------------------------------------------------------------------


async def test_admins_hear_once_that_a_digest_is_late_and_once_that_it_went_out(
    deps: Deps, db_url: str, clock: FixedClock, fake_slack: AfterFaultSlack
) -> None:
    """Posts to the digest channel fail for 25 minutes (DMs work). Two replicas run the jobs and
    sweep; a third process starts later. The admins get one "late" DM and one "went out" DM."""
    quick_sdk_retries(deps)
    clock.set(FIRE - timedelta(seconds=30))
    back = FIRE + timedelta(minutes=25)
    fake_slack.fail(
        "chat.postMessage",
        status=503,
        times=None,
        when=lambda p: p.get("channel") == MGMT_CHANNEL and clock.now() < back,
    )
    b_deps = await replica(deps, db_url)
    try:
        bots = SimulatedScheduler([build_scheduler(deps), build_scheduler(b_deps)], clock, only=digest_jobs)
        await bots.run_until(back - timedelta(minutes=1))
        assert digests(fake_slack) == []
        [told] = admin_dms(fake_slack)
        late = T(
            "digest.admin.late", kind=WEEKLY, period="2026-W47", channel=MGMT_CHANNEL, error="503", days="3"
        )
        assert told == late
        await bots.run_until(back + timedelta(hours=1))
        c_deps = await replica(deps, db_url)  # a restarted process sweeps too
        try:
            await run_digest_sweep(c_deps)
        finally:
            await c_deps.engine.dispose()
    finally:
        await b_deps.engine.dispose()

    assert len(digests(fake_slack)) == 1
    out = T("digest.admin.out", kind=WEEKLY, period="2026-W47", channel=MGMT_CHANNEL)
    assert admin_dms(fake_slack) == [late, out]
    assert (await run_row(deps)).status == "posted"


# ---------------------------------------------------------------------------------------------
# Only this bot's messages are trusted (item 9)
# ---------------------------------------------------------------------------------------------


async def test_a_message_with_the_digest_key_from_a_person_or_another_app_is_not_taken_for_the_digest(
    deps: Deps, clock: FixedClock, fake_slack: AfterFaultSlack
) -> None:
    clock.set(FIRE + timedelta(minutes=10))
    await crashed_claim(deps, attempted=True)  # the crashed poster may have posted: recovery looks
    key = digest_metadata(kind="weekly", period="2026-W47", channel=MGMT_CHANNEL)
    fake_slack.post_as(MGMT_CHANNEL, text="copied", user=OPERATOR, metadata=key)
    fake_slack.post_as(MGMT_CHANNEL, text="other app", user="U0OTHERBOT", bot_id="B0OTHER01", metadata=key)

    (result,) = await send_digest(deps, kind="weekly", period=W47)

    assert result.outcome == "posted"
    [ours] = [m for m in digests(fake_slack) if m.get("bot_id") == BOT_ID]
    assert (await run_row(deps)).message_ts == ours["ts"] == result.message_ts
    assert len(digests(fake_slack)) == 3  # the two impostors and the digest


# ---------------------------------------------------------------------------------------------
# A channel the bot cannot read (item 9)
# ---------------------------------------------------------------------------------------------


async def test_an_unreadable_channel_after_an_ambiguous_post_does_not_make_the_digest_failed(
    deps: Deps, clock: FixedClock, fake_slack: AfterFaultSlack
) -> None:
    """The bot posts with chat:write.public into a channel it is not a member of. Slack stores the
    digest but the answer is lost (503); the look in the channel gets ``not_in_channel``. The digest
    is in the channel, so it must not be called failed (nor posted again): the claim stays open, the
    admins are asked to invite the bot, and once it is invited the sweep finds the post."""
    quick_sdk_retries(deps)
    clock.set(FIRE)
    invited = False
    fake_slack.fail_after("chat.postMessage", when=lambda p: p.get("channel") == MGMT_CHANNEL)
    fake_slack.fail("conversations.history", error="not_in_channel", times=None, when=lambda p: not invited)

    (result,) = await send_digest(deps, kind="weekly", period=W47)
    assert (result.outcome, result.error) == ("unverified", "not_in_channel")
    row = await run_row(deps)
    assert (row.status, row.message_ts, row.error) == ("claimed", None, "not_in_channel")
    [posted] = digests(fake_slack)
    unverified = T(
        "digest.admin.unverified",
        kind=WEEKLY,
        period="2026-W47",
        channel=MGMT_CHANNEL,
        error="not_in_channel",
        days="3",
    )
    assert admin_dms(fake_slack) == [unverified]

    clock.advance(minutes=2)  # still not invited: the sweep looks again, posts nothing, tells no one
    assert await run_digest_sweep(deps) == [("weekly", "2026-W47")]
    assert (await run_row(deps)).status == "claimed"
    invited = True
    clock.advance(minutes=5)
    assert await run_digest_sweep(deps) == [("weekly", "2026-W47")]

    row = await run_row(deps)
    assert (row.status, row.message_ts) == ("posted", posted["ts"])
    assert digests(fake_slack) == [posted]
    found = T("digest.admin.found", kind=WEEKLY, period="2026-W47", channel=MGMT_CHANNEL)
    assert admin_dms(fake_slack) == [unverified, found]


async def test_a_crashed_claim_in_an_unreadable_channel_is_not_posted_blindly(
    deps: Deps, clock: FixedClock, fake_slack: AfterFaultSlack
) -> None:
    """A poster died after sending its post; the channel cannot be read (``channel_not_found``, as a
    private channel answers a non-member). The next attempt neither posts nor crashes nor fails."""
    quick_sdk_retries(deps)
    clock.set(FIRE + timedelta(minutes=10))
    await crashed_claim(deps, attempted=True)
    fake_slack.fail("conversations.history", error="channel_not_found", times=None)

    (result,) = await send_digest(deps, kind="weekly", period=W47)

    assert (result.outcome, result.error) == ("unverified", "channel_not_found")
    assert fake_slack.calls_to("chat.postMessage")[0].params["channel"] == ADMIN  # only the DM
    assert (await run_row(deps)).status == "claimed"


async def test_a_claim_that_never_sent_its_post_is_posted_without_reading_the_channel(
    deps: Deps, clock: FixedClock, fake_slack: AfterFaultSlack
) -> None:
    """A poster died after claiming but before posting (rendering the chart): nothing can be in the
    channel, so the next attempt posts at once, even where the bot cannot read the channel."""
    clock.set(FIRE + timedelta(minutes=10))
    await crashed_claim(deps, attempted=False)
    fake_slack.fail("conversations.history", error="not_in_channel", times=None)

    (result,) = await send_digest(deps, kind="weekly", period=W47)

    assert result.outcome == "posted"
    assert len(digests(fake_slack)) == 1
    assert fake_slack.calls_to("conversations.history") == []
    assert (await run_row(deps)).attempts == 2


# ---------------------------------------------------------------------------------------------
# A digest recovered after a crash still gets its chart and CSV, once
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("recorded", [False, True], ids=["found", "recorded"])
@pytest.mark.parametrize("shared", [(), ("png",), ("png", "csv")], ids=["none", "chart", "both"])
async def test_a_monthly_digest_found_after_a_crash_gets_its_chart_and_csv_once(
    deps: Deps, clock: FixedClock, fake_slack: AfterFaultSlack, shared: tuple[str, ...], recorded: bool
) -> None:
    """The poster died after Slack stored the monthly digest (and maybe some of its files), before it
    recorded the post, or after recording it but before finishing the attachments. The next attempt
    finds the post (or knows it) and shares only the files this bot has not shared in its thread."""
    async with deps.sessions.begin() as session:
        await add_kpi(session, kpi="recruiting_entries", month="2026-11", value=34)
    clock.set(jst(2026, 12, 1, 9, 10))
    posted = await deps.slack.chat_postMessage(
        channel=MGMT_CHANNEL,
        text="digest",
        metadata=digest_metadata(kind="monthly", period="2026-11", channel=MGMT_CHANNEL),
    )
    await crashed_claim(
        deps, attempted=True, kind="monthly", period="2026-11", ts=posted["ts"] if recorded else None
    )
    if shared:
        await deps.slack.files_upload_v2(
            channel=MGMT_CHANNEL,
            thread_ts=posted["ts"],
            file_uploads=[{"content": b"x", "filename": f"sns-kpi-2026-11.{ext}"} for ext in shared],
        )

    (result,) = await send_digest(deps, kind="monthly", period=NOV)

    assert (result.outcome, result.message_ts) == ("recovered", posted["ts"])
    names = sorted(
        f["name"] for m in replies(fake_slack, MGMT_CHANNEL, posted["ts"]) for f in m.get("files", [])
    )
    assert names == ["sns-kpi-2026-11.csv", "sns-kpi-2026-11.png"]
    # The digest is not posted again; the review's questions it still owed open its thread.
    posts = fake_slack.calls_to("chat.postMessage")
    assert [p.params.get("thread_ts") for p in posts] == [None, posted["ts"]]
    assert len(fake_slack.calls_to("conversations.history")) == (0 if recorded else 1)
    assert (await run_row(deps, "monthly", "2026-11")).status == "posted"


@pytest.mark.parametrize("recorded", [False, True], ids=["found", "recorded"])
async def test_the_questions_of_a_digest_found_after_a_crash_are_not_asked_twice(
    deps: Deps, clock: FixedClock, fake_slack: AfterFaultSlack, recorded: bool
) -> None:
    """The poster died after the questions went into the digest's thread: the next attempt finds them
    there (by their key, this bot's own reply) and only shares the files."""
    async with deps.sessions.begin() as session:
        await add_kpi(session, kpi="recruiting_entries", month="2026-11", value=34)
    clock.set(jst(2026, 12, 1, 9, 10))
    posted = await deps.slack.chat_postMessage(
        channel=MGMT_CHANNEL,
        text="digest",
        metadata=digest_metadata(kind="monthly", period="2026-11", channel=MGMT_CHANNEL),
    )
    await crashed_claim(
        deps, attempted=True, kind="monthly", period="2026-11", ts=posted["ts"] if recorded else None
    )
    questions = questions_message(deps.settings, deps.t)
    assert questions is not None
    await post_once(
        deps.slack,
        channel=MGMT_CHANNEL,
        message=questions,
        thread_ts=posted["ts"],
        key=f"digest_questions:2026-11:{MGMT_CHANNEL}",
    )

    (result,) = await send_digest(deps, kind="monthly", period=NOV)

    assert (result.outcome, result.message_ts) == ("recovered", posted["ts"])
    assert len(fake_slack.calls_to("chat.postMessage")) == 2  # the digest and the questions, once each
    replies_ = replies(fake_slack, MGMT_CHANNEL, posted["ts"])
    assert sum(1 for m in replies_ if m.get("text") == questions.text) == 1
    assert sorted(f["name"] for m in replies_ for f in m.get("files", [])) == [
        "sns-kpi-2026-11.csv",
        "sns-kpi-2026-11.png",
    ]


# ---------------------------------------------------------------------------------------------
# Claim owners
# ---------------------------------------------------------------------------------------------


def test_owner_ids_differ_between_process_starts_with_the_same_host_and_pid() -> None:
    """In a container every start is pid 1 on the same host name; two starts must still be two owners
    (else a restarted or a twin replica passes the ``claimed_by`` checks of the other's claim)."""
    code = "import os; os.getpid = lambda: 1; from bot.digest.claims import owner_id; print(owner_id())"
    first, second = (
        subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        for _start in range(2)
    )
    assert first.split(":")[1] == second.split(":")[1] == "1"
    assert first != second
