"""The real ``sns-bot run`` as a subprocess for process-level tests and the soak (I/O): a config
builder, a launcher pointed at the fake Slack API, health waits, signals, the JSON log, the process's
memory and open files, and throw-away PostgreSQL databases.

The log goes to a file, never a pipe: a DEBUG log nobody reads would fill a pipe and then block the
bot on its next log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from tests.conftest import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET
from tests.fakes.local import database_url, free_port, pg_admin

ROOT = Path(__file__).resolve().parents[2]

F = TypeVar("F", bound=Callable[..., Any])

#: Environment variable that turns on the tests that take minutes (multi-replica waits, hand-over).
LONG_TESTS_ENV = "SNS_BOT_LONG_TESTS"
_LONG_TESTS_ON = os.environ.get(LONG_TESTS_ENV, "").lower() in ("1", "true", "yes")


def long_test(func: F) -> F:
    """Marked ``slow`` and skipped unless ``SNS_BOT_LONG_TESTS=1``: CI keeps its time budget."""
    skip = pytest.mark.skipif(not _LONG_TESTS_ON, reason=f"takes minutes; run with {LONG_TESTS_ENV}=1")
    marked: F = pytest.mark.slow(skip(func))
    return marked


MANAGER = "U0MANAGER1"
ADMIN = "U0ADMIN001"
REVIEW_CHANNEL = "C0REVIEW01"
MGMT_CHANNEL = "C0MGMT0001"
ACCOUNT_KEY = "x_corp"
X_USER_ID = "12345"


@dataclass(frozen=True, slots=True)
class BotConfig:
    """The knobs process tests turn; everything else is a small realistic config (pure)."""

    db_url: str = "sqlite:///bot.db"
    log_level: str = "DEBUG"
    weekly_cron: str = "0 9 * * mon"
    #: ``None``: the first business day at 09:00 (the product default).
    monthly_cron: str | None = None
    catch_up_days: float = 3
    lease_seconds: int = 120
    collectors_cron: str = "30 6 * * *"
    collectors_timeout_seconds: float = 15.0
    scheduler: bool = True

    def toml(self) -> str:
        monthly_cron = f'cron = "{self.monthly_cron}"\n' if self.monthly_cron else ""
        return f"""locale = "ja"
timezone = "Asia/Tokyo"
[database]
url = "{self.db_url}"
[server]
host = "127.0.0.1"
[roles]
managers = ["{MANAGER}"]
admins = ["{ADMIN}"]
[review]
channel = "{REVIEW_CHANNEL}"
escalation_channel = "{MGMT_CHANNEL}"
[digest]
catch_up_days = {self.catch_up_days}
lease_seconds = {self.lease_seconds}
[digest.weekly]
channels = ["{MGMT_CHANNEL}"]
cron = "{self.weekly_cron}"
[digest.monthly]
channels = ["{MGMT_CHANNEL}"]
{monthly_cron}[scheduler]
enabled = {"true" if self.scheduler else "false"}
[collectors]
cron = "{self.collectors_cron}"
timeout_seconds = {self.collectors_timeout_seconds}
[logging]
format = "json"
level = "{self.log_level}"
[[accounts]]
key = "{ACCOUNT_KEY}"
platform = "x"
handle = "@example_corp"
name = "X 公式"
platform_id = "{X_USER_ID}"
[[kpis]]
key = "recruiting_entries"
name = {{ ja = "採用エントリー数", en = "Recruiting entries" }}
aggregate = "sum"
better = "higher"
target = 30
why = {{ ja = "採用コストを下げます。", en = "Lowers hiring costs." }}
"""


def bot_environment(
    *, api_url: str, port: int, socket_mode: bool = False, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The bot's environment: tokens, the fake's URL, ``PORT``; no proxy, no stray Slack settings."""
    # slack_sdk honours *_PROXY but not NO_PROXY: with a proxy set, calls to 127.0.0.1 would leave.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().endswith("_PROXY") and not k.startswith("SLACK_") and k not in ("SNS_BOT_CONFIG",)
    }
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=api_url, PORT=str(port), PYTHONPATH=str(ROOT))
    if socket_mode:
        env["SLACK_APP_TOKEN"] = APP_TOKEN
    else:
        env["SLACK_SIGNING_SECRET"] = SIGNING_SECRET
    env.update(extra or {})
    return env


