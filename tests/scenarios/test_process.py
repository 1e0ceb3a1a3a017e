"""The real `sns-bot run` process: migrates, serves signed requests, answers through the Slack API
it is pointed at, turns 503 without its database, stops cleanly on SIGTERM, leaks no secret."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bot_env(fake: FakeSlack, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.api_url,
        PORT=str(port),
        PYTHONPATH=str(ROOT),
    )
    env.pop("SLACK_APP_TOKEN", None)
    return env


async def _wait_healthy(session: aiohttp.ClientSession, base: str, proc: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 30:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "bot exited"
        try:
            async with session.get(f"{base}/healthz") as response:
                if response.status == 200:
                    return time.monotonic() - started
        except aiohttp.ClientError:
            pass
        await _sleep(0.1)
    raise AssertionError("the bot never became healthy")


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


@pytest.mark.slow
async def test_sns_bot_run_serves_signed_commands_and_stops_cleanly(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(CONFIG, encoding="utf-8")
    port = _free_port()
    with FakeSlack() as fake:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(tmp_path / "config.toml")],
            cwd=tmp_path,
            env=_bot_env(fake, port),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as session:
                await _wait_healthy(session, base, proc)
                sender = SlackSender(session, secret=SIGNING_SECRET, url=f"{base}/slack/events")

                response = await sender.command(
                    payloads.slash_command("/sns-kpi", "help", response_url=fake.response_url("help"))
                )
                assert response.status == 200
                assert response.elapsed < 3.0  # Slack's hard limit for an acknowledgement
                calls = await fake.wait_for("response_url", timeout=10)
                assert calls[0].params["text"] == "SNS 指標の使い方"
                assert [c.method for c in fake.calls_to("auth.test")] == ["auth.test"]

                stale = await sender.command(
                    payloads.slash_command("/sns-kpi", "help", response_url=fake.response_url("stale")),
                    timestamp=int(time.time()) - 600,
                )
                assert stale.status == 401
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                _, stderr = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
    log = stderr.decode()
    assert proc.returncode == 0, log
    assert BOT_TOKEN not in log
    assert SIGNING_SECRET not in log
    assert '"message": "stopped"' in log
    assert (tmp_path / "bot.db").exists()  # migrated on start


def test_run_refuses_to_start_without_its_secrets(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(CONFIG, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(tmp_path / "config.toml")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "$SLACK_BOT_TOKEN: 設定されていません" in result.stderr
    assert "$SLACK_SIGNING_SECRET" in result.stderr
