"""Loading settings: one TOML file plus the environment, validated into frozen dataclasses (pure).

``load_settings(path, environ)`` never touches the process environment or the network: the
caller passes both in, so tests build settings from dicts. Validation collects *every* problem
with its key path instead of stopping at the first (each section's reader adds its own, in the
order of :func:`settings_from_mapping`), and secrets only ever come from the environment.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config.accounts import read_accounts
from bot.config.celebrate import read_milestones, read_pace
from bot.config.digest import read_digest
from bot.config.i18n import read_i18n
from bot.config.kpis import read_kpi_command, read_kpis, read_search_console
from bot.config.participation import read_participation
from bot.config.reader import Problem, Reader
from bot.config.review import read_review
from bot.config.roles import read_roles
from bot.config.secrets import read_secrets
from bot.config.server import read_collectors, read_database, read_logging, read_scheduler, read_server
from bot.config.settings import Settings
from bot.config.slack import read_slack, read_slack_api_url
from bot.i18n import LOCALES, Locale
from bot.periods import DEFAULT_FISCAL_YEAR_START

TOP_KEYS = (
    "locale",
    "timezone",
    "fiscal_year_start",
    "database",
    "server",
    "roles",
    "review",
    "kpi",
    "digest",
    "participation",
    "scheduler",
    "collectors",
    "search_console",
    "slack",
    "logging",
    "accounts",
    "kpis",
    "milestones",
    "pace",
    "i18n",
)


class ConfigError(Exception):
    """The configuration has problems; every one of them is listed."""

    def __init__(self, problems: Sequence[Problem], locale: Locale = "en") -> None:
        super().__init__(f"{len(problems)} configuration problem(s)")
        self.problems = tuple(problems)
        self.locale: Locale = locale


def load_settings(path: Path | None, environ: Mapping[str, str]) -> Settings:
    """Read ``path`` (TOML) and ``environ`` into :class:`Settings`.

    Args:
        path: the config file; ``None`` means "no file" (defaults only, useful for the demo).
        environ: the process environment (or a dict in tests).

    Raises:
        ConfigError: with every problem found, each with its key path.
    """
    problems: list[Problem] = []
    raw: Mapping[str, Any] = {}
    base = Path.cwd()
    if path is not None:
        base = path.resolve().parent
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError([Problem(str(path), "file_missing")]) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError([Problem(str(path), "bad_toml", {"reason": str(exc)})]) from None
    return settings_from_mapping(raw, environ, base=base, problems=problems)


def settings_from_mapping(
    raw: Mapping[str, Any],
    environ: Mapping[str, str],
    *,
    base: Path | None = None,
    problems: list[Problem] | None = None,
) -> Settings:
    """Validate an already-parsed TOML mapping (see :func:`load_settings`)."""
    problems = [] if problems is None else problems
    r = Reader(problems)
    r.known(raw, "", TOP_KEYS)
    locale, timezone = _locale_and_timezone(r, raw)
    fiscal_year_start = _fiscal_year_start(r, raw)
    database = read_database(r, raw, environ, base or Path.cwd())
    server = read_server(r, raw, environ)
    roles = read_roles(r, raw)
    review = read_review(r, raw)
    kpi = read_kpi_command(r, raw)
    digest = read_digest(r, raw)
    participation = read_participation(r, raw)
    scheduler = read_scheduler(r, raw)
    collectors = read_collectors(r, raw)
    accounts = read_accounts(r, raw)
    kpis = read_kpis(r, raw, accounts)
    search_console = read_search_console(r, raw, kpis)
    slack = read_slack(r, raw)
    logging_settings = read_logging(r, raw)
    secrets = read_secrets(r, environ)
    api_url = read_slack_api_url(r, environ)
    milestones = read_milestones(r, raw)
    pace = read_pace(r, raw)
    i18n = read_i18n(r, raw)
    if problems:
        raise ConfigError(problems, locale)
    return Settings(
        locale=locale,
        timezone=timezone,
        database=database,
        server=server,
        roles=roles,
        review=review,
        kpi=kpi,
        digest=digest,
        scheduler=scheduler,
        collectors=collectors,
        search_console=search_console,
        slack=slack,
        logging=logging_settings,
        accounts=accounts,
        kpis=kpis,
        secrets=secrets,
        slack_api_url=api_url,
        fiscal_year_start=fiscal_year_start,
        participation=participation,
        milestones=milestones,
        pace=pace,
        i18n=i18n,
    )


def _locale_and_timezone(r: Reader, raw: Mapping[str, Any]) -> tuple[Locale, str]:
    """The language of everything posted, and a known IANA zone (``UTC`` after a problem)."""
    locale = r.choice(raw, "locale", "", LOCALES, "ja")
    timezone = r.get(raw, "timezone", "", str, "Asia/Tokyo")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        r.add("timezone", "bad_timezone", value=timezone)
        timezone = "UTC"
    return locale, timezone


def _fiscal_year_start(r: Reader, raw: Mapping[str, Any]) -> int:
    """The month (1-12) the fiscal year starts in; April, Japan's usual 「年度」, by default."""
    month = r.get(raw, "fiscal_year_start", "", int, DEFAULT_FISCAL_YEAR_START)
    if not 1 <= month <= 12:
        r.add("fiscal_year_start", "bad_month", value=str(month))
        return DEFAULT_FISCAL_YEAR_START
    return int(month)


def problems_for_run(settings: Settings) -> list[Problem]:
    """What ``sns-bot run`` needs beyond a valid file: the Slack secrets of the chosen mode."""
    out: list[Problem] = []
    if settings.secrets.slack_bot_token is None:
        out.append(Problem("$SLACK_BOT_TOKEN", "missing_secret"))
    if not settings.socket_mode and settings.secrets.slack_signing_secret is None:
        out.append(Problem("$SLACK_SIGNING_SECRET", "missing_secret_http"))
    return out


def resolve_config_path(cli_value: str | None, environ: Mapping[str, str]) -> Path:
    """``--config``, else ``$SNS_BOT_CONFIG``, else ``./config.toml``."""
    return Path(cli_value or environ.get("SNS_BOT_CONFIG") or "config.toml")
