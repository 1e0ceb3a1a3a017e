"""Every kind of milestone reads in both languages, escapes platform text, and its announcement is
valid Block Kit with the KPI button only where there is a KPI."""

from __future__ import annotations

import pytest

from bot.i18n import translator
from bot.kpi.ids import ActionId as KpiActionId
from bot.milestones.ids import TEAM, MilestoneKind
from bot.milestones.records import Found
from bot.milestones.ui import build_announcement, milestone_line
from tests.conftest import make_settings
from tests.fakes import blockkit

HOSTILE = "新作です <!channel> <@U0EVIL001> <https://evil.example|click here> & 1 > 0"

EVERY_KIND = (
    Found(MilestoneKind.KPI_RECORD, "recruiting_entries", "2026-10", value=35, previous=32),
    Found(
        MilestoneKind.TARGET_STREAK,
        "engagement_rate",
        "2026-10:3",
        value=3,
        detail={"since": "2026-08", "until": "2026-10"},
    ),
    Found(
        MilestoneKind.BEST_POST,
        TEAM,
        "2026-Q4",
        value=6.5,
        detail={
            "account": "x_corp",
            "url": "https://x.com/example_corp/status/5",
            "text": HOSTILE,
            "impressions": 2000,
            "engagements": 130,
        },
    ),
    Found(
        MilestoneKind.BEST_POST,
        TEAM,
        "q2027-01",
        value=4.2,
        detail={
            "fiscal_start": 4,
            "account": "x_corp",
            "text": "春の採用",
            "impressions": 1000,
            "engagements": 42,
        },
    ),
    Found(MilestoneKind.POSTS_TOTAL, TEAM, "1000", value=1012, previous=980),
    Found(MilestoneKind.FOLLOWERS, "x_corp", "10000", value=10240, previous=9900),
)

EXPECTED = {
    "ja": (
        "過去最高を更新しました。2026年10月は 35（これまでの最高は 32）",
        "3 か月連続で目標を達成しました（2026年8月〜2026年10月）",
        "2026年第4四半期のベスト投稿はエンゲージメント率 *6.5%*",
        "2026年度 第4四半期（1〜3月）のベスト投稿はエンゲージメント率 *4.2%*",
        "累計 *1,000 件*",
        "X 公式のフォロワーが *10,000 人* を超えました（現在 10,240 人）",
    ),
    "en": (
        "set a new record: 35 in",
        "met its target 3 months in a row",
        "The best post of Q4 2026, at an engagement rate of *6.5%*",
        "The best post of FY2026 Q4 (Jan–Mar), at an engagement rate of *4.2%*",
        "published *1,000 posts*",
        "X 公式 passed *10,000 followers* (10,240 now)",
    ),
}


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_every_kind_reads_in_both_languages(locale: str) -> None:
    settings = make_settings(change=lambda raw: raw.update(locale=locale))
    t = translator(settings.locale)
    for found, expected in zip(EVERY_KIND, EXPECTED[locale], strict=True):
        line = milestone_line(found, settings=settings, t=t)
        assert expected in line
        message = build_announcement(found, settings=settings, t=t)
        blocks = message.blocks_json()
        assert blockkit.message_errors(blocks) is None
        buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
        if found.kind in (MilestoneKind.KPI_RECORD, MilestoneKind.TARGET_STREAK):
            assert [(b["action_id"], b["value"]) for b in buttons] == [
                (KpiActionId.OPEN_DETAIL, found.subject)
            ]
        else:
            assert buttons == []


def test_platform_text_is_escaped_and_a_lower_is_better_record_says_so() -> None:
    settings = make_settings()
    t = translator("ja")
    line = milestone_line(EVERY_KIND[2], settings=settings, t=t)
    assert "<!channel>" not in line and "<@U0EVIL001>" not in line
    assert line.count("<https://x.com/example_corp/status/5|") == 1

    def lower(raw: dict[str, object]) -> None:
        raw["kpis"][0]["better"] = "lower"  # type: ignore[index]

    lowered = make_settings(change=lower)
    assert "過去最良" in milestone_line(EVERY_KIND[0], settings=lowered, t=t)


def test_a_kpi_removed_from_the_config_still_reads() -> None:
    settings = make_settings()
    gone = Found(MilestoneKind.KPI_RECORD, "old_kpi", "2026-10", value=3, previous=2)
    message = build_announcement(gone, settings=settings, t=translator("en"))
    assert "old_kpi" in message.text
    assert blockkit.message_errors(message.blocks_json()) is None
