"""The real `sns-bot run` process in Socket Mode: it opens a websocket with its app-level token, acks
envelopes over it, answers through the response_url, reconnects when Slack says `disconnect`, serves
only `/healthz` over HTTP, and stops cleanly on SIGTERM without leaking a token."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.conftest import APP_TOKEN, BOT_TOKEN
from tests.fakes import payloads
from tests.fakes.slack import FakeSlack
from tests.fakes.socket_mode import envelope
from tests.reliability.bot_process import BotConfig, BotProcess, start_bot, stopping

HELP_TITLE = "SNS 指標の使い方"


async def _health(session: aiohttp.ClientSession, bot: BotProcess) -> dict[str, str]:
    await bot.wait_healthy()
    async with session.get(bot.healthz_url) as response:
        body: dict[str, str] = await response.json()
        return body


@pytest.mark.slow
async def test_socket_mode_process_acks_over_the_socket_and_stops_cleanly(tmp_path: Path) -> None:
    with FakeSlack() as fake:
        bot = start_bot(tmp_path, config=BotConfig(), api_url=fake.api_url, socket_mode=True)
        with stopping(bot):
            async with aiohttp.ClientSession() as session:
                health = await _health(session, bot)
                assert health["status"] == "ok"
                assert health["mode"] == "socket"
                # Socket Mode serves Slack over the websocket only: there is no Events endpoint.
                async with session.post(bot.events_url, data=b"{}") as response:
                    assert response.status == 404

            first = await fake.wait_for_socket()
            opens = fake.calls_to("apps.connections.open")
            assert [call.headers["authorization"] for call in opens] == [f"Bearer {APP_TOKEN}"]
            assert fake.answers_to("apps.connections.open") == opens

            command = envelope(
                "slash_commands",
                payloads.slash_command("/sns-kpi", "help", response_url=fake.response_url("help")),
            )
            await fake.socket_send(command)
            ack = await fake.wait_for_ack(command["envelope_id"])
            assert ack.payload is None  # a bare ack(): the answer goes to the response_url
            assert ack.connection == first.number
            answer = (await fake.wait_for("response_url", timeout=10))[0]
            assert answer.path == "/response/help"
            assert answer.params["text"] == HELP_TITLE
            assert answer.params["response_type"] == "ephemeral"

            # Slack refreshes connections: the bot must fetch a new URL, drop the old socket and go on.
            await fake.socket_disconnect("refresh_requested")
            second = await fake.wait_for_socket(count=2)
            assert len(fake.calls_to("apps.connections.open")) == 2
            retried = envelope(
                "slash_commands",
                payloads.slash_command("/sns-kpi", "help", response_url=fake.response_url("again")),
            )
            await fake.socket_send(retried)
            assert (await fake.wait_for_ack(retried["envelope_id"])).connection == second.number
            again = (await fake.wait_for("response_url", count=2, timeout=10))[1]
            assert (again.path, again.params["text"]) == ("/response/again", HELP_TITLE)
            assert not first.is_open
            returncode = bot.stop(timeout=20)
        # The bot closed its websocket itself on the way out (the fake is still serving here).
        assert [c.is_open for c in fake.socket_connections] == [False, False]
        assert [a.envelope_id for a in fake.acks] == [command["envelope_id"], retried["envelope_id"]]
        fake.assert_no_invalid_payloads()

    text = bot.log_text()
    assert returncode == 0, text
    assert "connected to Slack in Socket Mode" in bot.messages()
    assert bot.messages()[-1] == "stopped"
    assert APP_TOKEN not in text
    assert BOT_TOKEN not in text
    assert "xapp-" not in text


@pytest.mark.slow
async def test_socket_mode_process_stops_on_sigterm_while_it_cannot_connect(tmp_path: Path) -> None:
    with FakeSlack() as fake:
        # A revoked app token: the SDK logs the failure and retries until the process is stopped.
        fake.fail("apps.connections.open", error="invalid_auth", times=None)
        bot = start_bot(tmp_path, config=BotConfig(), api_url=fake.api_url, socket_mode=True)
        with stopping(bot):
            await fake.wait_for("apps.connections.open", timeout=30)
            deadline = time.monotonic() + 10
            while "Failed to connect" not in bot.log_text():
                assert bot.proc.poll() is None and time.monotonic() < deadline, bot.log_text()
                await asyncio.sleep(0.05)
            returncode = bot.stop(timeout=20)
        assert fake.socket_connections == []

    text = bot.log_text()
    assert returncode == 0, text
    assert bot.messages()[-1] == "stopped"
    assert APP_TOKEN not in text
    assert BOT_TOKEN not in text


@pytest.mark.slow
async def test_socket_mode_process_acks_an_event_retry_but_handles_the_event_once(tmp_path: Path) -> None:
    with FakeSlack() as fake:
        bot = start_bot(tmp_path, config=BotConfig(), api_url=fake.api_url, socket_mode=True)
        with stopping(bot):
            await fake.wait_for_socket(timeout=30)
            body = payloads.event(payloads.app_home_opened(), event_id="Ev0SOCKET01")
            first = envelope("events_api", body)
            # Slack redelivers an event it thinks was not acked in time, with a new envelope id.
            retry = envelope("events_api", body, retry_attempt=1, retry_reason="timeout")
            await fake.socket_send(first)
            assert (await fake.wait_for_ack(first["envelope_id"])).payload is None
            await fake.socket_send(retry)
            assert (await fake.wait_for_ack(retry["envelope_id"])).payload is None
            published = await fake.wait_for("views.publish", timeout=10)
            assert published[0].params["user_id"] == payloads.USER_ID
            await bot.wait_for_log("duplicate event delivery ignored", timeout=10)
            returncode = bot.stop(timeout=20)
        assert len(fake.calls_to("views.publish")) == 1

    assert returncode == 0, bot.log_text()
    assert bot.messages().count("duplicate event delivery ignored: Ev0SOCKET01") == 1


async def test_fake_socket_mode_talks_to_the_sdk_client_in_the_test_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)  # the SDK would send the websocket through a proxy
    async with FakeSlack() as fake:
        web_client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
        with pytest.raises(SlackApiError) as refused:
            await web_client.apps_connections_open(app_token=BOT_TOKEN)
        assert refused.value.response["error"] == "not_allowed_token_type"

        client = SocketModeClient(app_token=APP_TOKEN, web_client=web_client, ping_interval=30)
        seen: list[SocketModeRequest] = []

        async def answer(sdk: object, request: SocketModeRequest) -> None:
            seen.append(request)
            response = SocketModeResponse(
                envelope_id=request.envelope_id, payload={"response_action": "clear"}
            )
            await client.send_socket_mode_response(response)

        client.socket_mode_request_listeners.append(answer)
        try:
            await client.connect()
            connection = await fake.wait_for_socket()
            pushed = envelope("interactive", {"type": "view_submission"}, envelope_id="e-1")
            await fake.socket_send(pushed)
            ack = await fake.wait_for_ack("e-1")
            assert (ack.payload, ack.connection) == ({"response_action": "clear"}, connection.number)
            assert [(r.type, r.payload, r.accepts_response_payload, r.retry_attempt) for r in seen] == [
                ("interactive", {"type": "view_submission"}, True, 0)
            ]
            assert fake.socket.other_frames == []
        finally:
            await client.close()
        deadline = time.monotonic() + 5
        while connection.is_open:
            assert time.monotonic() < deadline, "the closed client left its websocket open"
            await asyncio.sleep(0.01)
