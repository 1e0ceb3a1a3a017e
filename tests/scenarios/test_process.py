"""The real `sns-bot run` process: migrates, serves signed requests, answers through the Slack API
it is pointed at, turns 503 without its database, stops cleanly on SIGTERM, leaks no secret."""

from __future__ import annotations

import os
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
from tests.reliability.bot_process import ROOT, BotConfig, start_bot, stopping

CONFIG = BotConfig()


@pytest.mark.slow
async def test_sns_bot_run_serves_signed_commands_and_stops_cleanly(tmp_path: Path) -> None:
    with FakeSlack() as fake:
        bot = start_bot(tmp_path, config=CONFIG, api_url=fake.api_url)
        with stopping(bot):
            await bot.wait_healthy()
            async with aiohttp.ClientSession() as session:
                sender = SlackSender(session, secret=SIGNING_SECRET, url=bot.events_url)

                response = await sender.command(
                    payloads.slash_command("/sns-kpi", "help", response_url=fake.response_url("help"))
                )
                assert response.status == 200
                calls = await fake.wait_for("response_url", timeout=10)
                assert calls[0].params["text"] == "SNS 指標の使い方"
                assert [c.method for c in fake.calls_to("auth.test")] == ["auth.test"]

                stale = await sender.command(
                    payloads.slash_command("/sns-kpi", "help", response_url=fake.response_url("stale")),
                    timestamp=int(time.time()) - 600,
                )
                assert stale.status == 401
            returncode = bot.stop(timeout=30)
    log = bot.log_text()
    assert returncode == 0, log
    assert BOT_TOKEN not in log
    assert SIGNING_SECRET not in log
    assert bot.messages()[-1] == "stopped"
    assert (tmp_path / "bot.db").exists()  # migrated on start
    # No platform token: no collector job (and no client for the platform APIs is built).
    assert (
        "no platform collectors configured (no API tokens set); metrics collection is off" in bot.messages()
    )
    # weekly, monthly, the digest sweep, the reminder sweep, the outbox sweep, the key prune,
    # milestone detection and participation nudges (pace alerts are off without a channel)
    assert "scheduler started with 8 job(s)" in bot.messages()


@pytest.mark.slow
async def test_a_platform_token_schedules_the_collector_and_a_restart_does_not_migrate(
    tmp_path: Path,
) -> None:
    """With ``X_BEARER_TOKEN`` set the daily collection is scheduled; a store already at the newest
    migration is not migrated again (only the first start says "database migrated")."""
    token = "AAAAAAAAAAAAAAAAAAAAAtest-x-bearer-token-0001"
    with FakeSlack() as fake:
        for start in range(2):
            bot = start_bot(tmp_path, config=CONFIG, api_url=fake.api_url, env={"X_BEARER_TOKEN": token})
            with stopping(bot):
                await bot.wait_healthy()
                assert bot.stop(timeout=30) == 0, bot.log_text()
            messages = bot.messages()
            assert "scheduler started with 9 job(s)" in messages, bot.log_text()
            assert token not in bot.log_text()
            assert ("database migrated" in messages) == (start == 0)


def test_run_refuses_to_start_without_its_secrets(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(CONFIG.toml(), encoding="utf-8")
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
