"""Bolt middleware that restores slash-command bodies Bolt mis-parses (Slack I/O edge, no feature logic)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest


async def reparse_command_body(req: AsyncBoltRequest, next: Callable[[], Awaitable[Any]]) -> Any:
    """Give back a slash command whose text contains the word "payload" (``/sns-review payload …``).

    NOTE: slack_bolt's ``parse_body`` treats any form body containing "payload" as an
    interactivity payload and, finding no ``payload=`` field, parses it to ``{}``: the command
    would go unanswered. The raw body is still there, so parse it again as the form it is.
    """
    raw = req.raw_body
    if not req.body and raw and not raw.startswith("{"):
        fields = dict(parse_qsl(raw, keep_blank_values=True))
        if "command" in fields and "payload" not in fields:
            req.body = fields
            req.context = build_async_context(req.context, fields)
            # Bolt built these from the empty body when it injected this middleware's arguments.
            for cached in ("respond", "say"):
                req.context.pop(cached, None)
    return await next()
