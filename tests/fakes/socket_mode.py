"""The Socket Mode half of the Slack fake: `apps.connections.open` tickets and the websocket that says
`hello`, pushes envelopes and records the bot's acks (I/O; runs on FakeSlack's event loop).

Frames follow Slack's Socket Mode docs and what `slack_sdk.socket_mode.aiohttp.SocketModeClient` expects:
a JSON `hello` right after the upgrade, envelopes `{envelope_id, type, payload, accepts_response_payload,
retry_attempt, retry_reason}`, acks `{"envelope_id": ..., "payload": ...}` back, a JSON `disconnect`
frame (the client then asks `apps.connections.open` for a new URL), and websocket-level ping/pong
(aiohttp's `autoping` answers the client's `sdk-ping-pong:<t>` pings).
"""

from __future__ import annotations

import copy
import itertools
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import WSMsgType, web

from tests.fakes.payloads import API_APP_ID

Params = dict[str, Any]
EnvelopeType = Literal["slash_commands", "interactive", "events_api"]

#: Path of the websocket endpoint on the fake's server.
SOCKET_PATH = "/socket-mode"
_DEBUG_HOST = "applink-fake-0"


@dataclass(frozen=True, slots=True)
class Ack:
    """One acknowledgement the bot sent over the socket; `at` is `time.monotonic()`."""

    envelope_id: str
    payload: Params | None
    at: float
    connection: int


@dataclass(slots=True)
class Connection:
    """One websocket the bot opened; `closed_at` is `time.monotonic()` once it is gone."""

    number: int
    ticket: str
    opened_at: float
    closed_at: float | None = None
    ws: web.WebSocketResponse | None = field(default=None, repr=False)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None and self.ws is not None and not self.ws.closed


def envelope(
    kind: EnvelopeType,
    payload: Mapping[str, Any],
    *,
    envelope_id: str | None = None,
    accepts_response_payload: bool | None = None,
    retry_attempt: int = 0,
    retry_reason: str = "",
) -> Params:
    """A Socket Mode envelope around `payload` (pure).

    `payload` is what HTTP mode would POST: the slash command's form fields as a dict
    (`payloads.slash_command`), the interactive `payload` JSON, or the Events API body (`payloads.event`).
    Slack lets slash commands and interactivity answer in the ack, not events.
    """
    return {
        "envelope_id": envelope_id or str(uuid.uuid4()),
        "type": kind,
        "payload": copy.deepcopy(dict(payload)),
        "accepts_response_payload": (
            kind != "events_api" if accepts_response_payload is None else accepts_response_payload
        ),
        "retry_attempt": retry_attempt,
        "retry_reason": retry_reason,
    }


class SocketModeServer:
    """Issues websocket URLs, serves the websocket and records acks; FakeSlack owns one."""

    def __init__(self) -> None:
        self.connections: list[Connection] = []
        self._tickets: set[str] = set()
        self._numbers = itertools.count(1)
        self.forget()

    def forget(self) -> None:
        """Drop recorded acks and other frames (open connections stay open)."""
        self.acks: list[Ack] = []
        # Text frames from the bot that are not acks (Slack would ignore them; tests may look).
        self.other_frames: list[str] = []

    # ----------------------------------------------------------------- apps.connections.open

    def open_connection(self, *, authorization: str, ws_base: str) -> Params:
        """The `apps.connections.open` answer: a one-time websocket URL, for app-level tokens only."""
        token = authorization.removeprefix("Bearer ").strip()
        if not token:
            return {"ok": False, "error": "not_authed"}
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        ticket = str(uuid.uuid4())
        self._tickets.add(ticket)
        return {"ok": True, "url": f"{ws_base}{SOCKET_PATH}?ticket={ticket}&app_id={API_APP_ID}"}

    # ----------------------------------------------------------------- websocket

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            # Each URL from apps.connections.open is good for one connection only.
            return web.Response(status=403, text="invalid_ticket", content_type="text/plain")
        self._tickets.discard(ticket)
        # autoping answers the SDK's pings; `timeout` bounds the close handshake at shutdown.
        ws = web.WebSocketResponse(autoping=True, timeout=2.0)
        await ws.prepare(request)
        connection = Connection(next(self._numbers), ticket, time.monotonic(), ws=ws)
        self.connections.append(connection)
        try:
            await ws.send_json(
                {
                    "type": "hello",
                    "num_connections": sum(1 for c in self.connections if c.is_open),
                    "debug_info": {
                        "host": _DEBUG_HOST,
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": API_APP_ID},
                }
            )
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._receive(connection, message.data)
        finally:
            connection.closed_at = time.monotonic()
        return ws

    def _receive(self, connection: Connection, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            frame = None
        if isinstance(frame, dict) and "envelope_id" in frame:
            self.acks.append(
                Ack(str(frame["envelope_id"]), frame.get("payload"), time.monotonic(), connection.number)
            )
        else:
            self.other_frames.append(data)

    # ----------------------------------------------------------------- pushing (on the server's loop)

    def current(self) -> Connection:
        """The newest open connection: Slack delivers each envelope to one of the app's connections."""
        for connection in reversed(self.connections):
            if connection.is_open:
                return connection
        raise AssertionError(f"no open Socket Mode connection (had {len(self.connections)})")

    async def send(self, frame: Mapping[str, Any]) -> None:
        ws = self.current().ws
        assert ws is not None
        await ws.send_json(dict(frame))

    async def disconnect(self, reason: str) -> None:
        """Slack's `disconnect` frame (e.g. `refresh_requested`, `link_disabled`) on the current connection."""
        await self.send({"type": "disconnect", "reason": reason, "debug_info": {"host": _DEBUG_HOST}})

    async def close_all(self) -> None:
        for connection in self.connections:
            if connection.ws is not None and not connection.ws.closed:
                await connection.ws.close(code=1001, message=b"server shutting down")
