"""Benchmark plumbing (I/O): the fake Slack API in its own process, the bot and a bare-Bolt baseline as
subprocesses, a signed-request load generator, throw-away PostgreSQL databases, percentile stats and
plain-text tables.

Three processes share the machine during a run: the server under test (a subprocess), the fake Slack
API (a ``multiprocessing`` child, so its Block Kit validation never steals the load generator's GIL)
and this process, which only signs, sends and times requests. ``time.monotonic()`` is the system-wide
CLOCK_MONOTONIC on Linux, so the fake's call times and this process's send times are comparable.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Self

import aiohttp

from tests.fakes.local import PG_ADMIN_URL, database_url, free_port, pg_admin
from tests.fakes.signing import sign
from tests.fakes.slack import Call, FakeSlack

ROOT = Path(__file__).resolve().parents[1]

BOT_TOKEN = "xoxb-1111-2222-benchtokenvalue"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
MANAGER = "U0MANAGER1"
ADMIN = "U0ADMIN001"
OPERATOR = "U0ALICE01"
REVIEW_CHANNEL = "C0REVIEW01"
MGMT_CHANNEL = "C0MGMT0001"
ACCOUNT_KEY = "x_corp"
EVENTS_PATH = "/slack/events"


#: A production-like config: INFO logs, the scheduler on, one manager approving every request.
BOT_CONFIG = """
locale = "ja"
timezone = "Asia/Tokyo"
[database]
url = "{db_url}"
[server]
host = "127.0.0.1"
max_concurrent_work = {max_work}
[roles]
managers = ["{manager}"]
admins = ["{admin}"]
[review]
channel = "{review_channel}"
escalation_channel = "{mgmt_channel}"
[digest.weekly]
channels = ["{mgmt_channel}"]
[digest.monthly]
channels = ["{mgmt_channel}"]
[logging]
level = "INFO"
format = "json"
[[accounts]]
key = "{account}"
platform = "x"
handle = "@example_corp"
name = "X 公式"
[[kpis]]
key = "recruiting_entries"
name = {{ ja = "採用エントリー数", en = "Recruiting entries" }}
aggregate = "sum"
better = "higher"
target = 30
why = {{ ja = "採用コストを下げます。", en = "Lowers hiring costs." }}
[[kpis]]
key = "engagement_rate"
name = {{ ja = "エンゲージメント率", en = "Engagement rate" }}
unit = "%"
aggregate = "derived"
derive = "engagement_rate"
better = "higher"
target = 3.0
why = {{ ja = "反応の深さを表します。", en = "How deeply people react." }}
"""


# ------------------------------------------------------------------------------------ fake Slack


def _serve_fake(conn: Connection) -> None:
    """Child-process body: serve the fake from a thread, answer the parent's queries on ``conn``."""
    fake = FakeSlack().start_in_thread()
    conn.send(fake.base_url)
    while True:
        try:
            op, *args = conn.recv()
        except EOFError:
            break
        if op == "calls":
            conn.send(fake.calls[args[0] :])
        elif op == "count":
            conn.send(len(fake.calls))
        elif op == "messages":
            conn.send(fake.messages(args[0]))
        elif op == "reset":
            fake.reset()
            conn.send(None)
        elif op == "stop":
            fake.stop()
            conn.send(None)
            break
    conn.close()


