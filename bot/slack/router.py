"""One Bolt listener per kind of request, dispatching to the features' handlers by id (Slack I/O edge).

Features register their handlers here with Bolt's own decorator shape (``router.action(id)(handler)``);
:meth:`Router.install` then gives Bolt a single listener per kind (commands, actions, view
submissions, shortcuts, events) whose pattern is exactly the registered ids, and which picks the
handler from a dict.

Why not register each handler with Bolt directly: for every request, Bolt asks each listener in
registration order whether it matches, and each asking builds the full set of injectable arguments
(``say``, ``respond``, the payload views, …) — about 25 µs a listener. With 22 listeners that was
0.3-0.5 ms of every request, as much as bare Bolt's whole dispatch. Here a request meets at most five.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[None]]


def _exactly(ids: list[str]) -> re.Pattern[str]:
    return re.compile("^(?:" + "|".join(re.escape(i) for i in ids) + ")$")


class Router:
    """Handlers by kind and id, installed on a Bolt app as one listener per kind."""

    def __init__(self) -> None:
        self._kinds: dict[str, dict[str, Handler]] = {
            "command": {},
            "action": {},
            "view": {},
            "shortcut": {},
            "event": {},
        }
        self._events: dict[str, list[Handler]] = {}

    def _register(self, kind: str, key: str) -> Callable[[Handler], Handler]:
        key = str(key)

        def add(handler: Handler) -> Handler:
            table = self._kinds[kind]
            if key in table:
                raise ValueError(f"two handlers for {kind} {key!r}")
            table[key] = handler
            return handler

        return add

    def command(self, name: str) -> Callable[[Handler], Handler]:
        return self._register("command", name)

    def action(self, action_id: str) -> Callable[[Handler], Handler]:
        return self._register("action", action_id)

    def view(self, callback_id: str) -> Callable[[Handler], Handler]:
        """A view submission (``view_submission``) with this ``callback_id``."""
        return self._register("view", callback_id)

    def shortcut(self, callback_id: str) -> Callable[[Handler], Handler]:
        return self._register("shortcut", callback_id)

    def event(self, event_type: str) -> Callable[[Handler], Handler]:
        """An Events API event type. Several features may listen to one type (e.g. ``message``: files
        dropped into the bot's DM, replies in a thread): each gets every event, in registration order."""
        key = str(event_type)

        def add(handler: Handler) -> Handler:
            self._events.setdefault(key, []).append(handler)
            return handler

        return add

    def ids(self, kind: str) -> frozenset[str]:
        return frozenset(self._events if kind == "event" else self._kinds[kind])

    def install(self, app: AsyncApp) -> None:
        """Give ``app`` one listener per kind that has handlers (events matched by exact type)."""
        commands, actions = self._kinds["command"], self._kinds["action"]
        views, shortcuts = self._kinds["view"], self._kinds["shortcut"]
        if commands:
            app.command(_exactly(list(commands)))(_dispatch(commands, lambda body: body.get("command")))
        if actions:
            app.action(_exactly(list(actions)))(
                _dispatch(actions, lambda body: ((body.get("actions") or [{}])[0]).get("action_id"))
            )
        if views:
            app.view(_exactly(list(views)))(
                _dispatch(views, lambda body: (body.get("view") or {}).get("callback_id"))
            )
        if shortcuts:
            app.shortcut(_exactly(list(shortcuts)))(
                _dispatch(shortcuts, lambda body: body.get("callback_id"))
            )
        if self._events:
            # One handler per type; several features listening to one type get it in turn.
            events = {t: hs[0] if len(hs) == 1 else _fan_out(hs) for t, hs in self._events.items()}
            app.event(_exactly(list(events)))(
                _dispatch(events, lambda body: (body.get("event") or {}).get("type"))
            )


def _fan_out(handlers: list[Handler]) -> Handler:
    """One handler handing an event to each feature that listens to its type, in turn (each handler
    is guarded: one feature's failure does not keep the event from the next)."""

    async def fan_out(**arguments: Any) -> None:
        for handler in handlers:
            await handler(**arguments)

    return fan_out


def _dispatch(table: dict[str, Handler], key: Callable[[dict[str, Any]], Any]) -> Handler:
    """The one listener of a kind: hands the request to the handler registered for its id.

    Its parameters are the ones every handler takes (:func:`bot.slack.errors.guard`'s), so Bolt
    builds the injected arguments once and they are passed on as they are.
    """

    async def dispatch(
        ack: Any,
        body: dict[str, Any],
        client: Any,
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
        handler = table.get(str(key(body)))
        if handler is None:  # e.g. a legacy attachment action whose callback_id matched the pattern
            log.warning("no handler for %r", key(body))
            await ack()
            return
        await handler(
            ack=ack,
            body=body,
            client=client,
            respond=respond,
            context=context,
            logger=logger,
            request=request,
            payload=payload,
            command=command,
            action=action,
            view=view,
            shortcut=shortcut,
            event=event,
            message=message,
            say=say,
        )

    return dispatch
