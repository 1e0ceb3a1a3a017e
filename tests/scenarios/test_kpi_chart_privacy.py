"""``/sns-kpi KEY`` shares its chart only where the answer is private to the asker (their DM with the
bot) or in a channel the config names for KPIs (``[kpi] chart_channels``); never into a channel the
asker merely typed in (issue 13, item 10).

Before: the chart was uploaded into whatever channel the command was typed in (a channel with
partners or customers, a DM between two people), for everyone there to see, while the numbers
themselves were answered privately.
"""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.runtime.deps import Deps
from tests.conftest import OPERATOR, make_settings
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack

KPI_ROOM = "C0KPIROOM1"
OUTSIDERS = "C0SHARED01"  # a Slack Connect channel with a customer, say
DM = "D0ALICE01"  # the fake's DM of OPERATOR with the bot


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    return make_settings(
        db_url=db_url,
        api_url=fake_slack.api_url,
        change=lambda raw: raw["kpi"].update(chart_channels=[KPI_ROOM]),
    )


async def _ask(sender: SlackSender, fake_slack: FakeSlack, *, channel_id: str, channel_name: str) -> None:
    command = payloads.slash_command(
        "/sns-kpi",
        "recruiting_entries",
        user_id=OPERATOR,
        channel_id=channel_id,
        channel_name=channel_name,
        response_url=fake_slack.response_url("kpi"),
    )
    assert (await sender.command(command)).status == 200
    await fake_slack.wait_for("files.completeUploadExternal")


async def test_asked_in_an_ordinary_channel_the_chart_goes_to_the_askers_dm(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    await _ask(sender, fake_slack, channel_id=OUTSIDERS, channel_name="shared-with-acme")
    completes = fake_slack.calls_to("files.completeUploadExternal")
    assert [c.params["channel_id"] for c in completes] == [DM]
    answers = [call.params for call in await fake_slack.wait_for("response_url", count=2)]
    assert all(a.get("response_type", "ephemeral") == "ephemeral" for a in answers)
    assert answers[-1]["text"] == (
        "グラフは、あなたとボットのダイレクトメッセージにお送りしました（このチャンネルには投稿していません）。"
    )
    assert fake_slack.messages(OUTSIDERS) == []


async def test_asked_in_a_dm_with_someone_else_the_chart_goes_to_the_askers_dm(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    await _ask(sender, fake_slack, channel_id="D0BOBALICE", channel_name="directmessage")
    completes = fake_slack.calls_to("files.completeUploadExternal")
    assert [c.params["channel_id"] for c in completes] == [DM]


async def test_asked_in_the_dm_with_the_bot_the_chart_is_right_there(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    await _ask(sender, fake_slack, channel_id=DM, channel_name="directmessage")
    completes = fake_slack.calls_to("files.completeUploadExternal")
    assert [c.params["channel_id"] for c in completes] == [DM]
    await deps.inflight.drain(10)
    assert len(fake_slack.calls_to("response_url")) == 1  # the numbers; no "sent to your DM" note


async def test_asked_in_a_kpi_channel_the_chart_is_shared_there(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    await _ask(sender, fake_slack, channel_id=KPI_ROOM, channel_name="sns-kpi")
    completes = fake_slack.calls_to("files.completeUploadExternal")
    assert [c.params["channel_id"] for c in completes] == [KPI_ROOM]


async def test_a_kpi_channel_the_bot_is_not_in_gets_the_chart_to_the_dm(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    fake_slack.fail(
        "files.completeUploadExternal", error="not_in_channel", when=lambda p: p.get("channel_id") == KPI_ROOM
    )
    await _ask(sender, fake_slack, channel_id=KPI_ROOM, channel_name="sns-kpi")
    completes = await fake_slack.wait_for("files.completeUploadExternal", count=2)
    assert [c.params["channel_id"] for c in completes] == [KPI_ROOM, DM]
    notes = await fake_slack.wait_for("response_url", count=2)
    assert notes[1].params["text"] == (
        "ボットがこのチャンネルのメンバーではないため、グラフはダイレクトメッセージでお送りしました。"
    )


def test_chart_channels_must_be_channel_ids() -> None:
    from bot.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        make_settings(change=lambda raw: raw["kpi"].update(chart_channels=["#general"]))
    assert [p.path for p in caught.value.problems] == ["kpi.chart_channels[0]"]