@dataclass(slots=True)
class BotProcess:
    """One running bot process and where its log goes."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return f"{self.base_url}/slack/events"

    @property
    def healthz_url(self) -> str:
        return f"{self.base_url}/healthz"

    # -------------------------------------------------------------- waiting

    async def healthz_status(self) -> int | None:
        """The status of one GET on a fresh connection, or None when nothing accepts connections."""
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            try:
                async with session.get(self.healthz_url, timeout=aiohttp.ClientTimeout(total=2)) as answer:
                    return answer.status
            except (aiohttp.ClientConnectionError, TimeoutError):
                return None

    async def wait_healthy(self, *, timeout: float = 60.0) -> float:
        """Until ``/healthz`` answers 200; returns the seconds waited. Fails if the process exits."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            if await self.healthz_status() == 200:
                return time.monotonic() - started
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.name} not healthy after {timeout:.0f}s:\n{self.log_tail()}")

    async def wait_healthz_gone(self, *, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while await self.healthz_status() is not None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} kept serving /healthz:\n{self.log_tail()}")
            await asyncio.sleep(0.05)

    async def wait_for_log(self, message: str, *, timeout: float = 30.0) -> dict[str, Any]:
        """Until a log record whose message contains ``message`` appears; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            found = next((r for r in self.records() if message in str(r.get("message"))), None)
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no log line with {message!r}:\n{self.log_tail()}")
            await asyncio.sleep(0.05)

    # -------------------------------------------------------------- signals

    def kill(self) -> None:
        """SIGKILL: the process dies on the spot, no cleanup (a crash, an OOM kill)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM, as an orchestrator sends it before stopping a container."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, *, timeout: float) -> int:
        """The exit code; SIGKILLs the process and fails if it is still running after ``timeout``."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def stop(self, *, timeout: float = 40.0) -> int:
        """SIGTERM and wait (SIGKILL after ``timeout``); returns the exit code."""
        self.terminate()
        return self.wait(timeout=timeout)

    # -------------------------------------------------------------- the log

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def records(self) -> list[dict[str, Any]]:
        """The JSON log records (lines that are not JSON, e.g. a crash before logging is set up, skipped)."""
        out = []
        for line in self.log_text().splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    out.append(json.loads(line))
        return out

    def messages(self) -> list[str]:
        return [str(r.get("message")) for r in self.records()]

    # -------------------------------------------------------------- footprint

    def rss_kib(self) -> int:
        """Resident memory (``VmRSS``) in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError(f"no VmRSS for pid {self.pid}")

    def open_fds(self) -> int:
        """Open file descriptors (sockets, files, pipes)."""
        return len(os.listdir(f"/proc/{self.pid}/fd"))


def start_bot(
    workdir: Path,
    *,
    config: BotConfig | str,
    api_url: str,
    name: str = "bot",
    socket_mode: bool = False,
    env: Mapping[str, str] | None = None,
    argv: Sequence[str] | None = None,
    port: int | None = None,
) -> BotProcess:
    """Start ``python -m bot run --config <workdir>/<name>.toml`` (or ``argv`` + ``--config``) in ``workdir``.

    Args:
        config: a :class:`BotConfig` or the TOML text itself.
        argv: another launcher of the same process (the soak points the collectors at a fake that way).
        env: extra environment variables.
    """
    port = port or free_port()
    config_path = workdir / f"{name}.toml"
    config_path.write_text(config.toml() if isinstance(config, BotConfig) else config, encoding="utf-8")
    log_path = workdir / f"{name}.log"
    command = list(argv or [sys.executable, "-m", "bot", "run"]) + ["--config", str(config_path)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=workdir,
            env=bot_environment(api_url=api_url, port=port, socket_mode=socket_mode, extra=env),
            stdout=log,
            stderr=log,
        )
    return BotProcess(name=name, proc=proc, port=port, log_path=log_path)


@contextlib.contextmanager
def stopping(*bots: BotProcess) -> Any:
    """Make sure every bot is gone when the block ends (SIGKILL what a test left running)."""
    try:
        yield bots
    finally:
        for bot in bots:
            if bot.proc.poll() is None:
                bot.kill()


# ---------------------------------------------------------------------------------- PostgreSQL


@contextlib.asynccontextmanager
async def postgres_database(prefix: str = "sns_rel") -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test (dropped afterwards): each bot migrates it.

    Skipped without a server; failed in CI (``CI=true``), where PostgreSQL is required.
    """
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        await pg_admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # any failure means "no server"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc!r}")
        pytest.skip(f"PostgreSQL unreachable: {exc!r}")
    try:
        yield database_url(name)
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
