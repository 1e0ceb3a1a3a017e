"""Buttons and modals on the App Home through signed requests: recording a KPI value with the
``/sns-kpi set`` rules, and sharing a win (away mode's pickers: tests/away/test_listeners.py)."""

from __future__ import annotations

from sqlalchemy import select

from bot.digest.models import Win
from bot.kpi.models import KpiValue
from bot.runtime.deps import Deps
from tests.conftest import MANAGER, OPERATOR
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.home.home_seed import home_envelope, next_home, open_home, texts


async def test_record_a_kpi_value_from_the_home_with_the_set_rules(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    await open_home(sender, fake_slack, MANAGER)
    click = payloads.block_action(
        "home.record_kpi", "kpi", user_id=MANAGER, view=home_envelope(fake_slack, MANAGER)
    )
    assert (await sender.interactive(click)).status == 200
    modal = (await fake_slack.wait_for("views.open"))[0].params["view"]
    assert modal["callback_id"] == "home.record_kpi_modal"
    kpi_select = modal["blocks"][0]["element"]
    # Derived KPIs (engagement rate) cannot be typed in; the month defaults to this month.
    assert [o["value"] for o in kpi_select["options"]] == ["recruiting_entries", "branded_search"]
    assert modal["blocks"][2]["element"]["initial_option"]["value"] == "2026-11"
    assert modal["blocks"][2]["element"]["options"][0]["value"] == "2026-12"

    def submission(
        user: str, value: str, kpi: str = "branded_search", month: str = "2026-11"
    ) -> dict[str, object]:
        return payloads.view_submission(
            "home.record_kpi_modal",
            {
                "home_kpi": {"home.input.kpi": payloads.selected_option(kpi)},
                "home_value": {"home.input.value": payloads.text_input(value)},
                "home_month": {"home.input.month": payloads.selected_option(month)},
            },
            user_id=user,
        )

    bad = await sender.interactive(submission(MANAGER, "たくさん"))
    assert bad.json() == {
        "response_action": "errors",
        "errors": {
            "home_value": "`たくさん` は記録できる数値ではありません。`1234`、`1,234`、`3.2` のように入力してください。"
        },
    }
    refused = await sender.interactive(submission(OPERATOR, "12000"))
    assert refused.json()["response_action"] == "errors"
    assert list(refused.json()["errors"]) == ["home_kpi"]

    published = len(fake_slack.calls_to("views.publish"))
    ok = await sender.interactive(submission(MANAGER, "１２,５００"))
    assert ok.status == 200 and ok.body == b""
    view = await next_home(fake_slack, MANAGER, after=published)
    assert "*指名検索数*　12,500／目標 12,000（達成率 104%）\n:large_green_circle: 目標ペースです" in texts(
        view
    )
    async with deps.sessions() as session:
        rows = (await session.scalars(select(KpiValue))).all()
    assert [(r.kpi_key, r.month, r.day, r.value, r.source, r.recorded_by) for r in rows] == [
        ("branded_search", "2026-11", None, 12500.0, "home", MANAGER)
    ]


async def test_share_a_win_from_the_home_hands_over_to_the_digest_win_modal(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    await open_home(sender, fake_slack, OPERATOR)
    click = payloads.block_action(
        "home.share_win", "win", user_id=OPERATOR, view=home_envelope(fake_slack, OPERATOR)
    )
    assert (await sender.interactive(click)).status == 200
    modal = (await fake_slack.wait_for("views.open"))[0].params["view"]
    assert modal["callback_id"] == "home.share_win_modal"

    def with_link(link: str) -> dict[str, object]:
        values = {"home_win_link": {"home.input.win_link": payloads.text_input(link)}}
        return payloads.view_submission("home.share_win_modal", values, user_id=OPERATOR)

    bad = await sender.interactive(with_link("https://example.com/not-slack"))
    assert bad.json()["errors"] == {
        "home_win_link": "Slack のメッセージへのリンクではないようです。メッセージの「⋯」メニューの「リンクをコピー」をお使いください。"
    }
    link = "https://acme.slack.com/archives/C0TEAM0001/p1767225601000200?thread_ts=1767225600.000100"
    step = (await sender.interactive(with_link(link))).json()
    assert step["response_action"] == "update"
    assert step["view"]["callback_id"] == "digest.win_modal"
    assert (
        step["view"]["private_metadata"]
        == '{"channel_id":"C0TEAM0001","message_ts":"1767225601.000200","author":null}'
    )

    # The digest feature's own listener saves it, as if the message shortcut had been used.
    values = {
        "digest.win_what": {"digest.win_what_input": payloads.text_input("採用イベントの投稿に 40 件の応募")}
    }
    done = payloads.view_submission(
        "digest.win_modal", values, private_metadata=step["view"]["private_metadata"], user_id=OPERATOR
    )
    assert (await sender.interactive(done)).status == 200
    await deps.inflight.drain(5)
    async with deps.sessions() as session:
        wins = (await session.scalars(select(Win))).all()
    assert [(w.channel_id, w.message_ts, w.what_happened, w.nominated_by) for w in wins] == [
        ("C0TEAM0001", "1767225601.000200", "採用イベントの投稿に 40 件の応募", OPERATOR)
    ]
