"""The process's own sections (pure): ``[server]``, ``[database]``, ``[scheduler]``, ``[collectors]``
and ``[logging]``, with ``$PORT`` and ``$DATABASE_URL`` from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.config.reader import Reader, Types
from bot.config.secrets import database_password_forms, mask_database_url
from bot.config.values import check_cron


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    #: The URL as configured, password included; never logged or shown (see :func:`mask_database_url`).
    url: str = field(repr=False)

    def __repr__(self) -> str:
        return f"DatabaseSettings(url={mask_database_url(self.url)!r})"

    def secrets(self) -> tuple[str, ...]:
        """The password as written in the URL (percent-encoded) and as decoded, for log redaction."""
        return database_password_forms(self.url)


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "0.0.0.0"
    port: int = 3000
    path: str = "/slack/events"
    #: Public base URL, used only to print request URLs into the manifest in HTTP mode.
    public_url: str | None = None
    #: How many listeners may work past their ack at once; the rest wait their turn (bot.slack.gate).
    max_concurrent_work: int = 8
    #: Seconds a request may take to arrive, headers and body; slower connections are closed
    #: (bot.serving: aiohttp has no such timeout).
    read_timeout_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class CollectorSettings:
    cron: str = "30 6 * * *"
    #: Posts published in the last N days get their metrics refreshed.
    lookback_days: int = 30
    concurrency: int = 4
    timeout_seconds: float = 15.0


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    level: str = "INFO"
    format: Literal["text", "json"] = "text"


def database_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the store's URL (a ``config.*`` key), or ``None`` when it can."""
    if not url.startswith(("sqlite:", "postgresql:", "postgresql+", "postgres:")):
        return "bad_database_url"
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url.replace("postgres://", "postgresql://", 1))
        parsed.port  # noqa: B018 - an unreadable port only fails here
    except (ArgumentError, ValueError):
        return "unreadable_database_url"
    if parsed.host and "@" in parsed.host:  # an "@" of the password left as it is
        return "unreadable_database_url"
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        return "bad_database_url"
    return None


def read_database(
    r: Reader, raw: Mapping[str, Any], environ: Mapping[str, str], base: Path
) -> DatabaseSettings:
    """``[database] url``, overridden by ``$DATABASE_URL``; a relative SQLite path is made absolute."""
    table = r.table(raw, "database", "")
    r.known(table, "database", ("url",))
    from_env = environ.get("DATABASE_URL", "").strip()
    url = from_env or r.get(table, "url", "database", str, "sqlite:///sns_bot.db")
    if (problem := database_url_problem(url)) is not None:
        # Never echo the URL: it may hold a password.
        r.add("$DATABASE_URL" if from_env else "database.url", problem)
    # A relative SQLite path is relative to the config file, not to wherever the process started.
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and ":memory:" not in url:
        relative = url.removeprefix("sqlite:///")
        url = "sqlite:///" + str((base / relative).resolve())
    return DatabaseSettings(url)


def read_server(r: Reader, raw: Mapping[str, Any], environ: Mapping[str, str]) -> ServerSettings:
    """``[server]``; ``$PORT`` overrides its port."""
    s = r.table(raw, "server", "")
    r.known(
        s, "server", ("host", "port", "path", "public_url", "max_concurrent_work", "read_timeout_seconds")
    )
    port: int = r.get(s, "port", "server", int, 3000)
    if environ.get("PORT"):
        try:
            port = int(environ["PORT"])
        except ValueError:
            r.add("$PORT", "wrong_type", expected=Types(("integer",)))
    if not 1 <= port <= 65535:
        r.add("server.port", "bad_port", value=str(port))
    public_url = r.get(s, "public_url", "server", str, None)
    if public_url is not None and not public_url.startswith(("https://", "http://")):
        r.add("server.public_url", "bad_url", value=public_url)
    return ServerSettings(
        host=r.get(s, "host", "server", str, "0.0.0.0"),
        port=port,
        path=r.get(s, "path", "server", str, "/slack/events"),
        public_url=public_url.rstrip("/") if public_url else None,
        max_concurrent_work=int(r.positive(s, "max_concurrent_work", "server", 8)),
        read_timeout_seconds=r.positive(s, "read_timeout_seconds", "server", 10.0),
    )


def read_scheduler(r: Reader, raw: Mapping[str, Any]) -> SchedulerSettings:
    sc = r.table(raw, "scheduler", "")
    r.known(sc, "scheduler", ("enabled",))
    return SchedulerSettings(enabled=r.get(sc, "enabled", "scheduler", bool, True))


def read_collectors(r: Reader, raw: Mapping[str, Any]) -> CollectorSettings:
    c = r.table(raw, "collectors", "")
    r.known(c, "collectors", ("cron", "lookback_days", "concurrency", "timeout_seconds"))
    c_cron = r.get(c, "cron", "collectors", str, "30 6 * * *")
    if (why := check_cron(c_cron)) is not None:
        r.add("collectors.cron", "bad_cron", value=c_cron, reason=why)
    return CollectorSettings(
        cron=c_cron,
        lookback_days=int(r.positive(c, "lookback_days", "collectors", 30)),
        concurrency=int(r.positive(c, "concurrency", "collectors", 4)),
        timeout_seconds=r.positive(c, "timeout_seconds", "collectors", 15.0),
    )


def read_logging(r: Reader, raw: Mapping[str, Any]) -> LoggingSettings:
    lg = r.table(raw, "logging", "")
    r.known(lg, "logging", ("level", "format"))
    return LoggingSettings(
        level=r.choice(lg, "level", "logging", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO"),
        format=r.choice(lg, "format", "logging", ("text", "json"), "text"),
    )
