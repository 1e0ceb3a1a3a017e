"""A small, stateful fake of the Slack Web API (aiohttp) that records every call the bot makes (I/O).

Use it in the test's loop (`async with FakeSlack() as slack:`) or in its own thread (`slack.start_in_thread()`
... `slack.stop()`) when the bot runs as a subprocess or uses a sync client. Point the bot at `slack.api_url`
(`AsyncWebClient(base_url=slack.api_url)` or `SLACK_API_URL`) and its `response_url`s at
`slack.response_url(...)`.

NOTE: slack_sdk applies `HTTPS_PROXY`/`HTTP_PROXY` to its clients and ignores `NO_PROXY`, so with a proxy set
in the environment, calls to 127.0.0.1 would go to the proxy. Clear both variables for the bot (and the
test process) when talking to this fake.

Socket Mode: `apps.connections.open` (app-level `xapp-` token only) hands out a `ws://` URL on this server;
`await slack.wait_for_socket()`, then `await slack.socket_send(socket_mode.envelope(...))` and
`await slack.wait_for_ack(envelope_id)` (see `tests.fakes.socket_mode`). These helpers work from the test's
loop whether the fake serves in the same loop or in its own thread.

Answers follow /work/shared/slack/README.md §3.4. Every `blocks` and `view` argument is checked with slack_sdk
models (`tests.fakes.blockkit`); invalid ones get Slack's `ok:false` answer and land in `invalid_payloads`.
Faults (`fail`) are decided before a method runs, so a failed call never changes the fake's state; the one
exception is `hold`, which lets the call take effect and then withholds its answer.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Self
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes import blockkit
from tests.fakes.payloads import API_APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID
from tests.fakes.socket_mode import SOCKET_PATH, Ack, Connection, SocketModeServer

SCOPES = (
    "chat:write,chat:write.public,commands,im:write,files:write,channels:history,usergroups:read,users:read,"
    "files:read,im:history"
)
#: What Slack serves instead of a file to a request without a usable token: its sign-in page, as a 200.
_SIGN_IN_PAGE = "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"
# Keys that clients send as JSON strings inside form bodies or query strings.
_JSON_FIELDS = frozenset({"blocks", "attachments", "files", "view", "metadata"})
_TEXT_FALLBACK_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral"})
_HTML_ERROR = "<html><head><title>{status}</title></head><body><h1>{status} Server Error</h1></body></html>"

Params = dict[str, Any]
Predicate = Callable[[Params], bool]


@dataclass(frozen=True, slots=True)
class Call:
    """One request received by the fake; `at` is `time.monotonic()` (compare calls for pacing)."""

    method: str
    params: Params
    headers: dict[str, str]
    at: float
    path: str = ""


@dataclass(frozen=True, slots=True)
class Violation:
    """A payload Slack would reject (or, for a missing `text` fallback, accept but should not get)."""

    method: str
    error: str
    messages: tuple[str, ...]
    params: Params


@dataclass(slots=True)
class _Fault:
    method: str
    status: int | None  # None: answer normally after `delay` (a slow answer)
    error: str
    retry_after: int
    delay: float
    drop: bool
    remaining: int | None
    when: Predicate | None
    hold: float = 0.0  # the call takes effect, then its answer waits this long


# The call a request was recorded as, so the answer can be matched to it.
_CALL_KEY = web.RequestKey("fake_call", Call)
# How long a `hold` fault keeps the answer of this request back, after the method ran.
_HOLD_KEY = web.RequestKey("fake_hold", float)


def _truthy(value: Any) -> bool:
    # slack_sdk sends booleans as "1"/"0" in forms and query strings; JSON bodies carry real booleans.
    return value in (True, 1, "1", "true", "True")


def _ts_key(ts: Any) -> Decimal:
    return Decimal(str(ts))


class FakeSlack:
    """The fake Web API server. State is public and plain so tests can read it directly."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.usergroups: dict[str, list[str]] = {}
        # Per-user overrides merged into the users.info answer, e.g. {"U1": {"locale": "en-US"}}.
        self.users: dict[str, dict[str, Any]] = {}
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.socket = SocketModeServer()
        self.reset()
        self._handlers: dict[str, Callable[[Params], Params]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": lambda p: {"ok": True, "message_ts": self._next_ts()},
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "views.open": self._views_new,
            "views.push": self._views_new,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "files.info": self._files_info,
            "files.delete": self._files_delete,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroups_users_list,
            "reactions.add": self._reactions_add,
        }

    # ----------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        if not self._port:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL, with the trailing slash slack_sdk expects."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        """A `response_url` served by the fake; POSTs to it are recorded as method `"response_url"`."""
        return f"{self.base_url}/response/{name}"

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        app = web.Application(middlewares=[self._note_answer])
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{name}", self._handle_response_url)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_get("/files-pri/{file_id}/download/{name}", self._handle_download)
        app.router.add_get(SOCKET_PATH, self.socket.handle)
        # Short shutdown: a test may leave a `delay` fault sleeping; do not wait a minute for it.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))  # bind first, so the port is known before serving
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        # Open websockets would otherwise hold the runner's shutdown until its timeout.
        await self.socket.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def start_in_thread(self) -> Self:
        """Serve from a daemon thread with its own event loop; returns once the port is bound."""
        loop = asyncio.new_event_loop()
        started = threading.Event()
        errors: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # handed to the starting thread below
                errors.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self.close())
            loop.close()

        self._thread_loop = loop
        self._thread = threading.Thread(target=serve, name="fake-slack", daemon=True)
        self._thread.start()
        if not started.wait(timeout=10) or errors:
            raise RuntimeError("FakeSlack failed to start") from (errors[0] if errors else None)
        return self

    def stop(self) -> None:
        """Stop a server started with `start_in_thread`."""
        if self._thread is None or self._thread_loop is None:
            return
        self._thread_loop.call_soon_threadsafe(self._thread_loop.stop)
        self._thread.join(timeout=10)
        self._thread = self._thread_loop = None

    def __enter__(self) -> Self:
        return self.start_in_thread()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- test helpers

    def reset(self) -> None:
        """Forget calls, faults, violations, messages, views and files (keeps `usergroups` and `users`)."""
        self.calls: list[Call] = []
        self.answered: list[Call] = []
        self.socket.forget()
        self.invalid_payloads: list[Violation] = []
        self.views: dict[str, Params] = {}
        self.files: dict[str, Params] = {}
        self.uploads: dict[str, bytes] = {}
        #: The token a file download must carry (``Authorization: Bearer …``); ``None``: any ``xoxb-``.
        self.download_token: str | None = None
        self.deleted_files: list[str] = []
        self._faults: list[_Fault] = []
        self._messages: dict[str, list[Params]] = {}
        self._home_views: dict[str, str] = {}
        self._reactions: set[tuple[str, str, str]] = set()
        self._last_micros = 0
        self._ids = itertools.count(1)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in list(self.calls) if call.method == method]

    def answers_to(self, method: str) -> list[Call]:
        """Calls to `method` whose answer went to a client still connected (it did not give up or die)."""
        return [call for call in list(self.answered) if call.method == method]

    async def wait_for(self, method: str, *, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until `method` has been called `count` times; return those calls."""
        deadline = time.monotonic() + timeout
        while len(found := self.calls_to(method)) < count:
            if time.monotonic() > deadline:
                seen = [call.method for call in self.calls]
                raise AssertionError(
                    f"{method} called {len(found)}x, expected {count} within {timeout}s; saw {seen}"
                )
            await asyncio.sleep(0.01)
        return found[:count]

    def messages(self, channel: str) -> list[Params]:
        """Every message stored in `channel` (thread replies and file shares included), oldest first."""
        return copy.deepcopy(self._messages.get(channel, []))

    def post_as(
        self,
        channel: str,
        *,
        text: str,
        user: str,
        bot_id: str | None = None,
        metadata: Params | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """Store a message that someone other than the bot posted: a person (``user``), or another
        app (its ``bot_id`` and bot user); returns its ts. The bot's own calls never produce these."""
        message: Params = {
            "type": "message",
            "text": text,
            "ts": self._next_ts(),
            "user": user,
            "team": TEAM_ID,
        }
        if bot_id is not None:
            message.update(subtype="bot_message", bot_id=bot_id)
        if metadata is not None:
            message["metadata"] = copy.deepcopy(metadata)
        self._store(channel, message, thread_ts)
        return str(message["ts"])

    def share_file(
        self, *, user: str, channel: str, name: str, content: bytes, mimetype: str = "text/csv"
    ) -> Params:
        """A file someone uploaded to ``channel`` (a DM with the bot): stored with its bytes, served by
        ``files.info`` and by its ``url_private_download`` on this server; returns the file object as
        the ``message``/``file_share`` event carries it."""
        file_id = f"F0FILE{next(self._ids):04d}"
        url = f"{self.base_url}/files-pri/{TEAM_ID}-{file_id}/download/{name}"
        info: Params = {
            "id": file_id,
            "created": int(self._clock()),
            "timestamp": int(self._clock()),
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": name.rsplit(".", 1)[-1] if "." in name else "text",
            "pretty_type": "CSV",
            "user": user,
            "user_team": TEAM_ID,
            "editable": False,
            "size": len(content),
            "mode": "hosted",
            "is_external": False,
            "is_public": False,
            "public_url_shared": False,
            "url_private": url.replace("/download/", "/"),
            "url_private_download": url,
            "permalink": f"https://acme.slack.com/files/{user}/{file_id}/{name}",
            "has_rich_preview": False,
            "file_access": "visible",
            "channels": [],
            "groups": [],
            "ims": [channel],
            "comments_count": 0,
        }
        self.files[file_id] = info
        self.uploads[file_id] = content
        self._store(
            channel,
            {
                "type": "message",
                "subtype": "file_share",
                "text": "",
                "user": user,
                "files": [info],
                "ts": self._next_ts(),
            },
            None,
        )
        return copy.deepcopy(info)

    def assert_no_invalid_payloads(self) -> None:
        """For fixture teardown: fail with Slack's error lines if the bot sent anything Slack rejects."""
        if self.invalid_payloads:
            lines = [f"{v.method}: {v.error}: {'; '.join(v.messages)}" for v in self.invalid_payloads]
            raise AssertionError("invalid Slack payloads:\n" + "\n".join(lines))

    def fail(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int | None = None,
        retry_after: int = 1,
        delay: float = 0.0,
        drop: bool = False,
        times: int | None = 1,
        when: Predicate | None = None,
        hold: float = 0.0,
    ) -> None:
        """Make the next `times` calls to `method` (all calls when None) fail; `when(params)` scopes it.

        - `fail(m)` or `fail(m, status=429, retry_after=0)`: HTTP 429 `ratelimited`, integer `Retry-After`.
        - `fail(m, error="channel_not_found")`: HTTP 200 `{"ok": false, "error": ...}`.
        - `fail(m, status=500)` / `503`: an HTML error page.
        - `fail(m, delay=2.0)`: a slow but normal answer; combine `delay` with an error for a slow failure.
        - `fail(m, drop=True)`: the connection is closed without an answer (a reset for the client).
        - `fail(m, hold=30.0)`: the call takes effect (a message is stored) and only then is its normal
          answer held back for 30 s: Slack did the work, but a client that dies or gives up in between
          never learns it (e.g. a crash between posting and recording the ts).
        """
        if drop or (status is None and error is None and (delay > 0 or hold > 0)):
            resolved_status, resolved_error = None, ""
        else:
            resolved_error = error or "ratelimited"
            resolved_status = status or (429 if resolved_error == "ratelimited" else 200)
        self._faults.append(
            _Fault(method, resolved_status, resolved_error, retry_after, delay, drop, times, when, hold)
        )

    # ----------------------------------------------------------------- Socket Mode helpers

    @property
    def acks(self) -> list[Ack]:
        """Every ack the bot sent over Socket Mode, oldest first."""
        return list(self.socket.acks)

    @property
    def socket_connections(self) -> list[Connection]:
        """Every websocket the bot opened, oldest first (closed ones included)."""
        return list(self.socket.connections)

    async def wait_for_socket(self, *, count: int = 1, timeout: float = 10.0) -> Connection:
        """Wait until the bot has opened `count` websockets in all and the newest is open; return it."""
        deadline = time.monotonic() + timeout
        while len(self.socket.connections) < count or not self.socket.connections[-1].is_open:
            if time.monotonic() > deadline:
                opened = len(self.socket.connections)
                raise AssertionError(
                    f"{opened} Socket Mode connection(s), expected {count} within {timeout}s"
                )
            await asyncio.sleep(0.01)
        return self.socket.connections[-1]

    async def socket_send(self, envelope: Mapping[str, Any]) -> None:
        """Push one envelope (`socket_mode.envelope(...)`) to the bot's newest open connection."""
        await self._on_server_loop(self.socket.send(envelope))

    async def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's `disconnect` frame; the bot should fetch a new URL and reconnect."""
        await self._on_server_loop(self.socket.disconnect(reason))

    async def wait_for_ack(self, envelope_id: str, *, timeout: float = 5.0) -> Ack:
        """Wait for the bot's ack of `envelope_id` and return it."""
        deadline = time.monotonic() + timeout
        while (
            ack := next((a for a in list(self.socket.acks) if a.envelope_id == envelope_id), None)
        ) is None:
            if time.monotonic() > deadline:
                seen = [a.envelope_id for a in self.socket.acks]
                raise AssertionError(f"no ack for {envelope_id} within {timeout}s; acked {seen}")
            await asyncio.sleep(0.01)
        return ack

    async def _on_server_loop(self, work: Coroutine[Any, Any, None]) -> None:
        # Websockets belong to the loop that serves them; a threaded fake runs its own loop.
        if self._loop is None:
            work.close()
            raise RuntimeError("FakeSlack is not started")
        if self._loop is asyncio.get_running_loop():
            await work
        else:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))

    # ----------------------------------------------------------------- HTTP plumbing

    @web.middleware
    async def _note_answer(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        call = request.get(_CALL_KEY)
        if call is not None and request.transport is not None and not request.transport.is_closing():
            self.answered.append(call)
        return response

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await self._read_params(request)
        self._record(method, params, request)
        faulted = await self._apply_fault(method, params, request)
        if faulted is not None:
            return faulted
        rejected = self._validate(method, params)
        if rejected is not None:
            return web.json_response(rejected)
        handler = self._handlers.get(method)
        if method == "apps.connections.open":  # the only method that looks at which token is used
            ws_base = self.base_url.replace("http://", "ws://", 1)
            body = self.socket.open_connection(
                authorization=request.headers.get("Authorization", ""), ws_base=ws_base
            )
        else:
            body = handler(params) if handler is not None else {"ok": True}
        headers = {"x-oauth-scopes": SCOPES} if method == "auth.test" else None
        if hold := request.get(_HOLD_KEY, 0.0):
            await asyncio.sleep(hold)
        return web.json_response(body, headers=headers)

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        params = await self._read_params(request)
        self._record("response_url", params, request)
        faulted = await self._apply_fault("response_url", params, request)
        if faulted is not None:
            return faulted
        if self._validate("response_url", params) is not None:
            return web.Response(status=400, text="invalid_blocks", content_type="text/plain")
        return web.Response(text="ok", content_type="text/plain")

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        """``url_private_download``: the bytes for a bot token, Slack's sign-in page (a 200) without one."""
        file_id = request.match_info["file_id"].rsplit("-", 1)[-1]
        auth = request.headers.get("Authorization", "")
        self._record("download", {"file_id": file_id}, request)
        faulted = await self._apply_fault("download", {"file_id": file_id}, request)
        if faulted is not None:
            return faulted
        token = auth.removeprefix("Bearer ")
        allowed = auth.startswith("Bearer ") and (
            token == self.download_token if self.download_token else token.startswith("xoxb-")
        )
        if not allowed or file_id not in self.uploads or file_id in self.deleted_files:
            return web.Response(text=_SIGN_IN_PAGE, content_type="text/html")
        return web.Response(
            body=self.uploads[file_id], content_type=self.files[file_id].get("mimetype", "text/plain")
        )

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        data = await request.read()
        self._record("upload", {"file_id": file_id, "length": len(data)}, request)
        faulted = await self._apply_fault("upload", {"file_id": file_id}, request)
        if faulted is not None:
            return faulted
        if file_id not in self.files:
            return web.Response(status=404, text="file_not_found", content_type="text/plain")
        self.uploads[file_id] = data
        # slack_sdk's async client JSON-decodes anything that is not text/plain, and "OK" is not JSON.
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    @staticmethod
    async def _read_params(request: web.Request) -> Params:
        params: Params = dict(request.query)
        raw = await request.read()
        if raw and (request.content_type == "application/json" or raw.lstrip()[:1] == b"{"):
            body = json.loads(raw)
            params.update(body if isinstance(body, dict) else {"_body": body})
        elif raw:
            params.update(parse_qsl(raw.decode(), keep_blank_values=True))
        for key in _JSON_FIELDS & params.keys():
            value = params[key]
            if isinstance(value, str) and value[:1] in ("[", "{"):
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    pass  # left as a string: the Block Kit check then reports it like Slack would
        return params

    def _record(self, method: str, params: Params, request: web.Request) -> None:
        headers = {key.lower(): value for key, value in request.headers.items()}
        call = Call(method, copy.deepcopy(params), headers, time.monotonic(), request.path)
        request[_CALL_KEY] = call  # for `_note_answer`
        self.calls.append(call)

    async def _apply_fault(
        self, method: str, params: Params, request: web.Request
    ) -> web.StreamResponse | None:
        fault = next(
            (
                f
                for f in self._faults
                if f.method == method and f.remaining != 0 and (f.when is None or f.when(params))
            ),
            None,
        )
        if fault is None:
            return None
        if fault.remaining is not None:
            fault.remaining -= 1
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.hold:
            request[_HOLD_KEY] = fault.hold
            return None
        if fault.drop:
            assert request.transport is not None
            request.transport.abort()
            request.protocol.force_close()
            return web.Response()  # never reaches the client: the transport is gone
        if fault.status is None:
            return None
        body = {"ok": False, "error": fault.error}
        if fault.status == 429:
            return web.json_response(body, status=429, headers={"Retry-After": str(fault.retry_after)})
        if fault.status >= 500:
            html = _HTML_ERROR.format(status=fault.status)
            return web.Response(status=fault.status, text=html, content_type="text/html")
        return web.json_response(body, status=fault.status)

    def _validate(self, method: str, params: Params) -> Params | None:
        """Return Slack's rejection for invalid blocks/views; record violations (incl. a missing `text`)."""
        if "blocks" in params:
            problem = blockkit.message_errors(params["blocks"])
            if problem is not None:
                return self._reject(method, params, *problem)
            if method in _TEXT_FALLBACK_METHODS and not params.get("text"):
                # Slack accepts it, but notifications and screen readers need the top-level text.
                message = "blocks without a top-level text fallback"
                self.invalid_payloads.append(
                    Violation(method, "missing_text", (message,), copy.deepcopy(params))
                )
        if "view" in params:
            errors = blockkit.view_errors(params["view"])
            if errors:
                # Slack reports bad views as invalid_arguments, with the same json-pointer messages.
                return self._reject(method, params, "invalid_arguments", errors)
        return None

    def _reject(self, method: str, params: Params, error: str, messages: list[str]) -> Params:
        self.invalid_payloads.append(Violation(method, error, tuple(messages), copy.deepcopy(params)))
        return {"ok": False, "error": error, "response_metadata": {"messages": messages}}

    # ----------------------------------------------------------------- state helpers

    def _next_ts(self) -> str:
        """A message ts from the clock, strictly increasing even when the clock stands still."""
        micros = max(int(self._clock() * 1_000_000), self._last_micros + 1)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    @staticmethod
    def _dm_id(user_id: str) -> str:
        return "D" + user_id[1:]

    def _find(self, channel: str, ts: str) -> Params | None:
        return next((m for m in self._messages.get(channel, []) if m["ts"] == ts), None)

    def _store(self, channel: str, message: Params, thread_ts: str | None) -> None:
        if thread_ts:
            parent = self._find(channel, thread_ts)
            if parent is not None:
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
            message["thread_ts"] = thread_ts
        self._messages.setdefault(channel, []).append(message)

    @staticmethod
    def _public(message: Params, *, include_metadata: bool) -> Params:
        out = copy.deepcopy(message)
        if not include_metadata:
            out.pop("metadata", None)
        return out

    # ----------------------------------------------------------------- Web API methods

    def _auth_test(self, params: Params) -> Params:
        return {
            "ok": True,
            "url": "https://acme.slack.com/",
            "team": "Acme",
            "user": "digestbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, p: Params) -> Params:
        channel = str(p.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not p.get("text") and not p.get("blocks") and not p.get("attachments"):
            return {"ok": False, "error": "no_text"}
        if channel[0] in "UW":  # Slack posts to a user id in the app's DM with that user.
            channel = self._dm_id(channel)
        ts = self._next_ts()
        message: Params = {
            "type": "message",
            "subtype": "bot_message",
            "text": p.get("text") or "",
            "ts": ts,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": API_APP_ID,
            "team": TEAM_ID,
        }
        for key in ("blocks", "attachments", "metadata"):
            if p.get(key):
                message[key] = copy.deepcopy(p[key])
        self._store(channel, message, p.get("thread_ts"))
        return {"ok": True, "channel": channel, "ts": ts, "message": copy.deepcopy(message)}

    def _chat_update(self, p: Params) -> Params:
        channel, ts = str(p.get("channel")), str(p.get("ts"))
        message = self._find(channel, ts)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in p:
                message[key] = copy.deepcopy(p[key])
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _chat_delete(self, p: Params) -> Params:
        channel, ts = str(p.get("channel")), str(p.get("ts"))
        message = self._find(channel, ts)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        self._messages[channel].remove(message)
        return {"ok": True, "channel": channel, "ts": ts}

    def _chat_get_permalink(self, p: Params) -> Params:
        channel, ts = str(p.get("channel")), str(p.get("message_ts"))
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://acme.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _conversations_open(self, p: Params) -> Params:
        users = p.get("users") or ""
        user_ids = users if isinstance(users, list) else [u for u in str(users).split(",") if u]
        if p.get("channel"):
            channel_id = str(p["channel"])
        elif len(user_ids) == 1:
            channel_id = self._dm_id(user_ids[0])
        elif user_ids:
            channel_id = "G" + "".join(u[1:4] for u in user_ids)  # a multi-person DM
        else:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": channel_id}}

    def _conversations_history(self, p: Params) -> Params:
        inclusive = _truthy(p.get("inclusive"))
        oldest, latest = p.get("oldest"), p.get("latest")
        limit = int(p.get("limit") or 100)

        def in_window(ts: str) -> bool:
            key = _ts_key(ts)
            if oldest is not None and (key < _ts_key(oldest) or (key == _ts_key(oldest) and not inclusive)):
                return False
            return latest is None or key < _ts_key(latest) or (key == _ts_key(latest) and inclusive)

        top_level = [
            m
            for m in reversed(self._messages.get(str(p.get("channel")), []))
            if m.get("thread_ts", m["ts"]) == m["ts"] and in_window(m["ts"])
        ]
        include = _truthy(p.get("include_all_metadata"))
        return {
            "ok": True,
            "messages": [self._public(m, include_metadata=include) for m in top_level[:limit]],
            "has_more": len(top_level) > limit,
            "pin_count": 0,
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_replies(self, p: Params) -> Params:
        channel, ts = str(p.get("channel")), str(p.get("ts"))
        if self._find(channel, ts) is None:
            return {"ok": False, "error": "thread_not_found"}
        thread = [m for m in self._messages[channel] if m["ts"] == ts or m.get("thread_ts") == ts]
        include = _truthy(p.get("include_all_metadata"))
        limit = int(p.get("limit") or 1000)
        return {
            "ok": True,
            "messages": [self._public(m, include_metadata=include) for m in thread[:limit]],
            "has_more": len(thread) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    def _store_view(
        self, view: Any, *, view_id: str, root_view_id: str, previous_view_id: str | None
    ) -> Params:
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        envelope: Params = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view.get("type", "modal"),
            "blocks": copy.deepcopy(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self._clock())}.{next(self._ids):08x}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root_view_id,
            "previous_view_id": previous_view_id,
            "app_id": API_APP_ID,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        for key in ("title", "submit", "close"):
            if view.get(key):
                envelope[key] = copy.deepcopy(view[key])
        self.views[view_id] = envelope
        return {"ok": True, "view": copy.deepcopy(envelope)}

    def _views_new(self, p: Params) -> Params:
        if not p.get("trigger_id") and not p.get("interactivity_pointer"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view_id = f"V0VIEW{next(self._ids):04d}"
        return self._store_view(p.get("view"), view_id=view_id, root_view_id=view_id, previous_view_id=None)

    def _views_update(self, p: Params) -> Params:
        view_id = p.get("view_id") or next(
            (
                vid
                for vid, v in self.views.items()
                if p.get("external_id") and v["external_id"] == p["external_id"]
            ),
            None,
        )
        current = self.views.get(str(view_id))
        if current is None:
            return {"ok": False, "error": "not_found"}
        if p.get("hash") and p["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return self._store_view(
            p.get("view"), view_id=current["id"], root_view_id=current["root_view_id"], previous_view_id=None
        )

    def _views_publish(self, p: Params) -> Params:
        user_id = str(p.get("user_id") or "")
        if not user_id:
            return {"ok": False, "error": "invalid_arguments"}
        view_id = self._home_views.setdefault(user_id, f"V0HOME{next(self._ids):04d}")
        current = self.views.get(view_id)
        if current is not None and p.get("hash") and p["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return self._store_view(p.get("view"), view_id=view_id, root_view_id=view_id, previous_view_id=None)

    def _files_get_upload_url(self, p: Params) -> Params:
        if not p.get("filename") or not p.get("length"):
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F0FILE{next(self._ids):04d}"
        self.files[file_id] = {
            "id": file_id,
            "name": p["filename"],
            "title": p["filename"],
            "size": int(p["length"]),
        }
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, p: Params) -> Params:
        shared: list[Params] = []
        for item in p.get("files") or []:
            if item.get("id") not in self.uploads:
                return {"ok": False, "error": "file_not_found"}
            info = self.files[item["id"]]
            info.update(title=item.get("title") or info["name"], user=BOT_USER_ID, created=int(self._clock()))
            shared.append(copy.deepcopy(info))
        channels = [str(p["channel_id"])] if p.get("channel_id") else []
        channels += [c for c in str(p.get("channels") or "").split(",") if c]
        for channel in channels:
            message: Params = {
                "type": "message",
                "text": p.get("initial_comment") or "",
                "files": copy.deepcopy(shared),
                "upload": True,
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "display_as_bot": False,
                "ts": self._next_ts(),
            }
            self._store(channel, message, p.get("thread_ts"))
        return {"ok": True, "files": shared}

    def _files_info(self, p: Params) -> Params:
        file_id = str(p.get("file") or "")
        if file_id in self.deleted_files:
            return {"ok": False, "error": "file_deleted"}
        if file_id not in self.files:
            return {"ok": False, "error": "file_not_found"}
        return {
            "ok": True,
            "file": copy.deepcopy(self.files[file_id]),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    def _files_delete(self, p: Params) -> Params:
        """Deletes a file; the messages that shared it lose it (a message left with no file goes too)."""
        file_id = str(p.get("file") or "")
        if file_id not in self.files or file_id in self.deleted_files:
            return {"ok": False, "error": "file_not_found"}
        self.deleted_files.append(file_id)
        for channel, messages in self._messages.items():
            for message in list(messages):
                files = message.get("files")
                if files and any(f.get("id") == file_id for f in files):
                    message["files"] = [f for f in files if f.get("id") != file_id]
                    if not message["files"] and not message.get("text"):
                        self._messages[channel].remove(message)
        return {"ok": True}

    def _users_info(self, p: Params) -> Params:
        user_id = str(p.get("user") or "")
        if user_id[:1] not in ("U", "W"):
            return {"ok": False, "error": "user_not_found"}
        name = user_id.lower()
        user: Params = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": f"User {user_id}",
            "tz": "Asia/Tokyo",
            "tz_label": "Japan Standard Time",
            "tz_offset": 32400,
            "is_bot": False,
            "deleted": False,
            "locale": "ja-JP",
            "profile": {"real_name": f"User {user_id}", "display_name": name},
        }
        user.update(copy.deepcopy(self.users.get(user_id, {})))
        if not _truthy(p.get("include_locale")):
            user.pop("locale")  # Slack only returns locale when asked with include_locale=true
        return {"ok": True, "user": user}

    def _usergroups_users_list(self, p: Params) -> Params:
        group = str(p.get("usergroup") or "")
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.usergroups[group])}

    def _reactions_add(self, p: Params) -> Params:
        key = (str(p.get("channel")), str(p.get("timestamp")), str(p.get("name")))
        if key in self._reactions:
            return {"ok": False, "error": "already_reacted"}
        self._reactions.add(key)
        return {"ok": True}
