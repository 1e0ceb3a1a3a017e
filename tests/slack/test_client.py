"""The Web API client and ``respond``: the SDK's debug formatting stays off unless DEBUG is asked for."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.logs import configure_logging
from bot.slack.client import build_web_client, sdk_logger, without_retries
from bot.slack.posting import RetryingRespond
from tests.fakes.slack import FakeSlack


@pytest.fixture
def fresh_loggers() -> Iterator[None]:
    names = ("slack_sdk.web.async_client", "slack_sdk.webhook.async_client", "sdk-test")
    saved = {name: logging.getLogger(name).level for name in names}
    root_level, root_handlers = logging.getLogger().level, list(logging.getLogger().handlers)
    for name in names:
        logging.getLogger(name).setLevel(logging.NOTSET)
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)
    root = logging.getLogger()
    root.handlers[:] = root_handlers
    root.setLevel(root_level)


def test_clients_skip_the_sdk_debug_formatting_at_info(fresh_loggers: None) -> None:
    configure_logging(level="INFO", fmt="text", secrets=())
    client = build_web_client(token="xoxb-test", base_url="http://127.0.0.1:9/api/")
    # The SDK's own test before it formats a request's whole payload into a debug line.
    assert not client.logger.level <= logging.DEBUG
    assert not without_retries(client).logger.level <= logging.DEBUG


def test_debug_still_reaches_the_sdk_logger_when_asked_for(fresh_loggers: None) -> None:
    logging.getLogger("sdk-test").setLevel(logging.NOTSET)
    logging.getLogger().setLevel(logging.DEBUG)
    assert sdk_logger("sdk-test").level == logging.DEBUG
    logging.getLogger().setLevel(logging.INFO)
    assert sdk_logger("sdk-test").level == logging.DEBUG  # pinned once; an explicit level is kept


async def test_respond_posts_with_a_pinned_logger(
    fresh_loggers: None, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging(level="INFO", fmt="text", secrets=())
    seen: list[logging.Logger] = []
    original = AsyncWebhookClient.__init__

    def spy(self: AsyncWebhookClient, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        seen.append(self.logger)

    monkeypatch.setattr(AsyncWebhookClient, "__init__", spy)
    respond = RetryingRespond(response_url=fake_slack.response_url("pinned"))
    response = await respond(text="hello")
    assert response.status_code == 200
    assert (await fake_slack.wait_for("response_url"))[0].params["text"] == "hello"
    assert seen and all(not logger.level <= logging.DEBUG for logger in seen)
