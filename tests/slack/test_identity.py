"""``auth.test`` is asked while the bot starts, never before the ack of a request (issue 13, item 7).

Before: Bolt's single-workspace authorization asked ``auth.test`` on the first request that needed
it, before that request's listener could ack; a slow Slack delayed the first ack of every process.
"""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import SIGNING_SECRET
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.reliability.bot_process import BotConfig, start_bot, stopping


@pytest.mark.slow
async def test_auth_test_is_asked_at_start_not_by_the_first_request(tmp_path: Path) -> None:
    with FakeSlack() as fake:
        fake.fail("auth.test", delay=1.0)  # a slow Slack
        bot = start_bot(tmp_path, config=BotConfig(log_level="INFO"), api_url=fake.api_url)
        with stopping(bot):
            await bot.wait_healthy()
            sent = time.monotonic()
            async with aiohttp.ClientSession() as session:
                sender = SlackSender(session, secret=SIGNING_SECRET, url=bot.events_url)
                response = await sender.command(
                    payloads.slash_command("/sns-kpi", "help", response_url=fake.response_url("help"))
                )
                assert response.status == 200
            await fake.wait_for("response_url", timeout=10)
            calls = fake.calls_to("auth.test")
            assert len(calls) == 1
            assert calls[0].at < sent  # asked while starting, not because the request came
            assert bot.stop(timeout=30) == 0, bot.log_text()
