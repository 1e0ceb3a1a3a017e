"""Monthly KPI digest end to end: KPI store → post with narratives → chart and CSV in the thread."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.clock import FixedClock
from bot.digest.jobs import run_digest_job
from bot.digest.ui.monthly import reason_label
from bot.periods import months_back, parse_period
from bot.runtime.deps import Deps
from tests.conftest import MANAGER, MANAGER2, MGMT_CHANNEL, OPERATOR
from tests.digest.pdf_support import pdf_text
from tests.fakes.slack import FakeSlack
from tests.scenarios.digest_seed import add_kpi, add_post, add_review, add_win, jst

BOB = "U0BOB0001"


async def seed_year(deps: Deps) -> None:
    async with deps.sessions.begin() as s:
        months = [p.label for p in months_back(parse_period("monthly", "2026-11"), 13)]
        for label, value in zip(months, [20.0] + [25.0] * 10 + [28.0, 34.0], strict=True):
            await add_kpi(s, kpi="recruiting_entries", month=label, value=value)
        await add_kpi(s, kpi="branded_search", month="2026-10", value=12500)
        await add_kpi(s, kpi="branded_search", month="2026-11", value=11800)
        # Engagement rate is derived from posts: Nov 2025 2.8 %, Oct 2026 3.0 %, Nov 2026 170 / 5,000 = 3.4 %.
        await add_post(s, n=1, at=jst(2025, 11, 10, 12), impressions=1000, engagements=28)
        await add_post(s, n=2, at=jst(2026, 10, 10, 12), impressions=1000, engagements=30)
        await add_post(
            s,
            n=3,
            at=jst(2026, 11, 5, 12),
            impressions=4000,
            engagements=150,
            author=OPERATOR,
            text="採用説明会のお知らせ",
        )
        await add_post(
            s, n=4, at=jst(2026, 11, 20, 12), impressions=1000, engagements=20, account="ig_recruit"
        )
        await add_review(
            s,
            requester=OPERATOR,
            created=jst(2026, 11, 4, 10),
            decided=jst(2026, 11, 4, 13),
            decider=MANAGER,
            reasons=["tone", "typo"],
        )
        await add_review(
            s,
            requester=BOB,
            created=jst(2026, 11, 10, 10),
            decided=jst(2026, 11, 11, 10),
            status="rejected",
            decider=MANAGER2,
            reasons=["tone", "legal_risk"],
        )
        await add_review(
            s,
            requester=OPERATOR,
            created=jst(2026, 11, 18, 10),
            decided=jst(2026, 11, 18, 11),
            decider=MANAGER,
        )
        await add_win(
            s, what="採用説明会の申込が 40 件", by=MANAGER, at=jst(2026, 11, 6, 9), ts="1762387200.000100"
        )
        await add_win(
            s, what="指名検索が過去最高", by=OPERATOR, at=jst(2026, 11, 25, 9), ts="1764028800.000100"
        )


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    out = []
    for block in blocks:
        if block["type"] == "section" and "text" in block:
            out.append(block["text"]["text"])
        elif block["type"] == "context":
            out.append(block["elements"][0]["text"])
    return out


async def test_monthly_digest_posts_numbers_then_chart_and_csv_in_thread(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    monthly = replace(deps.settings.digest.monthly, pdf=True)
    deps = replace(
        deps, settings=replace(deps.settings, digest=replace(deps.settings.digest, monthly=monthly))
    )
    await seed_year(deps)
    clock.set(jst(2026, 12, 1, 9))
    await run_digest_job(deps, "monthly")

    post, questions = fake_slack.calls_to("chat.postMessage")
    params = post.params
    assert params["metadata"]["event_payload"] == {
        "kind": "monthly",
        "period": "2026-11",
        "channel": MGMT_CHANNEL,
    }
    # The review's questions open the thread (the catalog's defaults), before the files.
    assert questions.params["thread_ts"] == fake_slack.messages(MGMT_CHANNEL)[0]["ts"]
    assert questions.params["text"].splitlines()[1:] == [
        "1. もっと増やしたい投稿はどれですか？うまくいった理由は何でしょう？",
        "2. 気になる指標はどれですか？来月に向けて何ができそうですか？",
        "3. 今月、管理職としてアカウントを後押しできることは何でしょう？",
    ]
    assert params["text"].splitlines() == [
        "SNS 月次 KPI レポート 2026-11",
        "採用エントリー数は前月から 6 増えて 34（目標比 113%）となりました。",
        "エンゲージメント率は前月から 0.4ポイント 上がって 3.4%（目標比 113%）となりました。",
        "指名検索数は前月から 700 減って 11,800（目標比 98%）となりました。",
    ]
    body = texts(params["blocks"])
    assert body[1] == "*:bar_chart: 指標と目標*"
    assert body[2] == (
        "*:large_green_circle: 採用エントリー数*\n"
        "採用エントリー数は前月から 6 増えて 34（目標比 113%）となりました。\n"
        "実績 34・目標 30・達成率 113%・前月比 +6（+21%）・前年同月比 +14（+70%）"
    )
    assert body[3] == "この指標が大切な理由: SNS 経由の応募は採用コストを下げます。"
    assert body[4].endswith("前月比 +0.4ポイント・前年同月比 +0.6ポイント")
    assert body[6].startswith("*:red_circle: 指名検索数*")
    assert body[8] == (
        "*:trophy: 今月のベスト投稿*\n"
        "1. <https://x.com/example_corp/status/3|採用説明会のお知らせ> — X 公式・*3.8%*（エンゲージメント 150 / インプレッション 4,000）\n"
        "2. <https://www.instagram.com/p/P4/|投稿 4> — Instagram 採用・*2.0%*（エンゲージメント 20 / インプレッション 1,000）"
    )
    assert body[9] == (
        "*:raised_hands: チームの参加状況*\n"
        "公開した投稿: 2 件\n"
        f"レビューを依頼した人（2 名）: <@{OPERATOR}>、<@{BOB}>\n"
        f"レビューした人（2 名）: <@{MANAGER}>、<@{MANAGER2}>\n"
        "完了したレビュー: 3 件・判断までの時間（中央値）3.0 時間\n"
        "共有された成果: 2 件"
    )
    # Reason labels come from the review catalog (the review feature owns their wording).
    label = {
        key: reason_label(key, settings=deps.settings, t=deps.t) for key in ("tone", "legal_risk", "typo")
    }
    assert body[10] == (
        "*:memo: 差し戻し理由の上位*\n"
        f"1. {label['tone']} — 2 件\n"
        f"2. {label['legal_risk']} — 1 件\n"
        f"3. {label['typo']} — 1 件"
    )

    ts = fake_slack.messages(MGMT_CHANNEL)[0]["ts"]
    (complete,) = fake_slack.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == MGMT_CHANNEL
    assert complete.params["thread_ts"] == ts
    uploaded = {fake_slack.files[f]["name"]: data for f, data in fake_slack.uploads.items()}
    assert sorted(uploaded) == ["sns-kpi-2026-11.csv", "sns-kpi-2026-11.pdf", "sns-kpi-2026-11.png"]
    assert uploaded["sns-kpi-2026-11.png"].startswith(b"\x89PNG\r\n\x1a\n")
    # The one-page PDF for executives: Japanese names and the month's numbers as real text.
    page = pdf_text(uploaded["sns-kpi-2026-11.pdf"])
    assert "SNS 月次 KPI レポート（2026-11）" in page
    assert "採用エントリー数は前月から 6 増えて 34（目標比 113%）となりました。" in page
    assert "エンゲージメント率" in page and "3.4%" in page and "113%" in page
    assert "11,800" in page and "12,000" in page  # 指名検索数: value and target
    csv_lines = uploaded["sns-kpi-2026-11.csv"].decode("utf-8-sig").splitlines()
    assert csv_lines[1] == "recruiting_entries,採用エントリー数,2026-11,34,30,113.3,6,21.4,20,70.0,"
    assert csv_lines[2] == "engagement_rate,エンゲージメント率,2026-11,3.4,3.0,113.3,0.4,13.3,2.8,21.4,%"
    # The thread holds the questions and the two files; the channel top level only the digest.
    assert [m.get("thread_ts") for m in fake_slack.messages(MGMT_CHANNEL)] == [ts, ts, ts]


async def test_monthly_digest_in_english(deps: Deps, clock: FixedClock, fake_slack: FakeSlack) -> None:
    from dataclasses import replace

    await seed_year(deps)
    english = replace(deps, settings=replace(deps.settings, locale="en"))
    clock.set(jst(2026, 12, 1, 9))
    await run_digest_job(english, "monthly")
    post, questions = fake_slack.calls_to("chat.postMessage")
    assert questions.params["text"].splitlines()[0] == (
        ":speech_balloon: *Questions for this month's review* — reply in this thread:"
    )
    assert post.params["text"].splitlines()[1:] == [
        "Recruiting entries rose 6 to 34, 113 % of target.",
        "Engagement rate rose 0.4 pt to 3.4 %, 113 % of target.",
        "Branded searches fell 700 to 11,800, 98 % of target.",
    ]
