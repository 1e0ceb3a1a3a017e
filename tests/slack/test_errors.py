"""The listener error boundary: failures become localized answers and never cost the ack."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.errors import BotError, NotAllowed
from bot.runtime.deps import Deps
from tests.conftest import SIGNING_SECRET
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack


@pytest.fixture
async def boundary_sender(deps: Deps) -> Any:
    app = AsyncApp(client=deps.slack, signing_secret=SIGNING_SECRET)

    async def fails_after_ack(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()
        if command["text"] == "boom":
            raise RuntimeError("token xoxb-should-not-matter")
        raise NotAllowed("common.errors.not_admin")

    async def fails_before_ack(ack: AsyncAck) -> None:
        raise BotError("common.errors.not_allowed")

    async def validates(ack: AsyncAck, view: dict[str, Any], respond: AsyncRespond) -> None:
        raise BotError("common.errors.not_allowed", block_id="draft")

    app.command("/fast-fail")(deps.listener(fails_after_ack))
    app.command("/early-fail")(deps.listener(fails_before_ack))
    app.view("check")(deps.listener(validates))
    client = TestClient(TestServer(app.web_app()))
    await client.start_server()
    yield SlackSender(client, secret=SIGNING_SECRET)
    await client.close()


async def test_an_error_right_after_the_ack_keeps_the_ack_and_answers_ephemerally(
    boundary_sender: SlackSender, fake_slack: FakeSlack
) -> None:
    for i in range(5):  # the race in Bolt's runner needs the error inside its 10 ms poll
        url = fake_slack.response_url(f"r{i}")
        response = await boundary_sender.command(payloads.slash_command("/fast-fail", "", response_url=url))
        assert response.status == 200
    calls = await fake_slack.wait_for("response_url", count=5)
    assert {c.params["text"] for c in calls} == {"この操作は管理者のみ実行できます。"}
    assert all(c.params["response_type"] == "ephemeral" for c in calls)


async def test_an_error_before_the_ack_is_the_ack(
    boundary_sender: SlackSender, fake_slack: FakeSlack
) -> None:
    response = await boundary_sender.command(payloads.slash_command("/early-fail", ""))
    assert response.status == 200
    assert json.loads(response.body) == {
        "text": "この操作を行う権限がありません。",
        "response_type": "ephemeral",
    }


async def test_a_modal_error_lands_on_its_input_block(boundary_sender: SlackSender) -> None:
    response = await boundary_sender.interactive(payloads.view_submission("check", {}))
    assert response.status == 200
    assert response.json() == {
        "response_action": "errors",
        "errors": {"draft": "この操作を行う権限がありません。"},
    }


async def test_unexpected_errors_are_logged_with_a_reference_the_user_sees(
    boundary_sender: SlackSender, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="bot.slack.errors")
    url = fake_slack.response_url("boom")
    response = await boundary_sender.command(payloads.slash_command("/fast-fail", "boom", response_url=url))
    assert response.status == 200
    text = (await fake_slack.wait_for("response_url"))[0].params["text"]
    ref = text.split("`")[1]
    assert text.startswith(":warning: ボット側で問題が発生しました")
    assert any(ref in r.getMessage() for r in caplog.records)


async def test_errors_are_told_in_the_askers_language_and_never_ask_slack_before_the_ack(
    boundary_sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    fake_slack.users[payloads.USER_ID] = {"locale": "en-US"}
    # Before the ack nothing is asked: a person the process has not met reads the configured language.
    early = await boundary_sender.command(payloads.slash_command("/early-fail", ""))
    assert json.loads(early.body)["text"] == "この操作を行う権限がありません。"
    assert fake_slack.calls_to("users.info") == []
    # After the ack their Slack language is asked (once) and the answer is theirs.
    url = fake_slack.response_url("en")
    await boundary_sender.command(payloads.slash_command("/fast-fail", "", response_url=url))
    (answer,) = await fake_slack.wait_for("response_url")
    assert answer.params["text"] == "Only admins can do this."
    # Now the process knows it, so even an answer before the ack is in English.
    early = await boundary_sender.command(payloads.slash_command("/early-fail", ""))
    assert json.loads(early.body)["text"] == "You are not allowed to do this."
    assert len(fake_slack.calls_to("users.info")) == 1
