"""An operator (no role in the config) records KPI values by dropping a file into the bot's DM under
the default ``[kpi] setters = "everyone"`` (product.md: operators record values): the value records
who and how, and ``/sns-kpi`` and the App Home show it as soon as the import ends."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.home.publisher import HomePublisher
from bot.kpi.ids import ActionId
from bot.kpi.models import KpiValue
from bot.runtime.deps import Deps
from tests.conftest import OPERATOR, make_settings
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.home.home_seed import next_home, open_home, texts
from tests.scenarios.test_kpi_command import _ask
from tests.scenarios.test_kpi_upload import _bot_messages, _buttons, _click, _drop, _texts


def _default_setters(raw: dict) -> None:
    del raw["kpi"]["setters"]  # the default: everyone records values


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    made = make_settings(db_url=db_url, api_url=fake_slack.api_url, change=_default_setters)
    assert made.kpi.setters == "everyone"
    return made


async def test_an_operator_imports_values_from_the_dm_and_sns_kpi_and_the_home_show_them_at_once(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    before = await open_home(sender, fake_slack, OPERATOR)
    assert "47／目標" not in texts(before)
    publisher = deps.home
    assert isinstance(publisher, HomePublisher)
    await publisher.drain()

    content = b"kpi,period,value\nrecruiting_entries,2026-11,47\n"
    await _drop(sender, fake_slack, deps, user=OPERATOR, name="entries.csv", content=content)
    (preview,) = _bot_messages(fake_slack, OPERATOR)
    assert "*指標の値*\n新規 1 件、変更なし 0 件" in _texts(preview)
    published = len(fake_slack.calls_to("views.publish"))
    click = _click(
        ActionId.UPLOAD_IMPORT,
        _buttons(preview)[ActionId.UPLOAD_IMPORT],
        user=OPERATOR,
        message=preview,
        fake_slack=fake_slack,
    )
    assert (await sender.interactive(click)).status == 200
    assert await deps.inflight.drain(10)
    await publisher.drain()

    async with deps.sessions() as session:
        row = (await session.execute(KpiValue.__table__.select())).one()
    assert (row.kpi_key, row.value, row.recorded_by, row.source) == (
        "recruiting_entries",
        47.0,
        OPERATOR,
        "import_slack",
    )
    # The Home the import republished, and /sns-kpi asked right after, show the value.
    home = await next_home(fake_slack, OPERATOR, after=published)
    line = "*採用エントリー数*\u300047／目標 30（達成率 157%）"
    assert line in texts(home)
    answer = await _ask(sender, fake_slack, "")
    assert any(line in (block.get("text") or {}).get("text", "") for block in answer["blocks"])
