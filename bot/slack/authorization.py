"""Who the bot is in its workspace, for Bolt's ``authorize``: one ``auth.test`` asked at start-up, then
kept for the life of the process (Slack I/O).

Bolt's single-workspace default asks ``auth.test`` on the first request that needs it, *before* that
request's listener can ack: a slow Slack then delays the first ack of every process (issue 13: no
Slack call before an ack). Here :meth:`SlackAuthorization.load` runs while the bot starts; only when Slack
did not answer then does the first request ask (as Bolt would have).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import identity

log = logging.getLogger(__name__)


class SlackAuthorization:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._answer: dict[str, object] | None = None
        self._scopes: str | None = None
        self._loading: asyncio.Task[bool] | None = None

    @property
    def loaded(self) -> bool:
        return self._answer is not None

    async def load(self) -> bool:
        """Ask ``auth.test`` (once at a time); True when the bot's identity is known."""
        if self._answer is not None:
            return True
        if self._loading is None or self._loading.done():
            self._loading = asyncio.create_task(self._ask(), name="auth.test")
        return await asyncio.shield(self._loading)

    async def _ask(self) -> bool:
        try:
            response = await self._client.auth_test()
        except SlackApiError as exc:
            log.error("auth.test failed: %s", exc.response.get("error"))
            return False
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("auth.test failed: %s", type(exc).__name__)
            return False
        self._answer = dict(response.data) if isinstance(response.data, dict) else {}
        self._scopes = response.headers.get("x-oauth-scopes")
        identity.remember(self._client, self._answer)  # post look-backs use it: one auth.test a process
        return True

    def bolt_authorize(self) -> Callable[..., Awaitable[AuthorizeResult | None]]:
        """:meth:`authorize` as a plain function for ``AsyncApp(authorize=…)``.

        NOTE: Bolt passes ``authorize`` the arguments its signature names (``getfullargspec().args``),
        which for a bound method include ``self``: Bolt then passes ``self=None`` as well and the
        call fails with "got multiple values for argument 'self'" (slack_bolt 1.30.0).
        """

        async def authorize(user_id: str | None) -> AuthorizeResult | None:
            return await self.authorize(user_id)

        return authorize

    async def authorize(self, user_id: str | None) -> AuthorizeResult | None:
        """The bot token and identity for a request from ``user_id``."""
        if not await self.load():
            return None  # Bolt answers "authorization failed", as with its own default
        answer = self._answer or {}
        return AuthorizeResult(
            enterprise_id=_text(answer.get("enterprise_id")),
            team_id=_text(answer.get("team_id")),
            bot_id=_text(answer.get("bot_id")),
            bot_user_id=_text(answer.get("user_id")),
            bot_token=self._client.token,
            bot_scopes=self._scopes,
            user_id=user_id,
        )

    async def aclose(self) -> None:
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
            await asyncio.gather(self._loading, return_exceptions=True)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