class FakeSlackProcess:
    """``tests.fakes.slack.FakeSlack`` served by a separate process; calls are fetched on demand."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve_fake, args=(child,), name="fake-slack", daemon=True)
        self._proc.start()
        child.close()
        self.base_url: str = self._conn.recv()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base_url}/response/{name}"

    def _ask(self, *message: Any) -> Any:
        self._conn.send(message)
        return self._conn.recv()

    def calls(self, start: int = 0) -> list[Call]:
        """Every call received from index ``start`` on (indexes only grow until ``reset``)."""
        result: list[Call] = self._ask("calls", start)
        return result

    def count(self) -> int:
        result: int = self._ask("count")
        return result

    def messages(self, channel: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._ask("messages", channel)
        return result

    def reset(self) -> None:
        self._ask("reset")

    def close(self) -> None:
        if self._proc.is_alive():
            with contextlib.suppress(OSError, EOFError):
                self._ask("stop")
            self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.kill()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# ------------------------------------------------------------------------------------ servers


def _environment(*, api_url: str, port: int) -> dict[str, str]:
    # slack_sdk ignores NO_PROXY: with a proxy in the environment, calls to 127.0.0.1 would leave.
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=api_url,
        PORT=str(port),
        # The caller's own PYTHONPATH is kept after ours (e.g. a sitecustomize that profiles).
        PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    )
    for name in ("SLACK_APP_TOKEN", "DATABASE_URL", "SNS_BOT_CONFIG"):
        env.pop(name, None)
    return env


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _healthy(url: str) -> bool:
    try:
        with _NO_PROXY.open(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@dataclass(slots=True)
class Server:
    """A server process under test; ``start_seconds`` is launch → first ``200`` from ``/healthz``."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    start_seconds: float = 0.0

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{EVENTS_PATH}"

    def wait_healthy(self, *, started: float, timeout: float = 60.0) -> None:
        url = f"http://127.0.0.1:{self.port}/healthz"
        while not _healthy(url):
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"{self.name} not healthy after {timeout:.0f}s:\n{self.log_tail()}")
            time.sleep(0.005)
        self.start_seconds = time.monotonic() - started

    def memory_kib(self) -> tuple[int, int]:
        """(current RSS, peak RSS) in KiB, from ``/proc/<pid>/status``."""
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines()
        )
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far (robust to other load on the machine, unlike latency)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> int:
        """SIGTERM, as an orchestrator would; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def _launch(name: str, argv: list[str], *, cwd: Path, api_url: str) -> Server:
    port = free_port()
    log_path = cwd / f"{name}.log"
    # A file, not a pipe: a pipe nobody reads fills up and then blocks the server's logging.
    with log_path.open("wb") as log:
        started = time.monotonic()
        proc = subprocess.Popen(
            argv, cwd=cwd, env=_environment(api_url=api_url, port=port), stdout=log, stderr=log
        )
    server = Server(name=name, proc=proc, port=port, log_path=log_path)
    try:
        server.wait_healthy(started=started)
    except BaseException:
        server.stop()
        raise
    return server


def write_config(workdir: Path, *, db_url: str) -> Path:
    path = workdir / "config.toml"
    path.write_text(
        BOT_CONFIG.format(
            db_url=db_url,
            manager=MANAGER,
            admin=ADMIN,
            review_channel=REVIEW_CHANNEL,
            mgmt_channel=MGMT_CHANNEL,
            account=ACCOUNT_KEY,
            # The bot's default unless the environment asks for another (to compare settings).
            max_work=int(os.environ.get("BENCH_MAX_CONCURRENT_WORK", "8")),
        ),
        encoding="utf-8",
    )
    return path


def migrate(workdir: Path, *, db_url: str, api_url: str) -> float:
    """``sns-bot migrate``; returns its wall time (so a later ``run`` starts on a migrated store)."""
    config = write_config(workdir, db_url=db_url)
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "bot", "migrate", "--config", str(config)],
        cwd=workdir,
        env=_environment(api_url=api_url, port=free_port()),
        check=True,
        capture_output=True,
    )
    return time.monotonic() - started


def start_bot(workdir: Path, *, db_url: str, api_url: str, name: str = "bot") -> Server:
    """The real ``sns-bot run`` in HTTP mode, pointed at the fake Slack API."""
    config = write_config(workdir, db_url=db_url)
    return _launch(
        name, [sys.executable, "-m", "bot", "run", "--config", str(config)], cwd=workdir, api_url=api_url
    )


def start_bare_bolt(workdir: Path, *, api_url: str) -> Server:
    """The baseline: a Bolt ``AsyncApp`` whose only listeners ack every command, action and view."""
    code = "from bench.common import serve_bare_bolt; serve_bare_bolt()"
    return _launch("bare-bolt", [sys.executable, "-c", code], cwd=workdir, api_url=api_url)


def serve_bare_bolt() -> None:
    """Baseline process body: same HTTP stack as the bot (Bolt's aiohttp app + ``/healthz``)."""
    from aiohttp import web
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    async def nothing() -> None:  # Bolt acks Events API deliveries itself
        return None

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def main() -> None:
        port = int(os.environ["PORT"])
        client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
        app = AsyncApp(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"])
        everything = re.compile(".*")
        app.command(everything)(only_ack)
        app.action(everything)(only_ack)
        app.view(everything)(only_ack)
        app.event(everything)(nothing)
        web_app = app.web_app(path=EVENTS_PATH, port=port)
        web_app.router.add_get("/healthz", healthz)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(main())


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="sns-bench-") as path:
        yield Path(path)


# ------------------------------------------------------------------------------------ PostgreSQL


def _pg_admin(sql: str) -> None:
    """Run one admin statement; in a thread with its own loop, as callers may be inside a loop."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, pg_admin(sql)).result()


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str | None]:
    """A fresh, empty PostgreSQL database (dropped afterwards); ``None`` when no server answers."""

    name = f"sns_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        _pg_admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # any failure means "no server": the caller reports and skips
        print(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc!r}; skipped", file=sys.stderr)
        yield None
        return
    try:
        yield database_url(name)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def database(kind: str, directory: Path) -> Iterator[str | None]:
    """A database URL of ``kind`` ("sqlite" or "postgres") that lives for the block."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'bot.db'}"
    elif kind == "postgres":
        with throwaway_postgres() as url:
            yield url
    else:
        raise ValueError(f"unknown database kind {kind!r}")


# ------------------------------------------------------------------------------------ load generator


@dataclass(frozen=True, slots=True)
class Request:
    """One Slack-to-bot request, unsigned; any of ``keys`` marks its full answer among the fake's calls."""

    interaction: str
    body: bytes
    content_type: str
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Sample:
    """One request as the load generator saw it (``status`` 0: no HTTP answer at all)."""

    request: Request
    started: float
    ended: float
    status: int

    @property
    def latency(self) -> float:
        return self.ended - self.started


@dataclass(frozen=True, slots=True)
class LoadResult:
    samples: tuple[Sample, ...]
    wall_seconds: float

    @property
    def rps(self) -> float:
        return len(self.samples) / self.wall_seconds if self.wall_seconds else 0.0


async def drive(url: str, requests: Sequence[Request], *, concurrency: int) -> LoadResult:
    """Send ``requests`` with ``concurrency`` in flight (closed loop: each worker sends, waits, repeats).

    Bodies are built beforehand; signing (one HMAC) happens just before the clock starts, as the
    ``X-Slack-Request-Timestamp`` must be fresh.
    """
    samples: list[Sample] = []
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)

    async def worker(session: aiohttp.ClientSession) -> None:
        for request in queue:  # a shared iterator: every request is taken exactly once
            headers = {"Content-Type": request.content_type}
            headers.update(sign(SIGNING_SECRET, request.body, int(time.time())))
            started = time.monotonic()
            try:
                async with session.post(url, data=request.body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            samples.append(Sample(request, started, time.monotonic(), status))

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.monotonic()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        wall = time.monotonic() - began
    return LoadResult(tuple(samples), wall)


# ------------------------------------------------------------------------------------ stats and tables


@dataclass(frozen=True, slots=True)
class Stats:
    """Latency percentiles in milliseconds (nearest-rank)."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (``q`` in 0..100)."""
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * q // 100))  # ceil without floats drifting
    return ordered[int(rank) - 1]


def summarize(seconds: Sequence[float]) -> Stats:
    ordered = sorted(s * 1000 for s in seconds)
    return Stats(
        count=len(ordered),
        p50=percentile(ordered, 50),
        p95=percentile(ordered, 95),
        p99=percentile(ordered, 99),
        max=ordered[-1] if ordered else float("nan"),
    )


def fmt_ms(value: float) -> str:
    if value != value:  # NaN: nothing measured
        return "-"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def print_table(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[object]], *, text_columns: int = 1
) -> None:
    """A plain-text table: the first ``text_columns`` columns left-aligned, the numbers right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < text_columns else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    print(f"\n{title}")
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def parse_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def machine() -> str:
    """One line saying where the numbers come from."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), {os.uname().machine}, load average {load}"
    )
