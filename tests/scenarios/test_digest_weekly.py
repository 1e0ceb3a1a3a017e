"""Weekly wins digest end to end: store → scheduled job → one valid post per channel with the right numbers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.clock import FixedClock
from bot.digest.delivery import send_digest
from bot.digest.jobs import run_digest_job
from bot.digest.models import DigestRun
from bot.periods import parse_period
from bot.runtime.deps import Deps
from tests.conftest import MANAGER, MANAGER2, MGMT_CHANNEL, OPERATOR
from tests.fakes.slack import FakeSlack
from tests.scenarios.digest_seed import add_post, add_review, add_win, jst

BOB = "U0BOB0001"


async def seed_week(deps: Deps) -> None:
    async with deps.sessions.begin() as s:
        await add_post(
            s,
            n=1,
            at=jst(2026, 11, 16, 12),
            impressions=5000,
            engagements=210,
            author=OPERATOR,
            text="冬の新商品 <!channel>",
        )
        await add_post(s, n=2, at=jst(2026, 11, 17, 12), impressions=80, engagements=20)
        await add_post(
            s,
            n=3,
            at=jst(2026, 11, 18, 12),
            impressions=1000,
            engagements=42,
            account="ig_recruit",
            author=BOB,
            text="採用リール",
        )
        await add_post(s, n=4, at=jst(2026, 11, 19, 12), impressions=2000, engagements=50)
        await add_post(s, n=5, at=jst(2026, 11, 23, 10), impressions=100, engagements=90)  # next week
        await add_post(s, n=6, at=jst(2026, 11, 15, 23), impressions=100, engagements=90)  # week before
        await add_review(
            s,
            requester=OPERATOR,
            created=jst(2026, 11, 16, 10),
            decided=jst(2026, 11, 16, 12),
            decider=MANAGER,
        )
        await add_review(
            s,
            requester=BOB,
            created=jst(2026, 11, 17, 10),
            decided=jst(2026, 11, 17, 15),
            status="rejected",
            decider=MANAGER2,
            reasons=["tone", "typo"],
        )
        await add_review(
            s,
            requester=OPERATOR,
            created=jst(2026, 11, 13, 10),
            decided=jst(2026, 11, 18, 16),
            decider=MANAGER,
        )
        await add_review(
            s,
            requester=OPERATOR,
            created=jst(2026, 11, 20, 14),
            status="pending",
            approvers=(MANAGER,),
            message_ts="1763614800.000100",
        )
        await add_review(
            s, requester=BOB, created=jst(2026, 11, 21, 10), status="pending", approvers=(MANAGER2,)
        )
        await add_win(
            s,
            what="採用エントリーが 2 日で 12 件",
            by=MANAGER,
            at=jst(2026, 11, 18, 9),
            kpi="recruiting_entries",
        )


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]


async def test_weekly_job_posts_the_previous_week_once(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await seed_week(deps)
    clock.set(jst(2026, 11, 23, 9))
    await run_digest_job(deps, "weekly")
    await run_digest_job(deps, "weekly")  # a second run (another replica, a restart) posts nothing

    posts = fake_slack.calls_to("chat.postMessage")
    assert len(posts) == 1
    params = posts[0].params
    assert params["channel"] == MGMT_CHANNEL
    assert params["text"] == (
        "SNS 週次ハイライト 2026-W47: 公開した投稿 4 件、完了したレビュー 3 件（中央値 5.0 時間）、共有された成果 1 件。"
    )
    assert params["metadata"] == {
        "event_type": "sns_digest",
        "event_payload": {"kind": "weekly", "period": "2026-W47", "channel": MGMT_CHANNEL},
    }
    sections = section_texts(params["blocks"])
    assert sections[0] == (
        "*:trophy: エンゲージメント率の高い投稿（インプレッション 100 以上）*\n"
        "1. <https://x.com/example_corp/status/1|冬の新商品 &lt;!channel&gt;> — X 公式・*4.2%*（エンゲージメント 210 / インプレッション 5,000）\n"
        "2. <https://www.instagram.com/p/P3/|採用リール> — Instagram 採用・*4.2%*（エンゲージメント 42 / インプレッション 1,000）\n"
        "3. <https://x.com/example_corp/status/4|投稿 4> — X 公式・*2.5%*（エンゲージメント 50 / インプレッション 2,000）"
    )
    assert sections[1] == (
        "*:tada: チームから共有された成果*\n"
        "• 採用エントリーが 2 日で 12 件（<@U0MANAGER1> さんが共有）・指標: 採用エントリー数 "
        "<https://acme.slack.com/archives/C0DIGEST1/p1763600000000100|メッセージ>"
    )
    assert sections[2] == (
        "*:raised_hands: ありがとうございました*\n"
        f"投稿・投稿案: <@{OPERATOR}>、<@{BOB}>\n"
        f"レビュー: <@{MANAGER}>、<@{MANAGER2}>"
    )
    assert sections[3].splitlines() == [
        "*:hourglass_flowing_sand: 承認待ちのレビュー（2 件・古い順）*",
        f"• <@{OPERATOR}>・X 公式・<!date^{int(jst(2026, 11, 20, 14).timestamp())}^{{date_short_pretty}} {{time}}|2026-11-20 14:00> から待機中"
        f"・レビュー担当 <@{MANAGER}> <https://slack.com/archives/C0REVIEW01/p1763614800000100|開く>",
        f"• <@{BOB}>・X 公式・<!date^{int(jst(2026, 11, 21, 10).timestamp())}^{{date_short_pretty}} {{time}}|2026-11-21 10:00> から待機中"
        f"・レビュー担当 <@{MANAGER2}>",
    ]

    async with deps.sessions() as session:
        run = (await session.scalars(select(DigestRun))).one()
    assert (run.kind, run.period, run.channel_id, run.status) == (
        "weekly",
        "2026-W47",
        MGMT_CHANNEL,
        "posted",
    )
    assert run.message_ts == fake_slack.messages(MGMT_CHANNEL)[0]["ts"]
    assert len(fake_slack.messages(MGMT_CHANNEL)) == 1


async def test_a_quiet_week_posts_one_short_line(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    clock.set(jst(2026, 11, 23, 9))
    await run_digest_job(deps, "weekly")
    (call,) = fake_slack.calls_to("chat.postMessage")
    assert call.params["text"] == (
        "2026-W47（2026-11-16 〜 2026-11-22）は SNS の動きがありませんでした（投稿・レビュー・成果の共有はいずれもなし）。"
    )
    assert [b["type"] for b in call.params["blocks"]] == ["header", "context", "section"]


async def test_a_quiet_week_is_skipped_when_configured(deps: Deps, fake_slack: FakeSlack) -> None:
    from dataclasses import replace

    weekly = replace(deps.settings.digest.weekly, when_empty="skip", channels=(MGMT_CHANNEL, "C0SECOND1"))
    settings = replace(deps.settings, digest=replace(deps.settings.digest, weekly=weekly))
    quiet = replace(deps, settings=settings)
    results = await send_digest(quiet, kind="weekly", period=parse_period("weekly", "2026-W47"))
    assert [(r.channel, r.outcome) for r in results] == [(MGMT_CHANNEL, "skipped"), ("C0SECOND1", "skipped")]
    assert fake_slack.calls_to("chat.postMessage") == []
    again = await send_digest(quiet, kind="weekly", period=parse_period("weekly", "2026-W47"))
    assert [r.outcome for r in again] == ["skipped", "skipped"]
