"""Digest arithmetic and wording on hand-built facts: top posts, medians, achievement, MoM/YoY, narratives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import Settings
from bot.digest.compose import (
    ActivityFacts,
    KpiPoint,
    PostFact,
    ReviewFact,
    WaitingFact,
    WinFact,
    compose_monthly,
    compose_weekly,
    summarize_kpi,
    top_posts,
)
from bot.digest.ui.attachments import build_kpi_csv
from bot.digest.ui.monthly import monthly_doc, narrative, reason_label
from bot.digest.ui.text import to_text
from bot.digest.ui.weekly import weekly_doc, weekly_message
from bot.i18n import translator
from bot.periods import months_back, parse_period
from tests.conftest import MANAGER, MANAGER2, OPERATOR, make_settings
from tests.digest.reference import post_facts

BOB = "U0BOB0001"
WEEK = parse_period("weekly", "2026-W47")
MONTH = parse_period("monthly", "2026-11")


def at(day: int, hour: int = 1) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return make_settings()


POSTS = (
    PostFact(
        "x_corp",
        "https://x.com/example_corp/status/1",
        "新商品のお知らせ\n詳しくはこちら",
        OPERATOR,
        at(16),
        5000,
        210,
    ),
    # 25 % but under the 100-impression floor: never a top post.
    PostFact("x_corp", "https://x.com/example_corp/status/2", "small", None, at(17), 80, 20),
    # Same 4.2 % as the first post, fewer engagements: ranked after it.
    PostFact("ig_recruit", "https://www.instagram.com/p/3", "採用リール <!channel>", BOB, at(18), 1000, 42),
    PostFact("x_corp", None, "", OPERATOR, at(19), 2000, 50),
    PostFact("x_corp", None, "no metrics yet", "Example Corp", at(20), None, None),
)
COMPLETED = (
    ReviewFact(1, OPERATOR, "approved", at(16), at(16, 3)),  # 2 h
    ReviewFact(2, BOB, "rejected", at(17), at(17, 6)),  # 5 h
    ReviewFact(3, OPERATOR, "published", at(17), at(18, 7)),  # 30 h
    ReviewFact(4, OPERATOR, "approved", at(19), at(19, 9)),  # 8 h
)
WAITING = (
    WaitingFact(8, BOB, "ig_recruit", at(22), "C0REVIEW01", "1763780000.000200", (MANAGER2,)),
    WaitingFact(7, OPERATOR, "x_corp", at(21), "C0REVIEW01", "1763700000.000100", (MANAGER,)),
)
WINS = (
    WinFact(
        "採用エントリーが 2 日で 12 件",
        "https://acme.slack.com/archives/C1/p1",
        "recruiting_entries",
        MANAGER,
        OPERATOR,
        at(18),
    ),
)
FACTS = ActivityFacts(
    period=WEEK,
    **post_facts(POSTS),
    completed=COMPLETED,
    reviewers=(MANAGER, MANAGER2, MANAGER2, MANAGER),
    requesters=(OPERATOR, BOB, OPERATOR),
    waiting=WAITING,
    wins=WINS,
    reasons=("tone", "typo", "tone", "legal_risk", "tone", "typo"),
)


def test_top_posts_have_a_floor_and_break_ties_by_engagements() -> None:
    tops = top_posts(POSTS, min_impressions=100, limit=5)
    assert [(t.post.url, round(t.rate, 2)) for t in tops] == [
        ("https://x.com/example_corp/status/1", 4.2),
        ("https://www.instagram.com/p/3", 4.2),
        (None, 2.5),
    ]
    assert [t.post.engagements for t in top_posts(POSTS, min_impressions=0, limit=2)] == [20, 210]


def test_weekly_numbers() -> None:
    digest = compose_weekly(FACTS, min_impressions=100, top_n=2)
    assert digest.posts_published == 5
    assert digest.reviews_completed == 4
    assert digest.median_cycle_hours == 6.5  # median of 2, 5, 8, 30
    assert [t.post.engagements for t in digest.top_posts] == [210, 42]
    # Authors: post authors that are Slack users, plus requesters whose drafts made it (not Bob's rejected one).
    assert digest.authors == (OPERATOR, BOB)
    assert digest.reviewers == (MANAGER, MANAGER2)
    assert [w.request_id for w in digest.waiting] == [7, 8]  # oldest first
    assert not digest.empty


def test_an_empty_week_is_empty() -> None:
    digest = compose_weekly(ActivityFacts(period=WEEK), min_impressions=100, top_n=5)
    assert digest.empty
    assert digest.median_cycle_hours is None


LABELS = [p.label for p in months_back(MONTH, 13)]


def history(values: list[float | None], target: float | None) -> list[KpiPoint]:
    return [KpiPoint(label, value, target) for label, value in zip(LABELS, values, strict=True)]


HISTORY = {
    "recruiting_entries": history([20.0] + [25.0] * 10 + [28.0, 34.0], 30),
    "engagement_rate": history([2.8] + [3.0] * 11 + [3.4], 3.0),
    "branded_search": history([None] * 11 + [12500.0, 11800.0], 12000),
}


def test_kpi_summaries(settings: Settings) -> None:
    digest = compose_monthly(FACTS, kpis=settings.kpis, history=HISTORY, min_impressions=100, best_n=3)
    entries, rate, search = digest.kpis
    assert (round(entries.achievement or 0, 2), entries.mom_delta, round(entries.mom_pct or 0, 2)) == (
        113.33,
        6.0,
        21.43,
    )
    assert (entries.yoy_delta, entries.yoy_pct) == (14.0, 70.0)
    assert round(rate.mom_delta or 0, 6) == 0.4 and round(rate.yoy_delta or 0, 6) == 0.6
    assert round(rate.achievement or 0, 2) == 113.33
    assert (search.on_target, search.last_year, search.yoy_delta) == (False, None, None)
    assert len(search.history) == 12 and search.history[-1].month == "2026-11"
    assert digest.top_reasons == (("tone", 3), ("typo", 2), ("legal_risk", 1))
    assert digest.requesters == (OPERATOR, BOB)
    assert digest.median_cycle_hours == 6.5


def test_lower_is_better_achievement(settings: Settings) -> None:
    cost = settings.kpis[0].__class__(**{**_fields(settings.kpis[0]), "key": "cost", "better": "lower"})
    summary = summarize_kpi(cost, history([100.0] * 12 + [80.0], 100))
    assert summary.achievement == 125.0
    assert summary.on_target is True
    assert summary.direction() == "down"


def _fields(obj: object) -> dict[str, object]:
    return {name: getattr(obj, name) for name in obj.__slots__}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "en",
            [
                "Recruiting entries rose 6 to 34, 113 % of target.",
                "Engagement rate rose 0.4 pt to 3.4 %, 113 % of target.",
                "Branded searches fell 700 to 11,800, 98 % of target.",
            ],
        ),
        (
            "ja",
            [
                "採用エントリー数は前月から 6 増えて 34（目標比 113%）となりました。",
                "エンゲージメント率は前月から 0.4ポイント 上がって 3.4%（目標比 113%）となりました。",
                "指名検索数は前月から 700 減って 11,800（目標比 98%）となりました。",
            ],
        ),
    ],
)
def test_narrative_lines(settings: Settings, locale: str, expected: list[str]) -> None:
    digest = compose_monthly(FACTS, kpis=settings.kpis, history=HISTORY, min_impressions=100, best_n=3)
    t = translator(locale)  # type: ignore[arg-type]
    assert [narrative(s, t) for s in digest.kpis] == expected


def test_narrative_without_previous_month_target_or_value(settings: Settings) -> None:
    t = translator("en")
    kpi = settings.kpis[1]
    assert narrative(summarize_kpi(kpi, [KpiPoint("2026-11", 3.0, None)]), t) == "Engagement rate was 3.0 %."
    flat = summarize_kpi(kpi, [KpiPoint("2026-10", 3.04, 3.0), KpiPoint("2026-11", 3.0, 3.0)])
    assert narrative(flat, t) == "Engagement rate held at 3.0 %, 100 % of target."
    none = summarize_kpi(kpi, [KpiPoint("2026-11", None, 3.0)])
    assert narrative(none, t) == "Engagement rate: no value recorded for 2026-11 yet."


def test_kpi_numbers_line_in_both_languages(settings: Settings) -> None:
    digest = compose_monthly(FACTS, kpis=settings.kpis, history=HISTORY, min_impressions=100, best_n=3)
    en = monthly_doc(digest, settings=settings, t=translator("en"))
    ja = monthly_doc(digest, settings=settings, t=translator("ja"))
    assert en.sections[1].lines[1] == (
        "Value 34 · target 30 · 113 % of target · vs last month +6 (+21 %) · vs last year +14 (+70 %)"
    )
    assert en.sections[2].lines[1] == (
        "Value 3.4 % · target 3.0 % · 113 % of target · vs last month +0.4 pt · vs last year +0.6 pt"
    )
    assert ja.sections[3].lines[1] == "実績 11,800・目標 12,000・達成率 98%・前月比 -700（-6%）・前年同月比 —"
    assert ja.sections[3].title == ":red_circle: 指名検索数"
    assert ja.sections[3].note == "この指標が大切な理由: 認知の広がりを示します。"


def test_weekly_preview_text_en(settings: Settings) -> None:
    digest = compose_weekly(FACTS, min_impressions=100, top_n=5)
    t = translator("en")
    text = to_text(weekly_doc(digest, settings=settings, t=t, tz=settings.tz), t=t, names={OPERATOR: "Sato"})
    assert text == (
        "SNS weekly wins · 2026-W47\n"
        "==========================\n"
        "2026-11-16 – 2026-11-22\n"
        "\n"
        "  Posts published: 5\n"
        "  Reviews completed: 4\n"
        "  Median review time: 6.5 h\n"
        "  Wins shared: 1\n"
        "\n"
        "🏆 Top posts by engagement rate (at least 100 impressions)\n"
        "  1. 新商品のお知らせ 詳しくはこちら (https://x.com/example_corp/status/1) — X 公式 · 4.2 % "
        "(210 engagements / 5,000 impressions)\n"
        "  2. 採用リール <!channel> (https://www.instagram.com/p/3) — Instagram 採用 · 4.2 % "
        "(42 engagements / 1,000 impressions)\n"
        "  3. (no text) — X 公式 · 2.5 % (50 engagements / 2,000 impressions)\n"
        "\n"
        "🎉 Wins the team shared\n"
        "  • 採用エントリーが 2 日で 12 件 — shared by @U0MANAGER1 · KPI: Recruiting entries "
        "message (https://acme.slack.com/archives/C1/p1)\n"
        "\n"
        "🙌 Thank you\n"
        "  Posts and drafts: @Sato, @U0BOB0001\n"
        "  Reviews: @U0MANAGER1, @U0MANAGER2\n"
        "\n"
        "⏳ Reviews still waiting (2, oldest first)\n"
        "  • @Sato · X 公式 · waiting since 2026-11-21 10:00 · reviewers @U0MANAGER1 "
        "open (https://slack.com/archives/C0REVIEW01/p1763700000000100)\n"
        "  • @U0BOB0001 · Instagram 採用 · waiting since 2026-11-22 10:00 · reviewers @U0MANAGER2 "
        "open (https://slack.com/archives/C0REVIEW01/p1763780000000200)\n"
        "\n"
        "Managers: a reaction 🎉 or a reply in the thread tells the team what you liked — it goes a long way.\n"
    )


def test_weekly_slack_message_escapes_user_text_and_carries_metadata(settings: Settings) -> None:
    digest = compose_weekly(FACTS, min_impressions=100, top_n=5)
    message = weekly_message(digest, settings=settings, t=translator("ja"), channel="C0MGMT0001")
    blocks = message.blocks_json()
    body = "\n".join(str(b) for b in blocks)
    assert "&lt;!channel&gt;" in body and "<!channel>" not in body
    assert message.metadata == {
        "event_type": "sns_digest",
        "event_payload": {"kind": "weekly", "period": "2026-W47", "channel": "C0MGMT0001"},
    }
    assert message.text == (
        "SNS 週次ハイライト 2026-W47: 公開した投稿 5 件、完了したレビュー 4 件（中央値 6.5 時間）、共有された成果 1 件。"
    )
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "SNS 週次ハイライト（2026-W47）", "emoji": True},
    }
    assert blocks[-1]["elements"][0]["text"].startswith("管理職の皆さま、リアクション :tada:")


def test_empty_week_is_one_short_line(settings: Settings) -> None:
    digest = compose_weekly(ActivityFacts(period=WEEK), min_impressions=100, top_n=5)
    message = weekly_message(digest, settings=settings, t=translator("en"), channel="C1")
    assert message.text == "No SNS activity in 2026-W47 (2026-11-16 – 2026-11-22): no posts, reviews or wins."
    assert [b["type"] for b in message.blocks_json()] == ["header", "context", "section"]


def test_reasons_are_labelled_from_config_or_catalog(settings: Settings) -> None:
    t = translator("ja")
    assert reason_label("legal_risk", settings=settings, t=t) == "法務・コンプライアンス上のリスク"
    assert reason_label("unknown_reason", settings=settings, t=t) == "unknown_reason"


def test_kpi_csv(settings: Settings) -> None:
    digest = compose_monthly(FACTS, kpis=settings.kpis, history=HISTORY, min_impressions=100, best_n=3)
    data = build_kpi_csv(digest, t=translator("en"))
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines() == [
        "KPI key,KPI,Month,Value,Target,Achievement (%),Change vs last month,Change vs last month (%),"
        "Same month last year,Change vs last year (%),Unit",
        "recruiting_entries,Recruiting entries,2026-11,34,30,113.3,6,21.4,20,70.0,",
        "engagement_rate,Engagement rate,2026-11,3.4,3.0,113.3,0.4,13.3,2.8,21.4,%",
        "branded_search,Branded searches,2026-11,11800,12000,98.3,-700,-5.6,,,",
    ]


def test_a_rate_goes_up_or_down_and_a_count_grows_or_shrinks_in_japanese() -> None:
    from bot.digest.compose import KpiSummary

    settings = make_settings()
    rate, entries = settings.kpi_def("engagement_rate"), settings.kpi_def("recruiting_entries")
    assert rate is not None and entries is not None
    ja, en = translator("ja"), translator("en")

    def said(kpi, value: float, previous: float, t=ja, quarter: bool = False) -> str:  # type: ignore[no-untyped-def]
        return narrative(KpiSummary(kpi, "2026-11", value, 3.0, previous, None, ()), t, quarter=quarter)

    assert (
        said(rate, 2.9, 3.4)
        == "エンゲージメント率は前月から 0.5ポイント 下がって 2.9%（目標比 97%）となりました。"
    )
    assert said(rate, 3.4, 2.9, quarter=True).startswith(
        "エンゲージメント率は前四半期から 0.5ポイント 上がって"
    )
    assert said(entries, 2, 3).startswith("採用エントリー数は前月から 1 減って 2")
    assert said(rate, 2.9, 3.4, t=en) == "Engagement rate fell 0.5 pt to 2.9 %, 97 % of target."


def test_a_month_in_which_the_team_only_took_part_is_not_empty(settings: Settings) -> None:
    """No values, posts, reviews or wins, but a manager reacted to the bot's posts: the month's digest
    is the team's month with its participation section, not "no records"."""
    from dataclasses import replace

    from bot.participation.records import ManagerPart, ParticipationSummary

    quiet = compose_monthly(ActivityFacts(period=MONTH), kpis=(), history={}, min_impressions=100, best_n=3)
    assert quiet.empty
    nobody = ParticipationSummary((ManagerPart(MANAGER), ManagerPart(MANAGER2)))
    assert replace(quiet, participation=nobody).empty
    reacted = ParticipationSummary((ManagerPart(MANAGER, reactions=2), ManagerPart(MANAGER2)))
    digest = replace(quiet, participation=reacted)
    assert not digest.empty
    ja = translator("ja")
    text = to_text(monthly_doc(digest, settings=settings, t=ja), t=ja)
    assert "管理職の参加状況" in text
    assert "参加率: 50%" in text
    # No KPI values: said under the heading, and no chart or table promised in the thread.
    assert "この期間の指標の値はまだ記録されていません。" in text
    assert "スレッドにあります" not in text
    assert text.rstrip().endswith("ご質問やご意見はスレッドへどうぞ。")
    assert not replace(quiet, participation=ParticipationSummary((), requests=1, requesters=1)).empty
