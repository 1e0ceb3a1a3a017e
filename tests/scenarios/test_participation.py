"""Participation end to end through signed Events API requests: a manager's reaction and thread reply on
a digest show in the next monthly digest's participation section and in the rate KPI; retries and
redeliveries count once; the weekly digest says how many managers reacted."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.config import Settings
from bot.digest.jobs import run_digest_job
from bot.keys import ProcessedKey
from bot.kpi.models import KpiValue
from bot.participation.jobs import run_rate_refresh
from bot.participation.models import ParticipationMark
from bot.periods import PeriodKind
from bot.runtime.deps import Deps
from tests.conftest import GROUP_MEMBER, MANAGER, MANAGER2, MGMT_CHANNEL, OPERATOR
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.scenarios.digest_seed import add_post, add_review, add_win, jst
from tests.scenarios.participation_seed import envelope, participation_settings, reaction, reply


@pytest.fixture
def mode(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "named"))


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack, mode: str) -> Settings:
    return participation_settings(db_url, fake_slack.api_url, mode=mode)


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    out = []
    for block in blocks:
        if block["type"] == "section" and "text" in block:
            out.append(block["text"]["text"])
        elif block["type"] == "context":
            out.append(block["elements"][0]["text"])
    return out


async def _marks(deps: Deps) -> int:
    async with deps.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ParticipationMark)) or 0)


async def test_a_reaction_and_a_reply_on_a_digest_show_in_the_next_monthly_digest(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack, sender: SlackSender
) -> None:
    # The weekly digest of W46 goes out on Monday 2026-11-16.
    clock.set(jst(2026, 11, 16, 9))
    await run_digest_job(deps, PeriodKind.WEEKLY)
    digest_ts = fake_slack.messages(MGMT_CHANNEL)[0]["ts"]
    at = jst(2026, 11, 18, 11)

    tada = envelope(reaction(MANAGER, channel=MGMT_CHANNEL, ts=digest_ts, at=at), event_id="Ev0TADA01", at=at)
    assert (await sender.event(tada)).status == 200
    # Slack retries the same delivery (same event_id, re-signed) after a slow answer: dropped.
    assert (await sender.event(tada, retry_num=1, retry_reason="http_timeout")).status == 200
    # The same reaction delivered under another event id (another replica, the other mode): one mark.
    again = envelope(
        reaction(MANAGER, channel=MGMT_CHANNEL, ts=digest_ts, at=at), event_id="Ev0TADA02", at=at
    )
    assert (await sender.event(again)).status == 200
    thread = envelope(
        reply(MANAGER, channel=MGMT_CHANNEL, thread_ts=digest_ts, at=jst(2026, 11, 18, 12)),
        event_id="Ev0REPLY01",
        at=jst(2026, 11, 18, 12),
    )
    assert (await sender.event(thread)).status == 200
    # Not participation: an operator's reaction counts for nobody's manager line, a reaction on a
    # person's message and a reply in a person's thread are not about the bot's posts.
    others = [
        reaction(OPERATOR, channel=MGMT_CHANNEL, ts=digest_ts, at=at),
        reaction(MANAGER2, channel=MGMT_CHANNEL, ts="1763000000.000100", at=at, item_user=OPERATOR),
        reply(MANAGER2, channel=MGMT_CHANNEL, thread_ts="1763000000.000100", at=at, parent_user=OPERATOR),
        {**reply(MANAGER2, channel=MGMT_CHANNEL, thread_ts=digest_ts, at=at), "subtype": "message_changed"},
    ]
    for n, inner in enumerate(others):
        assert (await sender.event(envelope(inner, event_id=f"Ev0OTHER{n}", at=at))).status == 200
    assert await deps.inflight.drain(10)
    assert await _marks(deps) == 3  # the manager's reaction and reply, the operator's reaction
    # Deliveries that are not participation cost no store write at all (not even their event_id).
    async with deps.sessions() as session:
        keys = set((await session.scalars(select(ProcessedKey.key))).all())
    assert keys == {"event:Ev0TADA01", "event:Ev0TADA02", "event:Ev0REPLY01", "event:Ev0OTHER0"}

    async with deps.sessions.begin() as session:
        await add_post(session, n=1, at=jst(2026, 11, 17, 12), impressions=1000, engagements=40)
    # The weekly digest of W47 says how many managers reacted that week (1 of the 3, the group expanded).
    clock.set(jst(2026, 11, 23, 9))
    await run_digest_job(deps, PeriodKind.WEEKLY)
    weekly = fake_slack.calls_to("chat.postMessage")[-1].params
    assert texts(weekly["blocks"])[-1].endswith(
        "先週は管理職 3 名中 1 名がリアクションしてくださいました。ありがとうございます。"
    )

    # A review decided by MANAGER2 over a weekend: Friday 17:00 → Monday 10:00 is 2 working hours.
    # Wins shared: one by an operator, one by a manager (the operators' line counts the first).
    async with deps.sessions.begin() as session:
        await add_win(session, what="採用説明会の申込が 40 件", by=OPERATOR, at=jst(2026, 11, 25, 9))
        await add_win(
            session, what="指名検索が過去最高", by=MANAGER, at=jst(2026, 11, 26, 9), ts="1764100000.000100"
        )
        await add_review(
            session,
            requester=OPERATOR,
            created=jst(2026, 11, 20, 17),
            decided=jst(2026, 11, 24, 10),
            decider=MANAGER2,
        )

    clock.set(jst(2026, 12, 1, 9))
    await run_digest_job(deps, PeriodKind.MONTHLY)
    # The digest itself (its thread opens with the review's questions: bot.actions).
    monthly = [c for c in fake_slack.calls_to("chat.postMessage") if "thread_ts" not in c.params][-1].params
    assert monthly["channel"] == MGMT_CHANNEL
    lines = texts(monthly["blocks"])
    section = next(t for t in lines if t.startswith("*:handshake: 管理職の参加状況*")).splitlines()
    assert section == [
        "*:handshake: 管理職の参加状況*",
        "参加率: 67%（管理職 3 名中 2 名が参加）",
        "レビューの判断 1 件・判断までの時間（中央値、営業時間）2.0 時間・リアクション 1 件・スレッドへの返信 1 件",
        "ご参加いただいた皆さま、ありがとうございました。",
        f"• <@{MANAGER}>: 判断 0 件（中央値 —）・コメント 0 件・リアクション 1 件・返信 1 件",
        f"• <@{MANAGER2}>: 判断 1 件（中央値 2.0 時間）・コメント 0 件・リアクション 0 件・返信 0 件",
        "ほかの管理職の方（1 名）も、リアクションやスレッドへの返信でぜひご参加ください。",
        "担当者から: レビュー依頼 1 件（1 名）・共有された成果 1 件",
    ]
    # The one who did not take part is counted, never named.
    assert all(GROUP_MEMBER not in line for line in lines)
    # The rate is the derived KPI's month value, against its target like any other KPI.
    kpi = next(t for t in lines if "管理職の参加率" in t)
    assert "実績 66.7%・目標 80.0%・達成率 83%" in kpi


@pytest.mark.parametrize("mode", ["counts", "off"], indirect=True)
async def test_counts_mode_shows_totals_only_and_off_hides_the_section(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack, sender: SlackSender, mode: str
) -> None:
    at = jst(2026, 11, 18, 11)
    inner = reaction(MANAGER, channel=MGMT_CHANNEL, ts="1763400000.000100", at=at)
    assert (await sender.event(envelope(inner, event_id="Ev0COUNT01", at=at))).status == 200
    assert await deps.inflight.drain(10)
    clock.set(jst(2026, 12, 1, 9))
    await run_digest_job(deps, PeriodKind.MONTHLY)
    posts = [c for c in fake_slack.calls_to("chat.postMessage") if "thread_ts" not in c.params]
    lines = texts(posts[-1].params["blocks"])
    sections = [t.splitlines() for t in lines if t.startswith("*:handshake:")]
    if mode == "off":
        assert sections == []
        return
    assert sections[0][1] == "参加率: 33%（管理職 3 名中 1 名が参加）"
    assert "ほかの管理職の方（2 名）も、リアクションやスレッドへの返信でぜひご参加ください。" in sections[0]
    assert not any("<@" in line for line in sections[0])


async def test_the_rate_is_not_written_while_a_manager_group_is_unknown(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack, sender: SlackSender
) -> None:
    """Slack does not name the managers' user group: a rate of the other two managers (50% instead of
    33%) would be wrong, so nothing is written; once Slack answers, the rate of all three is."""
    at = jst(2026, 11, 18, 11)
    inner = reaction(MANAGER, channel=MGMT_CHANNEL, ts="1763400000.000100", at=at)
    assert (await sender.event(envelope(inner, event_id="Ev0RATE01", at=at))).status == 200
    assert await deps.inflight.drain(10)
    clock.set(jst(2026, 11, 18, 12))
    fake_slack.fail("usergroups.users.list", error="internal_error", times=None)
    assert await run_rate_refresh(deps) is None
    async with deps.sessions() as session:
        assert (
            await session.scalars(select(KpiValue).where(KpiValue.kpi_key == "manager_participation"))
        ).all() == []
    fake_slack.reset()
    rate = await run_rate_refresh(deps)
    assert rate is not None and round(rate, 1) == 33.3
    async with deps.sessions() as session:
        values = (
            await session.scalars(select(KpiValue.value).where(KpiValue.kpi_key == "manager_participation"))
        ).all()
    assert [round(v, 1) for v in values] == [33.3]


async def test_the_monthly_section_says_when_a_manager_group_could_not_be_read(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack, sender: SlackSender
) -> None:
    """Slack does not name the managers' group when the monthly digest goes out: the section counts
    the managers it knows and says a group is missing, instead of a rate that looks complete."""
    at = jst(2026, 11, 18, 11)
    inner = reaction(MANAGER, channel=MGMT_CHANNEL, ts="1763400000.000100", at=at)
    assert (await sender.event(envelope(inner, event_id="Ev0GROUP01", at=at))).status == 200
    assert await deps.inflight.drain(10)
    async with deps.sessions.begin() as session:
        await add_post(session, n=1, at=jst(2026, 11, 17, 12), impressions=1000, engagements=40)
    fake_slack.fail("usergroups.users.list", error="internal_error", times=None)
    clock.set(jst(2026, 12, 1, 9))
    await run_digest_job(deps, PeriodKind.MONTHLY)
    monthly = [c for c in fake_slack.calls_to("chat.postMessage") if "thread_ts" not in c.params][-1].params
    section = next(t for t in texts(monthly["blocks"]) if t.startswith("*:handshake:")).splitlines()
    assert section[1] == "参加率: 50%（管理職 2 名中 1 名が参加）"
    assert (
        "（管理職のユーザーグループ 1 件のメンバーを Slack から取得できなかったため、"
        "その方々はこの集計に含まれていません。）"
    ) in section
    async with deps.sessions() as session:  # and no rate of the wrong managers was kept as the KPI's
        assert (
            await session.scalars(select(KpiValue).where(KpiValue.kpi_key == "manager_participation"))
        ).all() == []
