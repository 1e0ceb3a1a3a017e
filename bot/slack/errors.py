"""The one error handler for every listener: a BotError becomes a localized answer, anything else
is logged with a reference the user can quote (Slack I/O)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import BotError
from bot.i18n import Translator

log = logging.getLogger(__name__)

ErrorHandler = Callable[..., Awaitable[BoltResponse | None]]


def _user_id(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if isinstance(user, dict):
        return user.get("id")
    return body.get("user_id")


async def tell_user(
    client: AsyncWebClient, body: dict[str, Any], text: str, respond: Any | None = None
) -> None:
    """Say ``text`` to whoever triggered ``body``: ephemeral through ``response_url`` when there is
    one, else a direct message from the app."""
    if body.get("response_url") and respond is not None:
        await respond(text=text, response_type="ephemeral", replace_original=False)
        return
    user_id = _user_id(body)
    if user_id:
        await client.chat_postMessage(channel=user_id, text=text)


def make_error_handler(t: Translator) -> ErrorHandler:
    """The ``app.error`` handler, rendering in ``t``'s locale."""

    async def handle_error(
        error: Exception, body: dict[str, Any], client: AsyncWebClient, respond: Any, context: Any
    ) -> BoltResponse | None:
        if isinstance(error, BotError):
            text = error.render(t)
            log.info("refused: %s", error.key)
        else:
            ref = uuid.uuid4().hex[:8]
            text = t("common.errors.unexpected", ref=ref)
            log.error("unexpected error ref=%s: %r", ref, error, exc_info=error)
        acked = context.get("ack") is not None and getattr(context["ack"], "response", None) is not None
        kind = body.get("type")
        if kind == "view_submission" and not acked:
            if isinstance(error, BotError) and error.block_id:
                payload = {"response_action": "errors", "errors": {error.block_id: text}}
                return BoltResponse(
                    status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
                )
        if body.get("command") and not acked:
            return BoltResponse(status=200, body=text)
        try:
            await tell_user(client, body, text, respond)
        except SlackApiError as exc:  # the answer itself failed; the log has the original error
            log.warning("could not deliver an error message: %s", exc.response.get("error"))
        if kind == "view_submission" and not acked:
            return BoltResponse(status=200, body="")
        return None

    return handle_error
