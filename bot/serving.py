"""The HTTP edge: aiohttp's server with a deadline on receiving each request (I/O).

aiohttp times out nothing while a request arrives: a client that opens a connection and trickles
its headers (or sends headers and then a body it never finishes) holds the connection, a file
descriptor and a parser for ``keepalive_timeout`` (3630 s by default), and a few thousand such
clients hold the process's descriptors (slowloris). Here every request must arrive whole, headers
and body, within ``read_timeout`` seconds of its first byte (of the connection opening, for the
first one); a connection that misses it is answered ``408`` when nothing of the request was read
yet, and closed. Slack sends a few kilobytes at once, so the default of 10 s never touches it.

An idle kept-alive connection (a request answered, nothing new yet) is not "receiving": it stays
under aiohttp's ``keepalive_timeout``, which is left long on purpose, so that a load balancer in
front, which keeps idle connections open for up to several minutes, never sends a request into a
connection the bot is closing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

#: Seconds a request may take to arrive, headers and body (``[server] read_timeout_seconds``).
DEFAULT_READ_TIMEOUT = 10.0

_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class BoundedRequestHandler(web.RequestHandler):
    """aiohttp's per-connection protocol plus the receive deadline (see the module docstring).

    NOTE: reads two attributes of aiohttp's ``RequestHandler`` that are not public API
    (``_request_count``: requests parsed so far; ``_messages``: parsed requests with their body
    streams); ``tests/test_serving.py`` holds real slow sockets against it, so an aiohttp
    upgrade that moves them fails there rather than silently dropping the deadline.
    """

    def __init__(self, manager: web.Server, *, read_timeout: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._read_timeout = read_timeout
        self._deadline: asyncio.TimerHandle | None = None
        #: The body of the request whose headers are in but whose body is not (yet).
        self._body: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()  # a new connection must deliver its first request in time

    def data_received(self, data: bytes) -> None:
        if data and self._deadline is None:
            self._arm()  # the first bytes of a further request on a kept-alive connection
        parsed = self._request_count
        super().data_received(data)
        if self._request_count > parsed and self._messages:
            self._body = self._messages[-1][1]
        if self._body is not None and self._body.is_eof():
            self._body = None  # the whole request is in: the handler has it, the deadline is off
            self._disarm()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        self._body = None
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = asyncio.get_running_loop().call_later(self._read_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport is None:
            return
        log.debug("closing a connection whose request did not arrive within %.0fs", self._read_timeout)
        if self._body is None:  # nothing of this request reached a handler: it can be answered
            self.transport.write(_TIMED_OUT)
        self.force_close()


class BoundedServer:
    """One listening socket whose connections use :class:`BoundedRequestHandler`.

    Its connections belong to ``runner``'s server, so ``runner.cleanup()`` still closes idle
    ones and waits for requests in progress; :meth:`close` only stops accepting new ones.
    """

    def __init__(self, runner: web.AppRunner, *, read_timeout: float, **handler_kwargs: Any) -> None:
        self._runner = runner
        self._read_timeout = read_timeout
        self._handler_kwargs = handler_kwargs
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (``port`` 0: any free port); returns the port bound."""
        manager = self._runner.server
        if manager is None:
            raise RuntimeError("runner.setup() must run first")
        loop = asyncio.get_running_loop()

        def connection() -> BoundedRequestHandler:
            return BoundedRequestHandler(
                manager, loop=loop, read_timeout=self._read_timeout, **self._handler_kwargs
            )

        self._server = await loop.create_server(connection, host, port, reuse_address=True)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


async def serve(
    web_app: web.Application, *, host: str, port: int, read_timeout: float, shutdown_timeout: float = 10.0
) -> tuple[web.AppRunner, BoundedServer, int]:
    """Serve ``web_app`` on ``host:port`` with the receive deadline; returns the runner, the listener
    and the port. Close the listener first, then ``runner.cleanup()`` (it drains the connections)."""
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    listener = BoundedServer(runner, read_timeout=read_timeout, access_log=None)
    try:
        bound = await listener.start(host, port)
    except BaseException:
        await runner.cleanup()
        raise
    return runner, listener, bound
