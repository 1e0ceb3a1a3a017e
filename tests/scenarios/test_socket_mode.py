"""The real `sns-bot run` process in Socket Mode: it opens a websocket with its app-level token, acks
envelopes over it, answers through the response_url, reconnects when Slack says `disconnect`, serves
only `/healthz` over HTTP, and stops cleanly on SIGTERM without leaking a token."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

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

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """
locale = "ja"
timezone = "Asia/Tokyo"
[database]
url = "sqlite:///bot.db"
[roles]
managers = ["U0MANAGER1"]
admins = ["U0ADMIN001"]
[review]
channel = "C0REVIEW01"
escalation_channel = "C0MGMT0001"
[digest.weekly]
channels = ["C0MGMT0001"]
[digest.monthly]
channels = ["C0MGMT0001"]
[logging]
format = "json"
level = "DEBUG"
[[accounts]]
key = "x_corp"
platform = "x"
handle = "@example_corp"
[[kpis]]
key = "recruiting_entries"
name = { ja = "採用エントリー数", en = "Recruiting entries" }
aggregate = "sum"
better = "higher"
target = 30
why = { ja = "採用コストを下げます。", en = "Lowers hiring costs." }
"""

HELP_TITLE = "SNS 指標の使い方"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_bot(tmp_path: Path, fake: FakeSlack, *, port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    (tmp_path / "config.toml").write_text(CONFIG, encoding="utf-8")
    # slack_sdk (Web API and Socket Mode clients) honours *_PROXY but not NO_PROXY: drop them all.
    env = {
        k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY") and not k.startswith("SLACK_")
    }
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,  # Socket Mode: no signing secret needed
        SLACK_API_URL=fake.api_url,
        PORT=str(port),
        PYTHONPATH=str(ROOT),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(tmp_path / "config.toml")],
        cwd=tmp_path,
        env=env,
        # A file, not a pipe: a DEBUG log must never block the bot on a full pipe.
        stdout=log,
        stderr=log,
    )


async def _wait_healthy(
    session: aiohttp.ClientSession, url: str, proc: subprocess.Popen[bytes], *, log: Path
) -> dict[str, str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(encoding="utf-8")
        try:
            async with session.get(url) as response:
                if response.status == 200:
                    body: dict[str, str] = await response.json()
                    return body
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("the bot never became healthy")


def _stop(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


@pytest.mark.slow
async def test_socket_mode_process_acks_over_the_socket_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "bot.log"
    with FakeSlack() as fake, log_path.open("wb") as log:
        proc = _start_bot(tmp_path, fake, port=port, log=log)
        try:
            async with aiohttp.ClientSession() as session:
                health = await _wait_healthy(session, f"{base}/healthz", proc, log=log_path)
                assert health["status"] == "ok"
                assert health["mode"] == "socket"
                # Socket Mode serves Slack over the websocket only: there is no Events endpoint.
                async with session.post(f"{base}/slack/events", data=b"{}") as response:
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
        finally:
            returncode = _stop(proc)
        # The bot closed its websocket itself on the way out (the fake is still serving here).
        assert [c.is_open for c in fake.socket_connections] == [False, False]
        assert [a.envelope_id for a in fake.acks] == [command["envelope_id"], retried["envelope_id"]]
        fake.assert_no_invalid_payloads()

    text = log_path.read_text(encoding="utf-8")
    assert returncode == 0, text
    assert '"message": "connected to Slack in Socket Mode"' in text
    assert text.rstrip().splitlines()[-1].endswith('"message": "stopped"}')
    assert APP_TOKEN not in text
    assert BOT_TOKEN not in text
    assert "xapp-" not in text


@pytest.mark.slow
async def test_socket_mode_process_stops_on_sigterm_while_it_cannot_connect(tmp_path: Path) -> None:
    log_path = tmp_path / "bot.log"
    with FakeSlack() as fake, log_path.open("wb") as log:
        # A revoked app token: the SDK logs the failure and retries until the process is stopped.
        fake.fail("apps.connections.open", error="invalid_auth", times=None)
        proc = _start_bot(tmp_path, fake, port=_free_port(), log=log)
        try:
            await fake.wait_for("apps.connections.open", timeout=30)
            deadline = time.monotonic() + 10
            while "Failed to connect" not in log_path.read_text(encoding="utf-8"):
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text(
                    encoding="utf-8"
                )
                await asyncio.sleep(0.05)
        finally:
            returncode = _stop(proc)
        assert fake.socket_connections == []

    text = log_path.read_text(encoding="utf-8")
    assert returncode == 0, text
    assert text.rstrip().splitlines()[-1].endswith('"message": "stopped"}')
    assert APP_TOKEN not in text
    assert BOT_TOKEN not in text


@pytest.mark.slow
async def test_socket_mode_process_acks_an_event_retry_but_handles_the_event_once(tmp_path: Path) -> None:
    log_path = tmp_path / "bot.log"
    with FakeSlack() as fake, log_path.open("wb") as log:
        proc = _start_bot(tmp_path, fake, port=_free_port(), log=log)
        try:
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
            deadline = time.monotonic() + 10
            while "duplicate event delivery ignored" not in log_path.read_text(encoding="utf-8"):
                assert time.monotonic() < deadline, log_path.read_text(encoding="utf-8")
                await asyncio.sleep(0.05)
        finally:
            returncode = _stop(proc)
        assert len(fake.calls_to("views.publish")) == 1

    text = log_path.read_text(encoding="utf-8")
    assert returncode == 0, text
    assert text.count('"message": "duplicate event delivery ignored: Ev0SOCKET01"') == 1


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
