"""Slack misbehaving on every Web API call the bot makes: 429 with Retry-After, 503, a reset connection
and a slow answer, once each, before the call ran — and, for the calls that are not idempotent, a 503
or a reset *after* Slack did the work. Each time the person sees the result exactly once and the store
holds exactly one record. Plus expired trigger ids, deleted messages and digest channels that are gone.

Slack faults do not depend on the database, so these run on SQLite only (the races and database
faults run on both backends)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.digest.delivery import send_digest
from bot.digest.ids import CallbackId as DigestCallbackId
from bot.digest.models import Win
from bot.kpi.models import KpiValue
from bot.periods import last_finished
from bot.review import jobs as review_jobs
from bot.review.ids import ActionId
from bot.review.models import ReviewEvent, ReviewRequest
from bot.runtime.deps import Deps
from tests.conftest import (
    ADMIN,
    GROUP_MEMBER,
    MANAGER,
    MANAGER_GROUP,
    MGMT_CHANNEL,
    NOW,
    OPERATOR,
    REVIEW_CHANNEL,
    make_settings,
)
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.reliability.faults_support import (
    AfterFaultSlack,
    count,
    decision_click,
    decision_submission,
    dm,
    replies,
    request_submission,
    seed_request,
    top_level,
)

TOKYO = ZoneInfo("Asia/Tokyo")
CHANNEL = "C0TEAM0001"


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO).astimezone(UTC)


@pytest.fixture
def db_url(tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def fake_slack() -> AsyncIterator[AfterFaultSlack]:
    async with AfterFaultSlack() as slack:
        slack.usergroups[MANAGER_GROUP] = [GROUP_MEMBER]
        yield slack
        slack.assert_no_invalid_payloads()


@pytest.fixture
def settings(db_url: str, fake_slack: AfterFaultSlack) -> Settings:
    def change(raw: dict[str, Any]) -> None:
        raw["review"].update(remind_after_hours=4, escalate_after_hours=16)
        raw["kpi"]["chart_channels"] = [CHANNEL]  # charts are shared there (elsewhere: the asker's DM)

    return make_settings(db_url=db_url, api_url=fake_slack.api_url, change=change)


# ---------------------------------------------------------------------------------------------
# The interactions, each with what the person must see exactly once
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ctx:
    deps: Deps
    sender: SlackSender
    fake: AfterFaultSlack
    #: Injects the fault; called right before the interaction (after any seeding).
    arm: Callable[[], None] = lambda: None


def processed(fake: AfterFaultSlack, method: str) -> int:
    return len(fake.processed(method))


async def review_command(ctx: Ctx) -> Callable[[], Awaitable[None]]:
    fields = payloads.slash_command(
        "/sns-review", "下書きです", user_id=OPERATOR, response_url=ctx.fake.response_url("cmd")
    )
    ctx.arm()
    assert (await ctx.sender.command(fields)).status == 200

    async def check() -> None:
        assert processed(ctx.fake, "views.open") == 1
        assert len(ctx.fake.views) == 1
        assert ctx.fake.calls_to("response_url") == []  # no error answer

    return check


async def request_submitted(ctx: Ctx) -> Callable[[], Awaitable[None]]:
    ctx.arm()
    response = await ctx.sender.interactive(request_submission())
    assert (response.status, response.body) == (200, b"")

    async def check() -> None:
        (posted,) = top_level(ctx.fake, REVIEW_CHANNEL)
        assert len(ctx.fake.messages(dm(OPERATOR))) == 1  # "your request was posted"
        async with ctx.deps.sessions() as session:
            (row,) = (await session.scalars(select(ReviewRequest))).all()
        assert (row.channel_id, row.message_ts) == (REVIEW_CHANNEL, posted["ts"])

    return check


async def approve_clicked(ctx: Ctx) -> Callable[[], Awaitable[None]]:
    request = await seed_request(ctx.deps)
    ctx.arm()
    assert (await ctx.sender.interactive(decision_click(ctx.fake, request, MANAGER))).status == 200

    async def check() -> None:
        assert processed(ctx.fake, "views.open") == 1
        assert ctx.fake.calls_to("response_url") == []
        assert await count(ctx.deps, ReviewEvent) == 1  # only "requested": a click decides nothing

    return check


async def approve_submitted(ctx: Ctx) -> Callable[[], Awaitable[None]]:
    request = await seed_request(ctx.deps)
    ctx.arm()
    response = await ctx.sender.interactive(decision_submission(request, MANAGER))
    assert (response.status, response.body) == (200, b"")

    async def check() -> None:
        (message,) = top_level(ctx.fake, REVIEW_CHANNEL)
        assert ActionId.APPROVE.value not in json.dumps(message["blocks"])  # updated: decided
        assert len(replies(ctx.fake, REVIEW_CHANNEL, message["ts"])) == 1
        assert len(ctx.fake.messages(dm(OPERATOR))) == 1
        assert await count(ctx.deps, ReviewEvent, ReviewEvent.kind == "approved") == 1

    return check


async def kpi_set(ctx: Ctx) -> Callable[[], Awaitable[None]]:
    fields = payloads.slash_command(
        "/sns-kpi", "set recruiting_entries 12", user_id=MANAGER, response_url=ctx.fake.response_url("kpi")
    )
    ctx.arm()
    assert (await ctx.sender.command(fields)).status == 200

    async def check() -> None:
        assert processed(ctx.fake, "response_url") == 1
        (answer,) = ctx.fake.processed("response_url")
        assert answer.params["text"].startswith(":white_check_mark: 2026年11月の採用エントリー数を 12 で")
        assert await count(ctx.deps, KpiValue) == 1

    return check


async def kpi_chart(ctx: Ctx) -> Callable[[], Awaitable[None]]:
    fields = payloads.slash_command(
        "/sns-kpi",
        "recruiting_entries",
        user_id=OPERATOR,
        channel_id=CHANNEL,
        response_url=ctx.fake.response_url("chart"),
    )
    ctx.arm()
    assert (await ctx.sender.command(fields)).status == 200

    async def check() -> None:
        shared = [m for m in ctx.fake.messages(CHANNEL) if m.get("files")]
        assert len(shared) == 1
        assert processed(ctx.fake, "response_url") == 1  # the history, and no error

    return check


async def kpi_chart_in_dm(ctx: Ctx) -> Callable[[], Awaitable[None]]:
    ctx.fake.fail(
        "files.completeUploadExternal", error="not_in_channel", when=lambda p: p.get("channel_id") == CHANNEL
    )
    fields = payloads.slash_command(
        "/sns-kpi",
        "recruiting_entries",
        user_id=OPERATOR,
        channel_id=CHANNEL,
        response_url=ctx.fake.response_url("chart"),
    )
    ctx.arm()
    assert (await ctx.sender.command(fields)).status == 200

    async def check() -> None:
        assert len([m for m in ctx.fake.messages(dm(OPERATOR)) if m.get("files")]) == 1
        assert [m for m in ctx.fake.messages(CHANNEL) if m.get("files")] == []

    return check


async def home_opened(ctx: Ctx) -> Callable[[], Awaitable[None]]:
    envelope = payloads.event(payloads.app_home_opened(user_id=MANAGER), event_id="Ev0HOME0001")
    ctx.arm()
    assert (await ctx.sender.event(envelope)).status == 200

    async def check() -> None:
        assert processed(ctx.fake, "views.publish") == 1
        (home,) = [v for v in ctx.fake.views.values() if v["type"] == "home"]
        assert home["blocks"]

    return check


async def win_shared(ctx: Ctx) -> Callable[[], Awaitable[None]]:
    from bot.digest.ids import ActionId as WinActionId
    from bot.digest.ids import BlockId as WinBlockId
    from bot.digest.ids import WinTarget

    target = WinTarget(channel_id=CHANNEL, message_ts="1767225601.000100", author=OPERATOR)
    values = {WinBlockId.WIN_WHAT: {WinActionId.WIN_WHAT: payloads.text_input("採用説明会の告知が 3 万表示")}}
    submission = payloads.view_submission(
        DigestCallbackId.WIN_MODAL, values, private_metadata=target.encode(), user_id=OPERATOR
    )
    ctx.arm()
    assert (await ctx.sender.interactive(submission)).status == 200

    async def check() -> None:
        async with ctx.deps.sessions() as session:
            (win,) = (await session.scalars(select(Win))).all()
        assert win.permalink == f"https://acme.slack.com/archives/{CHANNEL}/p1767225601000100"

    return check


async def reminder_sent(ctx: Ctx) -> Callable[[], Awaitable[None]]:
    clock = ctx.deps.clock
    clock.set(jst(2026, 11, 24, 9, 0))  # type: ignore[attr-defined]
    request = await seed_request(ctx.deps)
    clock.set(jst(2026, 11, 24, 13, 0))  # type: ignore[attr-defined]
    ctx.arm()
    report = await review_jobs.run_sweep(ctx.deps)
    assert report == review_jobs.SweepReport(reminded=[request.id])

    async def check() -> None:
        assert len(replies(ctx.fake, REVIEW_CHANNEL, str(request.message_ts))) == 1
        assert await count(ctx.deps, ReviewEvent, ReviewEvent.kind == "reminded") == 1

    return check


async def digest_posted(ctx: Ctx) -> Callable[[], Awaitable[None]]:
    async def no_wait(_seconds: float) -> None:
        return None

    period = last_finished("weekly", NOW, ctx.deps.settings.tz)
    ctx.arm()
    (result,) = await send_digest(ctx.deps, kind="weekly", period=period, sleep=no_wait)
    assert result.outcome == "posted"

    async def check() -> None:
        (posted,) = top_level(ctx.fake, MGMT_CHANNEL)
        assert posted["metadata"]["event_type"] == "sns_digest"
        assert posted["ts"] == result.message_ts

    return check


Interaction = Callable[[Ctx], Awaitable[Callable[[], Awaitable[None]]]]

#: Every Web API method the bot calls (grep ``client.``/``deps.slack.``/``respond`` in bot/), with an
#: interaction that calls it. ``conversations.history`` is only called after a failure (see the
#: after-the-fact table); ``views.update`` is best-effort by design (a newer refill wins).
CALLS: list[tuple[str, Interaction]] = [
    ("views.open", review_command),
    ("usergroups.users.list", review_command),
    ("chat.postMessage", request_submitted),
    ("views.open", approve_clicked),
    ("chat.update", approve_submitted),
    ("chat.postMessage", approve_submitted),
    ("response_url", kpi_set),
    ("files.getUploadURLExternal", kpi_chart),
    ("upload", kpi_chart),
    ("files.completeUploadExternal", kpi_chart),
    ("conversations.open", kpi_chart_in_dm),
    ("views.publish", home_opened),
    ("chat.getPermalink", win_shared),
    ("chat.postMessage", reminder_sent),
    ("chat.postMessage", digest_posted),
]

FAULTS: dict[str, dict[str, Any]] = {
    "429": {"status": 429, "retry_after": 0},
    "503": {"status": 503},
    "reset": {"drop": True},
}
#: A slow answer is only interesting where a person waits on it (the ack never does: it comes first).
SLOW: list[tuple[str, Interaction]] = [
    ("views.open", review_command),
    ("chat.postMessage", request_submitted),
    ("response_url", kpi_set),
    ("views.publish", home_opened),
]


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize(("method", "interaction"), CALLS, ids=[f"{m}-{i.__name__}" for m, i in CALLS])
async def test_one_fault_before_the_call_ran_changes_nothing_the_person_sees(
    deps: Deps,
    sender: SlackSender,
    fake_slack: AfterFaultSlack,
    method: str,
    interaction: Interaction,
    fault: str,
) -> None:
    check = await interaction(Ctx(deps, sender, fake_slack, lambda: fake_slack.fail(method, **FAULTS[fault])))
    await deps.inflight.drain(15)
    await check()
    assert [c.method for c in fake_slack.refused][-1] == method  # the fault did happen


@pytest.mark.parametrize(("method", "interaction"), SLOW, ids=[f"{m}-{i.__name__}" for m, i in SLOW])
async def test_a_slow_answer_changes_nothing_the_person_sees(
    deps: Deps, sender: SlackSender, fake_slack: AfterFaultSlack, method: str, interaction: Interaction
) -> None:
    check = await interaction(Ctx(deps, sender, fake_slack, lambda: fake_slack.fail(method, delay=0.4)))
    await deps.inflight.drain(15)
    await check()
    calls = 2 if method == "chat.postMessage" else 1  # the request's channel post and its DM
    # A first review also welcomes the managers it reaches, once each (bot.welcome): not a retry.
    made = [c for c in fake_slack.calls_to(method) if c.params.get("text") != deps.t("welcome.fallback")]
    assert len(made) == calls  # waited for, not retried


@pytest.mark.parametrize(
    ("method", "interaction"), [("views.open", review_command), ("chat.postMessage", request_submitted)]
)
async def test_retry_after_is_honoured(
    deps: Deps, sender: SlackSender, fake_slack: AfterFaultSlack, method: str, interaction: Interaction
) -> None:
    arm = lambda: fake_slack.fail(method, status=429, retry_after=1)  # noqa: E731
    check = await interaction(Ctx(deps, sender, fake_slack, arm))
    await deps.inflight.drain(15)
    await check()
    first, second = fake_slack.calls_to(method)[:2]
    assert second.at - first.at >= 1.0


#: Calls that change something in Slack, failing *after* Slack did the work: channel posts are
#: looked for (by a one-off key in their metadata) before being posted again; chat.update just
#: writes the same content again.
AFTER: list[tuple[str, Interaction]] = [
    ("chat.postMessage", request_submitted),
    ("chat.postMessage", approve_submitted),
    ("chat.update", approve_submitted),
    ("chat.postMessage", reminder_sent),
    ("chat.postMessage", digest_posted),
]


@pytest.mark.parametrize("drop", [False, True], ids=["503", "reset"])
@pytest.mark.parametrize(("method", "interaction"), AFTER, ids=[f"{m}-{i.__name__}" for m, i in AFTER])
async def test_a_lost_answer_after_the_call_ran_does_not_double_it(
    deps: Deps,
    sender: SlackSender,
    fake_slack: AfterFaultSlack,
    method: str,
    interaction: Interaction,
    drop: bool,
) -> None:
    check = await interaction(Ctx(deps, sender, fake_slack, lambda: fake_slack.fail_after(method, drop=drop)))
    await deps.inflight.drain(15)
    await check()


async def test_an_escalation_after_a_lost_answer_is_posted_once(
    deps: Deps, fake_slack: AfterFaultSlack
) -> None:
    deps.clock.set(jst(2026, 11, 24, 9, 0))  # type: ignore[attr-defined]
    request = await seed_request(deps)
    fake_slack.fail_after("chat.postMessage", when=lambda p: p.get("channel") == MGMT_CHANNEL)
    escalated = []
    for day, hour in ((24, 13), (25, 9), (25, 13), (25, 17), (26, 9), (26, 13)):
        deps.clock.set(jst(2026, 11, day, hour, 0))  # type: ignore[attr-defined]
        escalated += (await review_jobs.run_sweep(deps)).escalated
    assert escalated == [request.id]
    assert len(top_level(fake_slack, MGMT_CHANNEL)) == 1
    assert [c.params["channel"] for c in fake_slack.calls_to("conversations.history")] == [MGMT_CHANNEL]


@pytest.mark.parametrize("drop", [False, True], ids=["503", "reset"])
async def test_answers_that_cannot_be_read_back_arrive_at_least_once(
    deps: Deps, sender: SlackSender, fake_slack: AfterFaultSlack, drop: bool
) -> None:
    """Accepted trade-off: an ephemeral answer (response_url) or a DM cannot be read back (no
    im:history), so after an ambiguous failure it is sent again: twice beats never."""
    await kpi_set(Ctx(deps, sender, fake_slack, lambda: fake_slack.fail_after("response_url", drop=drop)))
    await deps.inflight.drain(15)
    assert len(fake_slack.processed("response_url")) == 2
    assert await count(deps, KpiValue) == 1  # the store is not touched twice


# ---------------------------------------------------------------------------------------------
# Errors Slack gives for good
# ---------------------------------------------------------------------------------------------

FORM_EXPIRED = {
    "ja": ":hourglass: 時間内にフォームを開けませんでした（Slack の制限は 3 秒です）。変更は行われていません。もう一度お試しください。",
}


@pytest.mark.parametrize("error", ["expired_trigger_id", "trigger_exchanged"])
async def test_a_form_that_opens_too_late_is_answered_through_the_response_url(
    deps: Deps, sender: SlackSender, fake_slack: AfterFaultSlack, error: str
) -> None:
    await review_command(Ctx(deps, sender, fake_slack, lambda: fake_slack.fail("views.open", error=error)))
    await deps.inflight.drain(15)
    (answer,) = fake_slack.calls_to("response_url")
    assert answer.params == {
        "text": FORM_EXPIRED["ja"],
        "response_type": "ephemeral",
        "replace_original": False,
    }
    assert fake_slack.views == {}


async def test_an_approve_click_whose_form_opens_too_late_is_answered(
    deps: Deps, sender: SlackSender, fake_slack: AfterFaultSlack
) -> None:
    request = await seed_request(deps)
    fake_slack.fail("views.open", error="expired_trigger_id")
    await sender.interactive(decision_click(fake_slack, request, MANAGER))
    await deps.inflight.drain(15)
    (answer,) = fake_slack.calls_to("response_url")
    assert answer.params["text"] == FORM_EXPIRED["ja"]
    assert await count(deps, ReviewEvent) == 1  # still only "requested"


async def test_slack_down_for_longer_than_the_retries_is_said_plainly(
    deps: Deps, sender: SlackSender, fake_slack: AfterFaultSlack
) -> None:
    arm = lambda: fake_slack.fail("views.open", status=503, times=None)  # noqa: E731
    await review_command(Ctx(deps, sender, fake_slack, arm))
    await deps.inflight.drain(15)
    assert len(fake_slack.calls_to("views.open")) == 3  # the call and the SDK's two retries
    (answer,) = fake_slack.calls_to("response_url")
    assert answer.params["text"] == (
        ":warning: Slack が一時的に応答を受け付けませんでした。データは失われていません。"
        "1 分ほどおいて、もう一度お試しください。"
    )


async def test_a_deleted_review_message_is_posted_again_once(
    deps: Deps, sender: SlackSender, fake_slack: AfterFaultSlack
) -> None:
    request = await seed_request(deps)
    fake_slack.fail("chat.update", error="message_not_found")
    await sender.interactive(decision_submission(request, MANAGER))
    await deps.inflight.drain(15)
    first, second = top_level(
        fake_slack, REVIEW_CHANNEL
    )  # the original (not deleted in the fake) and the new one
    assert ActionId.APPROVE.value not in json.dumps(second["blocks"])
    async with deps.sessions() as session:
        row = await session.get(ReviewRequest, request.id)
    assert row is not None and row.message_ts == second["ts"] != first["ts"]
    assert len(replies(fake_slack, REVIEW_CHANNEL, second["ts"])) == 1  # the decision, in the new thread


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
async def test_a_digest_channel_that_is_gone_is_told_to_admins_once(
    deps: Deps, fake_slack: AfterFaultSlack, error: str
) -> None:
    async def no_wait(_seconds: float) -> None:
        return None

    fake_slack.fail(
        "chat.postMessage", error=error, when=lambda p: p.get("channel") == MGMT_CHANNEL, times=None
    )
    period = last_finished("weekly", NOW, deps.settings.tz)
    for _run in range(3):  # the scheduled run, a catch-up, an admin's --post
        await send_digest(deps, kind="weekly", period=period, sleep=no_wait, take_over=True)
    (told,) = fake_slack.messages(dm(ADMIN))
    assert error in told["text"] and "2026-W46" in told["text"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 3 + 1  # one refused post per run, one DM
