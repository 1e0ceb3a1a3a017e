"""SIGTERM on the real `sns-bot run` process: it stops taking requests at once, lets a listener that
already acked finish its work (here: a slow response_url), then exits 0 within the grace period."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from bot.app import SHUTDOWN_GRACE_SECONDS
from tests.conftest import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.fakes.socket_mode import envelope
from tests.reliability.bot_process import BotConfig, start_bot, stopping

HELP_TITLE = "SNS 指標の使い方"
#: How long the fake holds the response_url answer: the listener's work still running after its ack.
#: Far longer than the bot needs to close its listening socket, far shorter than the grace period.
SLOW_ANSWER_SECONDS = 3.0


@pytest.mark.slow
async def test_sigterm_in_http_mode_finishes_acked_work_then_exits(tmp_path: Path) -> None:
    with FakeSlack() as fake:
        bot = start_bot(tmp_path, config=BotConfig(), api_url=fake.api_url)
        with stopping(bot):
            await bot.wait_healthy()
            fake.fail("response_url", delay=SLOW_ANSWER_SECONDS)  # a slow answer, not an error
            async with aiohttp.ClientSession() as session:
                sender = SlackSender(session, secret=SIGNING_SECRET, url=bot.events_url)
                fields = payloads.slash_command("/sns-kpi", "help", response_url=fake.response_url("slow"))
                acked = await sender.command(fields)
            assert acked.status == 200
            bot.terminate()

            # No new requests from now on, while the acked listener is still waiting for Slack.
            await bot.wait_healthz_gone()
            assert fake.answers_to("response_url") == []
            assert bot.proc.poll() is None
            returncode = bot.wait(timeout=SHUTDOWN_GRACE_SECONDS)
        # The answer reached a bot that was still connected, i.e. it did not die or give up first.
        answered = fake.answers_to("response_url")
        assert [(c.path, c.params["text"]) for c in answered] == [("/response/slow", HELP_TITLE)]
        fake.assert_no_invalid_payloads()

    messages = bot.messages()
    assert returncode == 0, "\n".join(messages)
    assert await bot.healthz_status() is None
    assert messages[-1] == "stopped"
    assert "shutting down: no new requests; waiting for work in progress" in messages
    assert not [m for m in messages if "still running after" in m]
    text = bot.log_text()
    assert BOT_TOKEN not in text
    assert SIGNING_SECRET not in text


@pytest.mark.slow
async def test_sigterm_in_socket_mode_closes_the_socket_first_and_finishes_acked_work(tmp_path: Path) -> None:
    with FakeSlack() as fake:
        bot = start_bot(tmp_path, config=BotConfig(), api_url=fake.api_url, socket_mode=True)
        with stopping(bot):
            await bot.wait_healthy()
            connection = await fake.wait_for_socket()
            fake.fail("response_url", delay=SLOW_ANSWER_SECONDS)
            command = envelope(
                "slash_commands",
                payloads.slash_command("/sns-kpi", "help", response_url=fake.response_url("slow")),
            )
            await fake.socket_send(command)
            await fake.wait_for_ack(command["envelope_id"])
            bot.terminate()

            # Slack must stop routing envelopes here (it sends them to the app's other connections)
            # while the acked listener is still waiting for its response_url.
            deadline = time.monotonic() + 10
            while connection.is_open:
                assert time.monotonic() < deadline, "the bot kept its websocket open while draining"
                await asyncio.sleep(0.02)
            await bot.wait_healthz_gone()
            assert fake.answers_to("response_url") == []
            assert bot.proc.poll() is None
            returncode = bot.wait(timeout=SHUTDOWN_GRACE_SECONDS)
        answered = fake.answers_to("response_url")
        assert [(c.path, c.params["text"]) for c in answered] == [("/response/slow", HELP_TITLE)]
        assert len(fake.calls_to("apps.connections.open")) == 1  # closing is not a reason to reconnect
        fake.assert_no_invalid_payloads()

    messages = bot.messages()
    assert returncode == 0, "\n".join(messages)
    assert messages[-1] == "stopped"
    assert not [m for m in messages if "still running after" in m]
    text = bot.log_text()
    assert APP_TOKEN not in text
    assert BOT_TOKEN not in text
