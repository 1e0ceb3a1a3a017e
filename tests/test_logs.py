"""Logs: one line per event, JSON when configured, and no secret ever reaches them."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logs import configure_logging
from tests.conftest import BOT_TOKEN, SIGNING_SECRET


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_are_redacted_in_messages_arguments_and_tracebacks(fmt: str, restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", fmt=fmt, secrets=[BOT_TOKEN, SIGNING_SECRET], stream=stream)
    log = logging.getLogger("bot.test")
    log.info("token is %s", BOT_TOKEN)
    log.warning(f"secret inline {SIGNING_SECRET}")
    log.info("unknown token shape xoxb-9999-8888-abcdefghijklmnop and xapp-1-A2-3-zzz")
    try:
        raise RuntimeError(f"auth failed for {BOT_TOKEN}")
    except RuntimeError:
        log.exception("call failed")

    out = stream.getvalue()
    assert BOT_TOKEN not in out
    assert SIGNING_SECRET not in out
    assert "xoxb-9999" not in out
    assert "xapp-1-A2" not in out
    assert out.count("**********") >= 5
    lines = out.strip().split("\n")
    assert len(lines) == 4  # one line per event, tracebacks folded
    if fmt == "json":
        records = [json.loads(line) for line in lines]
        assert records[0]["level"] == "INFO"
        assert records[0]["logger"] == "bot.test"
        assert "RuntimeError" in records[3]["exc"]
