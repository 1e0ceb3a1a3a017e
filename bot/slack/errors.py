"""Every listener's error boundary: a BotError becomes a localized answer, anything else is logged
with a reference the user can quote (Slack I/O).

Listeners are registered through :func:`guard` (via ``Deps.listener``), which answers errors
itself instead of letting them reach Bolt: Bolt's asyncio runner resets an acknowledged
response when a listener raises within its 10 ms ack poll, and Slack then sees a 404 although
the listener had acked (slack_bolt/listener/asyncio_runner.py). ``make_error_handler`` remains
the ``app.error`` fallback for failures outside listeners (middleware).
"""

from __future__ import annotations

import inspect
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
from bot.slack.gate import AfterAck
from bot.slack.locales import Locales
from bot.slack.posting import RetryingRespond
from bot.slack.verify import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureCheck

log = logging.getLogger(__name__)

ErrorHandler = Callable[..., Awaitable[BoltResponse | None]]

#: views.open errors that mean "the trigger id is no longer usable" (older than 3 s, or used already).
_TRIGGER_GONE = frozenset({"expired_trigger_id", "invalid_trigger_id", "trigger_exchanged"})


def _user_id(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if isinstance(user, dict):
        return user.get("id")
    return body.get("user_id")


def render_error(error: Exception, t: Translator) -> str:
    """The user-facing text for ``error``; unexpected errors are logged here with a reference."""
    if isinstance(error, BotError):
        log.info("refused: %s", error.key)
        return error.render(t)
    if isinstance(error, SlackApiError):
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        if code in _TRIGGER_GONE:
            # views.open came too late (a slow Slack, a 429 wait): the click itself did nothing.
            log.warning("a modal could not open: %s", code)
            return t("common.errors.form_expired")
        if error.response.status_code == 429 or error.response.status_code >= 500:
            log.warning("Slack failed after retries: HTTP %s", error.response.status_code)
            return t("common.errors.slack_unavailable")
    ref = uuid.uuid4().hex[:8]
    log.error("unexpected error ref=%s: %r", ref, error, exc_info=error)
    return t("common.errors.unexpected", ref=ref)


async def tell_user(
    client: AsyncWebClient, body: dict[str, Any], text: str, respond: Any | None = None
) -> None:
    """Say ``text`` to whoever triggered ``body``: ephemeral through ``response_url`` when there is
    one, else a direct message from the app. Events (nobody asked) are only logged."""
    if body.get("type") == "event_callback":
        return
    try:
        if body.get("response_url") and respond is not None:
            await respond(text=text, response_type="ephemeral", replace_original=False)
            return
        user_id = _user_id(body)
        if user_id:
            await client.chat_postMessage(channel=user_id, text=text)
    except SlackApiError as exc:  # the answer itself failed; the log has the original error
        log.warning("could not deliver an error message: %s", exc.response.get("error"))


async def reader_t(
    t: Translator, locales: Locales | None, body: dict[str, Any], *, acked: bool
) -> Translator:
    """The language of whoever triggered ``body``: before the ack from memory only (no Slack call),
    after it their own (bot.slack.locales, briefly); ``t`` (the configured one) without a resolver."""
    if locales is None or body.get("type") == "event_callback":  # events: nobody is answered
        return t
    user_id = _user_id(body)
    if not acked:
        return locales.known(user_id)
    return await locales.for_user(user_id, wait=_ANSWER_WAIT)


#: How long an error answer after the ack waits for the person's Slack locale.
_ANSWER_WAIT = 1.0


async def answer_error(
    error: Exception,
    *,
    t: Translator,
    ack: Any,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: Any,
    locales: Locales | None = None,
) -> None:
    """Acknowledge (if not yet) and tell the user what went wrong, in their language."""
    acked = ack is None or getattr(ack, "response", None) is not None
    text = render_error(error, await reader_t(t, locales, body, acked=acked))
    if not acked:
        if body.get("type") == "view_submission" and isinstance(error, BotError) and error.block_id:
            await ack(response_action="errors", errors={error.block_id: text})
            return
        if body.get("command"):
            await ack(text=text, response_type="ephemeral")
            return
        await ack()
    await tell_user(client, body, text, respond)


#: Every argument Bolt can inject into a listener that the boundary passes on.
_BOLT_ARGS = (
    "ack",
    "body",
    "client",
    "respond",
    "context",
    "logger",
    "request",
    "payload",
    "command",
    "action",
    "view",
    "shortcut",
    "event",
    "message",
    "say",
)


def guard(
    func: Callable[..., Awaitable[Any]],
    *,
    t: Translator,
    locales: Locales | None = None,
    gate: AfterAck | None = None,
    opens_modal: bool | Callable[[dict[str, Any]], bool] = False,
) -> Callable[..., Awaitable[None]]:
    """Wrap a listener so that no exception escapes into Bolt (see the module docstring); with
    ``gate``, its work after the ack waits for a turn (:mod:`bot.slack.gate`), urgently when it
    answers by opening a modal (``opens_modal``). Errors are told in the reader's language
    (``locales``), else in ``t``."""
    wanted = [a for a in inspect.getfullargspec(inspect.unwrap(func)).args if a not in ("self", "cls")]
    unknown = set(wanted) - set(_BOLT_ARGS)
    if unknown:
        raise TypeError(f"{func!r} asks for arguments the boundary does not pass: {sorted(unknown)}")

    async def guarded(
        ack: Any,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: Any,
        context: Any,
        logger: Any,
        request: Any,
        payload: Any,
        command: Any,
        action: Any,
        view: Any,
        shortcut: Any,
        event: Any,
        message: Any,
        say: Any,
    ) -> None:
        available = locals()
        urgent = opens_modal(body) if callable(opens_modal) else opens_modal
        gated = gate.ack_for(ack, urgent=urgent) if gate is not None else None
        if gated is not None:
            available["ack"] = gated
        try:
            if gated is not None and gated.response is not None:
                await gated.take_turn()  # Bolt acked before calling (Events API)
            await func(**{name: available[name] for name in wanted})
        except Exception as error:
            await answer_error(
                error, t=t, ack=available["ack"], body=body, client=client, respond=respond, locales=locales
            )
        finally:
            if gated is not None:
                gated.release()

    guarded.__name__ = getattr(func, "__name__", "listener")
    guarded.__qualname__ = getattr(func, "__qualname__", guarded.__name__)
    return guarded


def _proven(request: Any, check: SignatureCheck) -> bool:
    """Whether Bolt's request came over Socket Mode (Slack's own connection) or carries a valid
    signature; the error handler may run for a request Bolt never verified (its verifier raised)."""
    if getattr(request, "mode", None) == "socket_mode":
        return True
    headers = getattr(request, "headers", None) or {}
    raw = getattr(request, "raw_body", "")
    try:
        body = raw.encode() if isinstance(raw, str) else bytes(raw)
    except (TypeError, UnicodeEncodeError):
        return False
    return check.verify(
        timestamp=headers.get(TIMESTAMP_HEADER.lower(), []),
        signature=headers.get(SIGNATURE_HEADER.lower(), []),
        body=body,
    )


def make_error_handler(
    t: Translator, *, check: SignatureCheck, locales: Locales | None = None
) -> ErrorHandler:
    """The ``app.error`` fallback for failures outside listeners (e.g. middleware).

    It answers only a request proven to come from Slack, and only through a ``respond`` the
    middleware vetted (:class:`~bot.slack.posting.RetryingRespond`): Bolt may call it for a request
    whose verification raised, with a context built from the unverified body.
    """

    async def handle_error(
        error: Exception,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: Any,
        context: Any,
        request: Any,
    ) -> BoltResponse | None:
        if not _proven(request, check):
            log.warning("refused a request not signed by Slack after %s", type(error).__name__)
            return BoltResponse(status=401, body=json.dumps({"error": "invalid request"}))
        ack = context.get("ack")
        acked = ack is not None and getattr(ack, "response", None) is not None
        text = render_error(error, await reader_t(t, locales, body, acked=acked))
        kind = body.get("type")
        if kind == "view_submission" and not acked and isinstance(error, BotError) and error.block_id:
            payload = {"response_action": "errors", "errors": {error.block_id: text}}
            return BoltResponse(
                status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
            )
        if body.get("command") and not acked:
            return BoltResponse(status=200, body=text)
        await tell_user(client, body, text, respond if isinstance(respond, RetryingRespond) else None)
        if kind == "view_submission" and not acked:
            return BoltResponse(status=200, body="")
        return None

    return handle_error
