"""/sns-kpi through signed requests: status report, 12-month detail with chart upload, set/target with
authorization, and every bad input refused with a localized message and nothing changed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.kpi.models import KpiTarget, KpiValue
from bot.kpi.queries import kpi_months
from bot.kpi.records import PostRecord
from bot.kpi.rules import parse_month
from bot.kpi.values import record_value, upsert_posts
from bot.metrics import Metrics
from bot.runtime.deps import Deps
from tests.conftest import ADMIN, GROUP_MEMBER, MANAGER, NOW, OPERATOR
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack

CHANNEL = "C0TEAM0001"


async def _ask(
    sender: SlackSender, fake_slack: FakeSlack, text: str, *, user: str = OPERATOR, name: str = "kpi"
) -> dict[str, Any]:
    url = fake_slack.response_url(name)
    response = await sender.command(
        payloads.slash_command("/sns-kpi", text, user_id=user, channel_id=CHANNEL, response_url=url)
    )
    assert response.status == 200
    assert response.body == b""  # acknowledged at once; the answer follows via response_url
    calls = await fake_slack.wait_for("response_url", count=1)
    return calls[0].params


async def _counts(deps: Deps) -> tuple[int, int]:
    async with deps.sessions() as session:
        values = await session.scalar(select(func.count()).select_from(KpiValue))
        targets = await session.scalar(select(func.count()).select_from(KpiTarget))
    return int(values or 0), int(targets or 0)


async def _seed(deps: Deps) -> None:
    async with deps.sessions.begin() as session:
        await record_value(
            session,
            kpi="recruiting_entries",
            month="2026-10",
            day=None,
            value=20,
            source="slack",
            user_id=MANAGER,
            now=NOW,
        )
        for day, value in ((date(2026, 11, 3), 10), (date(2026, 11, 10), 4)):
            await record_value(
                session,
                kpi="recruiting_entries",
                month="2026-11",
                day=day,
                value=value,
                source="import",
                user_id=None,
                now=NOW,
            )
        posts = [
            ("1", datetime(2026, 10, 10, tzinfo=UTC), Metrics(impressions=1000, engagements=30)),
            ("2", datetime(2026, 11, 5, tzinfo=UTC), Metrics(impressions=2000, likes=50, comments=10)),
            ("3", datetime(2026, 11, 12, tzinfo=UTC), Metrics(impressions=3000, engagements=100)),
        ]
        await upsert_posts(
            session,
            [PostRecord("x", ext, when, account_key="x_corp", metrics=m) for ext, when, m in posts],
            source="import",
            now=NOW,
        )


def _sections(answer: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in answer["blocks"] if b["type"] == "section"]


async def test_status_reads_like_a_short_report(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    await _seed(deps)
    answer = await _ask(sender, fake_slack, "")
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0]["text"]["text"] == "SNS 指標 — 2026年11月"
    assert answer["blocks"][1]["elements"][0]["text"] == "2026年11月18日 時点・今月の 58% が経過"
    assert _sections(answer) == [
        "*目標のある 3 指標のうち、1 指標が目標ペースです。*",
        "*採用エントリー数*　14／目標 30（達成率 47%）\n"
        ":red_circle: 目標ペースに遅れ（現時点の目安 17）　前月比 −6 / −30.0%（悪化）",
        "*エンゲージメント率*　3.2%／目標 3%（達成率 107%）\n"
        ":large_green_circle: 目標ペース　前月比 +0.2 ポイント（改善）",
        "*指名検索数*　実績はまだありません（目標 12,000）",
    ]
    assert answer["blocks"][-1]["elements"][0]["text"] == (
        "詳細と 12 か月のグラフ: `/sns-kpi 指標キー`・見方: `/sns-kpi help`"
    )
    assert "採用エントリー数" in answer["text"]


async def test_detail_shows_history_and_sends_the_chart_privately(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    await _seed(deps)
    answer = await _ask(sender, fake_slack, "engagement_rate")
    assert answer["blocks"][0]["text"]["text"] == "エンゲージメント率：直近 12 か月"
    history = _sections(answer)[1].split("\n")
    assert len(history) == 12
    assert history[0] == "`2026年11月`  3.2%　目標 3%・達成率 107%"
    assert history[1] == "`2026年10月`  3.0%　目標 3%・達成率 100%"
    assert history[2] == "`2026年9月`  —　目標 3%・達成率 —"
    assert answer["blocks"][-1]["elements"][0]["text"] == "_この指標が大切な理由:_ 反応の深さを表します。"

    (complete,) = await fake_slack.wait_for("files.completeUploadExternal")
    (get_url,) = fake_slack.calls_to("files.getUploadURLExternal")
    (upload,) = fake_slack.calls_to("upload")
    # Asked in a channel the config does not name for KPIs: the chart goes to the asker's DM.
    assert complete.params["channel_id"] == "D0ALICE01"
    assert get_url.params["filename"] == "engagement_rate-2026-11.png"
    assert upload.params["length"] == int(get_url.params["length"]) > 1000
    assert fake_slack.uploads[upload.params["file_id"]].startswith(b"\x89PNG")
    assert (
        complete.params["initial_comment"]
        == f"エンゲージメント率：直近 12 か月の推移（<@{OPERATOR}> さんのリクエスト）"
    )


@pytest.mark.parametrize("user", [MANAGER, GROUP_MEMBER, ADMIN])
async def test_set_records_a_month_value_with_who_and_source(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps, user: str
) -> None:
    answer = await _ask(sender, fake_slack, "set recruiting_entries 1,234", user=user)
    assert answer["text"] == ":white_check_mark: 2026年11月の採用エントリー数を 1,234 で記録しました。"
    async with deps.sessions() as session:
        row = (await session.scalars(select(KpiValue))).one()
    assert (row.kpi_key, row.month, row.day, row.value, row.source, row.recorded_by, row.recorded_at) == (
        "recruiting_entries",
        "2026-11",
        None,
        1234.0,
        "slack_command",
        user,
        NOW,
    )


async def test_detail_says_who_recorded_each_month_and_how(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    await _seed(deps)  # October typed by a manager (an old "slack" row), November imported on the CLI
    await _ask(sender, fake_slack, "set recruiting_entries 25 2026-09", user=MANAGER, name="set")
    fake_slack.reset()
    answer = await _ask(sender, fake_slack, "recruiting_entries")
    history = _sections(answer)[1].split("\n")
    assert history[0] == "`2026年11月`  14　目標 30・達成率 47%・コマンドラインからのインポートで記録"
    assert history[1] == f"`2026年10月`  20　目標 30・達成率 67%・<@{MANAGER}> さんが /sns-kpi set で記録"
    assert history[2] == f"`2026年9月`  25　目標 30・達成率 83%・<@{MANAGER}> さんが /sns-kpi set で記録"
    assert history[3] == "`2026年8月`  —　目標 30・達成率 —"


async def test_set_again_keeps_history_and_says_what_it_replaced(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    await _seed(deps)
    answer = await _ask(sender, fake_slack, "set recruiting_entries 25 2026-10", user=MANAGER)
    assert answer["text"] == (
        ":white_check_mark: 2026年10月の採用エントリー数を 25 で記録しました（変更前: 20）。変更前の値も履歴に残っています。"
    )
    async with deps.sessions() as session:
        months = await kpi_months(
            session,
            settings=deps.settings,
            months=[parse_month("2026-10", now=NOW, tz=deps.settings.tz)],
        )
        history = await session.scalar(
            select(func.count()).select_from(KpiValue).where(KpiValue.month == "2026-10")
        )
    assert months["recruiting_entries"][0].value == 25.0
    assert history == 2


async def test_target_by_admin_overrides_the_config_for_that_month(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    answer = await _ask(sender, fake_slack, "target engagement_rate 3.5 2026-12", user=ADMIN)
    assert (
        answer["text"] == ":dart: 2026年12月のエンゲージメント率の目標を 3.5% に設定しました（変更前: 3%）。"
    )
    async with deps.sessions() as session:
        row = (await session.scalars(select(KpiTarget))).one()
    assert (row.kpi_key, row.month, row.value, row.set_by) == ("engagement_rate", "2026-12", 3.5, ADMIN)


@pytest.mark.parametrize(
    ("text", "user", "expected"),
    [
        ("target recruiting_entries 40", MANAGER, "指標の目標を設定できるのは管理者のみです。"),
        ("set recruiting_entries 40", OPERATOR, "指標の実績を記録できるのは管理職と管理者のみです。"),
        (
            "set nope 1",
            ADMIN,
            "`nope` という指標はありません。設定されている指標: recruiting_entries, engagement_rate, branded_search",
        ),
        (
            "set recruiting_entries abc",
            ADMIN,
            "`abc` は記録できる数値ではありません。`1234`、`1,234`、`3.2` のように入力してください。",
        ),
        (
            "set recruiting_entries NaN",
            ADMIN,
            "`NaN` は記録できる数値ではありません。`1234`、`1,234`、`3.2` のように入力してください。",
        ),
        (
            "target recruiting_entries inf",
            ADMIN,
            "`inf` は記録できる数値ではありません。`1234`、`1,234`、`3.2` のように入力してください。",
        ),
        (
            "set recruiting_entries -3",
            ADMIN,
            "`-3` はマイナスの値です。指標の実績や目標にマイナスは設定できません。",
        ),
        (
            "set recruiting_entries 3 2026-13",
            ADMIN,
            "`2026-13` は月として読み取れません。`2026-11` のように YYYY-MM 形式で入力してください。",
        ),
        (
            "target recruiting_entries 3 2027-01",
            ADMIN,
            "`2027-01` は先すぎます。実績や目標を設定できるのは翌月（2026-12）までです。",
        ),
        (
            "set recruiting_entries",
            ADMIN,
            "使い方: `/sns-kpi set 指標キー 値 [YYYY-MM]`（例: `/sns-kpi set recruiting_entries 12`）",
        ),
        (
            "set engagement_rate 3.1",
            ADMIN,
            "エンゲージメント率は投稿の指標から自動で計算されるため、手入力では設定できません。"
            "投稿データをインポートするか、自動収集で更新してください。",
        ),
        (
            "<!channel>",
            ADMIN,
            "`&lt;!channel&gt;` という指標はありません。設定されている指標: recruiting_entries, engagement_rate, branded_search",
        ),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps, text: str, user: str, expected: str
) -> None:
    answer = await _ask(sender, fake_slack, text, user=user)
    assert answer["text"] == expected
    assert answer["response_type"] == "ephemeral"
    assert await _counts(deps) == (0, 0)
