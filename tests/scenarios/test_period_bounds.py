"""Months and weeks outside 1970–9999 typed anywhere (``/sns-kpi set``, the App Home modal, ``sns-bot
digest --period``, ``sns-bot import`` rows and ``--period``) get the usual clear, localized refusal and
change nothing; before, ``0001-01`` crashed ``/sns-kpi set`` ("unexpected error") and the CLI printed a
traceback (issue 13, item 8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.kpi.models import KpiTarget, KpiValue
from bot.runtime.deps import Deps
from tests.conftest import ADMIN, MANAGER, MGMT_CHANNEL
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack

OUT_OF_RANGE_JA = "「{value}」は扱える範囲外の期間です。1970-01 から 9999-11 までの期間を指定してください。"


async def _counts(deps: Deps) -> tuple[int, int]:
    async with deps.sessions() as session:
        values = await session.scalar(select(func.count()).select_from(KpiValue))
        targets = await session.scalar(select(func.count()).select_from(KpiTarget))
    return int(values or 0), int(targets or 0)


@pytest.mark.parametrize("text", ["set recruiting_entries 3 0001-01", "target recruiting_entries 3 1969-12"])
async def test_kpi_set_and_target_refuse_a_month_outside_the_range_and_write_nothing(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps, text: str
) -> None:
    url = fake_slack.response_url("kpi")
    response = await sender.command(
        payloads.slash_command("/sns-kpi", text, user_id=ADMIN, channel_id="C0TEAM0001", response_url=url)
    )
    assert response.status == 200
    (answer,) = await fake_slack.wait_for("response_url")
    assert answer.params["text"] == OUT_OF_RANGE_JA.format(value=text.split()[-1])
    assert answer.params["response_type"] == "ephemeral"
    assert await _counts(deps) == (0, 0)


async def test_the_home_kpi_modal_refuses_a_month_outside_the_range_inline(
    sender: SlackSender, deps: Deps
) -> None:
    # The month is a select, but a submission is only a POST: any value can arrive.
    submission = payloads.view_submission(
        "home.record_kpi_modal",
        {
            "home_kpi": {"home.input.kpi": payloads.selected_option("branded_search")},
            "home_value": {"home.input.value": payloads.text_input("12")},
            "home_month": {"home.input.month": payloads.selected_option("0001-01")},
        },
        user_id=MANAGER,
    )
    answer = await sender.interactive(submission)
    assert answer.json() == {
        "response_action": "errors",
        "errors": {"home_month": OUT_OF_RANGE_JA.format(value="0001-01")},
    }
    assert await _counts(deps) == (0, 0)


CONFIG = f"""locale = "en"
timezone = "Asia/Tokyo"
[database]
url = "sqlite:///DB_PATH"
[roles]
managers = ["U0MANAGER1"]
admins = ["U0ADMIN001"]
[review]
channel = "C0REVIEW01"
[digest.weekly]
channels = ["{MGMT_CHANNEL}"]
[digest.monthly]
channels = ["{MGMT_CHANNEL}"]
[search_console]
kpi = "branded_search"
brand_terms = ["acme"]
[[accounts]]
key = "x_corp"
platform = "x"
handle = "@corp"
[[kpis]]
key = "branded_search"
name = {{ ja = "指名検索数", en = "Branded searches" }}
aggregate = "last"
better = "higher"
why = {{ ja = "認知", en = "Awareness" }}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.replace("DB_PATH", str(tmp_path / "bot.db")), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("kind", "period", "message"),
    [
        (
            "monthly",
            "0001-01",
            '"0001-01" is outside the periods I can handle. Use a period from 1970-01 to 9999-11.',
        ),
        (
            "monthly",
            "9999-12",
            '"9999-12" is outside the periods I can handle. Use a period from 1970-01 to 9999-11.',
        ),
        (
            "weekly",
            "0001-W01",
            '"0001-W01" is outside the periods I can handle. Use a period from 1970-W01 to 9999-W51.',
        ),
        (
            "weekly",
            "9999-W52",
            '"9999-W52" is outside the periods I can handle. Use a period from 1970-W01 to 9999-W51.',
        ),
    ],
)
def test_digest_preview_of_a_period_outside_the_range_exits_1_with_one_line(
    config: Path, capsys: pytest.CaptureFixture[str], kind: str, period: str, message: str
) -> None:
    code = main(["digest", kind, "--period", period, "--preview", "--config", str(config)], environ={})
    assert code == 1
    assert capsys.readouterr().err.splitlines() == [message]


@pytest.mark.parametrize(
    ("kind", "period"), [("monthly", "1970-01"), ("monthly", "9999-11"), ("weekly", "9999-W51")]
)
def test_digest_preview_of_the_first_and_last_periods_works(
    config: Path, capsys: pytest.CaptureFixture[str], kind: str, period: str
) -> None:
    code = main(["digest", kind, "--period", period, "--preview", "--config", str(config)], environ={})
    assert code == 0
    assert period in capsys.readouterr().out


def test_an_import_row_with_a_period_outside_the_range_is_rejected_with_its_line(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "kpi.csv"
    csv.write_text("kpi,period,value\nbranded_search,2026-10,5\nbranded_search,0001-01,7\n", encoding="utf-8")
    assert main(["import", "kpi", str(csv), "--config", str(config)], environ={}) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if " INFO " not in line]
    assert err[0] == "Line 3: “period”: “0001-01” is outside the periods I can handle (1970-01 to 9999-11)."


def test_a_search_console_period_option_outside_the_range_is_refused(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = Path(__file__).parents[1] / "kpi" / "data" / "gsc_queries_en.csv"
    code = main(["import", "kpi", str(data), "--period", "0001-01", "--config", str(config)], environ={})
    assert code == 1
    assert capsys.readouterr().err.splitlines() == [
        '"0001-01" is outside the periods I can handle. Use a period from 1970-01 to 9999-11.'
    ]
