"""Real exports dropped into the bot's DM (read from ../shared/real-exports, never copied): the Search
Console performance export as downloaded (a zip) and X's daily account export preview and import as
what they are; a single non-query table of the zip gets a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.kpi.ids import ActionId
from bot.kpi.models import DailyMetric
from bot.runtime.deps import Deps
from tests.conftest import ADMIN, make_settings
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.kpi.test_real_exports import GSC, REAL, YT, ZIP_NAMES, X, _config, search_console_zip
from tests.scenarios.test_kpi_upload import _bot_messages, _buttons, _click, _drop, _texts

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-exports is not here")


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    return make_settings(db_url=db_url, api_url=fake_slack.api_url, change=_config)


async def _daily_rows(deps: Deps) -> int:
    async with deps.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(DailyMetric)) or 0)


async def test_the_search_console_zip_as_downloaded_previews_and_imports(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    zipped = search_console_zip(tmp_path)
    await _drop(sender, fake_slack, deps, user=ADMIN, name=zipped.name, content=zipped.read_bytes())
    (preview,) = _bot_messages(fake_slack, ADMIN)
    body = _texts(preview)
    assert "*形式*\n" in body and "*期間*\n2026-03-15 〜 2026-07-21" in body
    assert "*日別の値*\n新規 " in body
    assert await _daily_rows(deps) == 0  # nothing before Import
    await sender.interactive(
        _click(
            ActionId.UPLOAD_IMPORT,
            _buttons(preview)[ActionId.UPLOAD_IMPORT],
            user=ADMIN,
            message=preview,
            fake_slack=fake_slack,
        )
    )
    await deps.inflight.drain(10)
    chart_days = len((GSC / ZIP_NAMES["Chart.csv"]).read_text(encoding="utf-8-sig").splitlines()) - 1
    assert await _daily_rows(deps) == 2 * chart_days
    (done,) = _bot_messages(fake_slack, ADMIN)
    assert "インポートが完了しました" in _texts(done)


async def test_one_table_of_the_zip_alone_gets_a_clear_error(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    for index, table in enumerate(("Pages.csv", "Chart.csv"), start=1):
        part = GSC / ZIP_NAMES[table]
        await _drop(sender, fake_slack, deps, user=ADMIN, name=part.name, content=part.read_bytes())
        answers = _bot_messages(fake_slack, ADMIN)
        assert len(answers) == index, table
        answer = answers[-1]
        assert "をインポートできませんでした" in _texts(answer), table
        assert "zip をそのままこの DM に送ってください" in _texts(answer), table
        assert "Queries.csv" in _texts(answer), table
        assert _buttons(answer) == {}, table
    assert await _daily_rows(deps) == 0  # Chart.csv alone is refused, not taken as days
    # The queries table alone cannot say its month here (no --period in a DM): drop the zip.
    queries = GSC / ZIP_NAMES["Queries.csv"]
    await _drop(sender, fake_slack, deps, user=ADMIN, name="Queries.csv", content=queries.read_bytes())
    answer = _bot_messages(fake_slack, ADMIN)[-1]
    assert "*Queries.csv* をインポートできませんでした" in _texts(answer)
    assert "zip をそのままこの DM に送るか" in _texts(answer)
    assert "取り込めない行が 0 行" not in _texts(answer) and _buttons(answer) == {}


async def test_x_daily_account_export_is_filed_under_the_account_its_name_says(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    daily = X / "debruine_daily_tweet_activity_metrics_LisaDeBruine_20210801_20210901_en.csv"
    await _drop(sender, fake_slack, deps, user=ADMIN, name=daily.name, content=daily.read_bytes())
    (preview,) = _bot_messages(fake_slack, ADMIN)
    assert "*アカウント*\n@LisaDeBruine" in _texts(preview)
    assert "*日別の値*\n新規 " in _texts(preview)


async def test_rows_the_platform_writes_are_skipped_with_their_reasons_in_the_preview(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    export = YT / "studio_content_dangertv_top500_crlf.csv"
    await _drop(sender, fake_slack, deps, user=ADMIN, name=export.name, content=export.read_bytes())
    (preview,) = _bot_messages(fake_slack, ADMIN)
    body = _texts(preview)
    assert "*行数*\n501 行（スキップ 6 行）" in body
    assert "*投稿*\n新規 495 件、更新 0 件、変更なし 0 件" in body
    assert "6 行をスキップしました: " in body and "502行目" in body
    assert set(_buttons(preview)) == {ActionId.UPLOAD_IMPORT, ActionId.UPLOAD_CANCEL}
