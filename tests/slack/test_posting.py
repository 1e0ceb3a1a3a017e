"""``post_once`` looks for its post after an ambiguous failure and trusts only this bot's messages:
anyone in a channel can read a post's metadata and post a message carrying the same key."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.blocks import Message
from bot.slack.client import build_web_client
from bot.slack.posting import post_once
from tests.conftest import BOT_TOKEN, OPERATOR
from tests.fakes.payloads import BOT_ID
from tests.fakes.slack import FakeSlack

CHANNEL = "C0REVIEW01"


async def no_wait(_seconds: float) -> None:
    return None


@pytest.mark.parametrize("in_thread", [False, True], ids=["channel", "thread"])
async def test_a_message_with_a_copied_post_key_is_not_taken_for_the_post(
    fake_slack: FakeSlack, in_thread: bool
) -> None:
    client = build_web_client(token=BOT_TOKEN, base_url=fake_slack.api_url)
    parent = fake_slack.post_as(CHANNEL, text="依頼", user=OPERATOR) if in_thread else None

    def copied(params: dict[str, Any]) -> bool:
        # While the post fails (503, nothing stored), a person and another app post its key.
        for user, bot_id in ((OPERATOR, None), ("U0OTHERBOT", "B0OTHER01")):
            fake_slack.post_as(
                CHANNEL, text="copy", user=user, bot_id=bot_id, metadata=params["metadata"], thread_ts=parent
            )
        return True

    fake_slack.fail("chat.postMessage", status=503, times=1, when=copied)
    posted = await post_once(
        client, channel=CHANNEL, message=Message(text="レビュー依頼です"), thread_ts=parent, sleep=no_wait
    )

    ours = [m for m in fake_slack.messages(CHANNEL) if m.get("bot_id") == BOT_ID]
    assert [m["ts"] for m in ours] == [posted.ts]
    assert ours[0]["text"] == "レビュー依頼です"
    assert len(fake_slack.calls_to("chat.postMessage")) == 2  # the refused post and the real one
