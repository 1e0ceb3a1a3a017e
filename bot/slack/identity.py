"""Who this bot is in Slack (``auth.test``: its bot id and bot user id), asked once per process (I/O).

Looking a message up after an ambiguous post (a digest, a review request) trusts only messages this
bot posted: message metadata is readable by anyone in the channel, so a person or another app could
post a message carrying a copied key, and recovery would then record *their* message as ours and
never post the real one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient


@dataclass(frozen=True, slots=True)
class Identity:
    bot_id: str
    user_id: str

    def posted(self, message: dict[str, Any]) -> bool:
        """Whether this bot posted ``message`` (from conversations.history / replies)."""
        return bool(self.bot_id) and message.get("bot_id") == self.bot_id

    def shared(self, message: dict[str, Any]) -> bool:
        """Whether this bot posted ``message`` or shared it as a file upload (Slack may show a bot's
        file share under its bot *user* without a ``bot_id``)."""
        return self.posted(message) or (bool(self.user_id) and message.get("user") == self.user_id)


#: (Web API base URL, token digest) → identity: one ``auth.test`` per workspace token and process.
#: A plain memo of an immutable fact (a token never changes its bot), filled on first use.
_KNOWN: dict[tuple[str, str], Identity] = {}


def _key(client: AsyncWebClient) -> tuple[str, str]:
    token = client.token or ""
    return client.base_url, hashlib.sha256(token.encode()).hexdigest()


def remember(client: AsyncWebClient, answer: dict[str, Any]) -> None:
    """Keep an ``auth.test`` answer asked elsewhere (the start-up one of
    :class:`~bot.slack.authorization.SlackAuthorization`), so this process never asks twice."""
    _KNOWN[_key(client)] = Identity(
        bot_id=str(answer.get("bot_id") or ""), user_id=str(answer.get("user_id") or "")
    )


async def own_identity(client: AsyncWebClient) -> Identity:
    """This bot's identity for ``client``'s token (``auth.test`` the first time; then from memory).

    Raises:
        SlackApiError, aiohttp.ClientError, TimeoutError: ``auth.test`` failed (nothing is cached).
    """
    key = _key(client)
    known = _KNOWN.get(key)
    if known is None:
        response = await client.auth_test()
        known = Identity(bot_id=str(response.get("bot_id") or ""), user_id=str(response.get("user_id") or ""))
        _KNOWN[key] = known
    return known
