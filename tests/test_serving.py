"""The HTTP server cuts off clients that send a request too slowly, with real sockets (issue 13, item 8).

Before: aiohttp has no header or body timeout, so connections trickling their headers one byte at a
time (slowloris) or never finishing their body were held for its keep-alive timeout of 3630 s each;
3,000 of them held 3,000 descriptors of the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot import serving
from tests.conftest import SIGNING_SECRET
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.reliability.bot_process import BotConfig, start_bot, stopping

#: A deadline short enough for in-process tests (the product default is 10 s).
READ_TIMEOUT = 0.5
#: Generous bound for "the server closed it" (a liveness wait, not a timing assertion).
CLOSED_WITHIN = 30.0

HEAD = b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"


async def _echo(request: web.Request) -> web.Response:
    return web.Response(body=await request.read())


@contextlib.asynccontextmanager
async def _server(read_timeout: float = READ_TIMEOUT) -> AsyncIterator[int]:
    app = web.Application()
    app.router.add_post("/echo", _echo)
    runner, listener, port = await serving.serve(app, host="127.0.0.1", port=0, read_timeout=read_timeout)
    try:
        yield port
    finally:
        await listener.close()
        await runner.cleanup()


async def _until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(4096):
            received += chunk
    return received


async def _trickle(writer: asyncio.StreamWriter, data: bytes, *, every: float) -> None:
    """Send ``data`` one byte at a time (slowloris); stops quietly when the server has closed."""
    with contextlib.suppress(ConnectionError):
        for byte in data:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(every)


async def test_trickled_headers_get_408_and_are_closed() -> None:
    async with _server() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        slow = asyncio.create_task(_trickle(writer, HEAD + b"X-Pad: " + b"a" * 500, every=0.05))
        answer = await asyncio.wait_for(_until_closed(reader), CLOSED_WITHIN)
        slow.cancel()
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")


async def test_a_connection_that_sends_nothing_is_closed() -> None:
    async with _server() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answer = await asyncio.wait_for(_until_closed(reader), CLOSED_WITHIN)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408")


async def test_a_body_that_never_finishes_is_cut_off_and_never_handled() -> None:
    handled: list[bytes] = []

    async def record(request: web.Request) -> web.Response:
        handled.append(await request.read())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/echo", record)
    runner, listener, port = await serving.serve(app, host="127.0.0.1", port=0, read_timeout=READ_TIMEOUT)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HEAD + b"Content-Length: 1000\r\n\r\n" + b"x" * 10)
        slow = asyncio.create_task(_trickle(writer, b"y" * 990, every=0.05))
        answer = await asyncio.wait_for(_until_closed(reader), CLOSED_WITHIN)
        slow.cancel()
        writer.close()
    finally:
        await listener.close()
        await runner.cleanup()
    assert b"200" not in answer
    assert handled == []  # the handler never got a body to act on


async def test_whole_requests_and_idle_kept_alive_connections_are_left_alone() -> None:
    """A request that arrives in time is answered; a kept-alive connection idle for longer than the
    read timeout is not "receiving" and still serves the next request."""
    async with _server() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for body in (b"first", b"second"):
            writer.write(HEAD + b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), CLOSED_WITHIN)
            assert head.startswith(b"HTTP/1.1 200 OK")
            assert await reader.readexactly(len(body)) == body
            await asyncio.sleep(READ_TIMEOUT * 4)  # idle on the same connection
        writer.close()


async def test_a_body_sent_in_pieces_within_the_deadline_is_served() -> None:
    async with _server(read_timeout=5.0) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HEAD + b"Content-Length: 6\r\nConnection: close\r\n\r\nab")
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.write(b"cdef")
        answer = await asyncio.wait_for(_until_closed(reader), CLOSED_WITHIN)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"abcdef")


@pytest.mark.slow
async def test_the_running_bot_closes_hundreds_of_slow_connections_and_keeps_serving(tmp_path: Path) -> None:
    """The real ``sns-bot run`` with its default settings (10 s): 300 slowloris connections and 20
    unfinished bodies are all closed, and the bot answers a signed command afterwards."""
    with FakeSlack() as fake:
        bot = start_bot(tmp_path, config=BotConfig(log_level="INFO"), api_url=fake.api_url)
        with stopping(bot):
            await bot.wait_healthy()
            connections = [await asyncio.open_connection("127.0.0.1", bot.port) for _ in range(320)]
            trickles = []
            for i, (_, writer) in enumerate(connections):
                if i < 300:  # headers, a byte every 0.5 s: never done within 10 s
                    data = b"POST /slack/events HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 200
                else:  # headers at once, then a body far slower than its length says
                    writer.write(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
                    data = b"token=" + b"b" * 200
                trickles.append(asyncio.create_task(_trickle(writer, data, every=0.5)))
            closed = await asyncio.wait_for(
                asyncio.gather(*(_until_closed(reader) for reader, _ in connections)), CLOSED_WITHIN + 10
            )
            for task in trickles:
                task.cancel()
            for _, writer in connections:
                writer.close()
            assert len(closed) == 320
            assert sum(answer.startswith(b"HTTP/1.1 408") for answer in closed) == 300

            async with aiohttp.ClientSession() as session:
                sender = SlackSender(session, secret=SIGNING_SECRET, url=bot.events_url)
                response = await sender.command(
                    payloads.slash_command("/sns-kpi", "help", response_url=fake.response_url("help"))
                )
                assert response.status == 200
            assert bot.open_fds() < 100
            assert bot.stop(timeout=30) == 0, bot.log_text()
