"""SIGTERM on the real `sns-bot run` process: it stops taking requests at once, lets a listener that
already acked finish its work (here: a slow response_url), then exits 0 within the grace period."""

from __future__ import annotations

import asyncio
import json
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

from bot.app import SHUTDOWN_GRACE_SECONDS
from tests.conftest import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
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
#: How long the fake holds the response_url answer: the listener's work still running after its ack.
#: Far longer than the bot needs to close its listening socket, far shorter than the grace period.
SLOW_ANSWER_SECONDS = 3.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_bot(
    tmp_path: Path, fake: FakeSlack, *, port: int, log: IO[bytes], socket_mode: bool
) -> subprocess.Popen[bytes]:
    (tmp_path / "config.toml").write_text(CONFIG, encoding="utf-8")
    # slack_sdk honours *_PROXY but not NO_PROXY: drop them so calls reach the fake on 127.0.0.1.
    env = {
        k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY") and not k.startswith("SLACK_")
    }
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake.api_url, PORT=str(port), PYTHONPATH=str(ROOT))
    if socket_mode:
        env["SLACK_APP_TOKEN"] = APP_TOKEN
    else:
        env["SLACK_SIGNING_SECRET"] = SIGNING_SECRET
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(tmp_path / "config.toml")],
        cwd=tmp_path,
        env=env,
        stdout=log,  # files, not pipes: a DEBUG log must never block the bot on a full pipe
        stderr=log,
    )


async def _healthz_status(url: str) -> int | None:
    """The status of one GET on a fresh connection, or None when nothing accepts connections."""
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        try:
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                return response.status
        except (aiohttp.ClientConnectionError, TimeoutError):
            return None


async def _wait_healthz(url: str, *, up: bool, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if up:
            assert proc.poll() is None, log.read_text(encoding="utf-8")
        status = await _healthz_status(url)
        if (status == 200) if up else (status is None):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"/healthz never {'came up' if up else 'went away'}:\n{log.read_text(encoding='utf-8')}"
    )


def _wait_exit(proc: subprocess.Popen[bytes], *, timeout: float) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def _messages(log: Path) -> list[str]:
    lines = log.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["message"] for line in lines if line.startswith("{")]


@pytest.mark.slow
async def test_sigterm_in_http_mode_finishes_acked_work_then_exits(tmp_path: Path) -> None:
    port = _free_port()
    healthz = f"http://127.0.0.1:{port}/healthz"
    log_path = tmp_path / "bot.log"
    with FakeSlack() as fake, log_path.open("wb") as log:
        proc = _start_bot(tmp_path, fake, port=port, log=log, socket_mode=False)
        try:
            await _wait_healthz(healthz, up=True, proc=proc, log=log_path)
            fake.fail("response_url", delay=SLOW_ANSWER_SECONDS)  # a slow answer, not an error
            async with aiohttp.ClientSession() as session:
                sender = SlackSender(
                    session, secret=SIGNING_SECRET, url=f"http://127.0.0.1:{port}/slack/events"
                )
                fields = payloads.slash_command("/sns-kpi", "help", response_url=fake.response_url("slow"))
                acked = await sender.command(fields)
            assert acked.status == 200
            proc.send_signal(signal.SIGTERM)

            # No new requests from now on, while the acked listener is still waiting for Slack.
            await _wait_healthz(healthz, up=False, proc=proc, log=log_path)
            assert fake.answers_to("response_url") == []
            assert proc.poll() is None
        finally:
            returncode = _wait_exit(proc, timeout=SHUTDOWN_GRACE_SECONDS)
        # The answer reached a bot that was still connected, i.e. it did not die or give up first.
        answered = fake.answers_to("response_url")
        assert [(c.path, c.params["text"]) for c in answered] == [("/response/slow", HELP_TITLE)]
        fake.assert_no_invalid_payloads()

    messages = _messages(log_path)
    assert returncode == 0, "\n".join(messages)
    assert await _healthz_status(healthz) is None
    assert messages[-1] == "stopped"
    assert "shutting down: no new requests; waiting for work in progress" in messages
    assert not [m for m in messages if "still running after" in m]
    text = log_path.read_text(encoding="utf-8")
    assert BOT_TOKEN not in text
    assert SIGNING_SECRET not in text


@pytest.mark.slow
async def test_sigterm_in_socket_mode_closes_the_socket_first_and_finishes_acked_work(tmp_path: Path) -> None:
    port = _free_port()
    healthz = f"http://127.0.0.1:{port}/healthz"
    log_path = tmp_path / "bot.log"
    with FakeSlack() as fake, log_path.open("wb") as log:
        proc = _start_bot(tmp_path, fake, port=port, log=log, socket_mode=True)
        try:
            await _wait_healthz(healthz, up=True, proc=proc, log=log_path)
            connection = await fake.wait_for_socket()
            fake.fail("response_url", delay=SLOW_ANSWER_SECONDS)
            command = envelope(
                "slash_commands",
                payloads.slash_command("/sns-kpi", "help", response_url=fake.response_url("slow")),
            )
            await fake.socket_send(command)
            await fake.wait_for_ack(command["envelope_id"])
            proc.send_signal(signal.SIGTERM)

            # Slack must stop routing envelopes here (it sends them to the app's other connections)
            # while the acked listener is still waiting for its response_url.
            deadline = time.monotonic() + 10
            while connection.is_open:
                assert time.monotonic() < deadline, "the bot kept its websocket open while draining"
                await asyncio.sleep(0.02)
            await _wait_healthz(healthz, up=False, proc=proc, log=log_path)
            assert fake.answers_to("response_url") == []
            assert proc.poll() is None
        finally:
            returncode = _wait_exit(proc, timeout=SHUTDOWN_GRACE_SECONDS)
        answered = fake.answers_to("response_url")
        assert [(c.path, c.params["text"]) for c in answered] == [("/response/slow", HELP_TITLE)]
        assert len(fake.calls_to("apps.connections.open")) == 1  # closing is not a reason to reconnect
        fake.assert_no_invalid_payloads()

    messages = _messages(log_path)
    assert returncode == 0, "\n".join(messages)
    assert messages[-1] == "stopped"
    assert not [m for m in messages if "still running after" in m]
    text = log_path.read_text(encoding="utf-8")
    assert APP_TOKEN not in text
    assert BOT_TOKEN not in text
