"""Settings: one TOML file plus the environment, validated into frozen dataclasses (pure).

``load_settings(path, environ)`` never touches the process environment or the network: the
caller passes both in, so tests build settings from dicts. Validation collects *every* problem
with its key path instead of stopping at the first, and secrets only ever come from the
environment, wrapped in :class:`Secret` so no repr, log line or traceback shows them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.i18n import LOCALES, Locale, Translator

PLATFORMS = ("x", "instagram", "threads", "youtube", "tiktok", "linkedin", "facebook", "note", "other")
AGGREGATES = ("sum", "last", "mean", "derived")
DERIVATIONS = ("engagement_rate", "impressions", "engagements", "posts_published", "follower_growth")

#: Draft length limits per platform (characters; X counts with its weighted rule).
DEFAULT_MAX_LENGTH: Mapping[str, int | None] = {
    "x": 280,
    "instagram": 2200,
    "threads": 500,
    "linkedin": 3000,
    "youtube": 5000,
    "tiktok": 2200,
    "facebook": None,
    "note": None,
    "other": None,
}

#: Change-request reason labels offered by default (keys; labels live in the review catalog).
DEFAULT_REASONS = (
    "tone",
    "unsupported_claim",
    "missing_asset",
    "timing_conflict",
    "brand_guideline",
    "legal_risk",
    "typo",
)

DEFAULT_API_URL = "https://slack.com/api/"

_USER_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")
_USERGROUP_RE = re.compile(r"^S[A-Z0-9]{2,}$")
_CHANNEL_RE = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_COMMAND_RE = re.compile(r"^/[a-z0-9_-]{1,31}$")
_HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_PLACEHOLDER_RE = re.compile(r"(your|change.?me|placeholder|example|xxxx|<|…|\.\.\.)", re.IGNORECASE)


class Secret:
    """A secret string whose repr and str never show the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# ---------------------------------------------------------------------------------------------
# Settings dataclasses
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocalizedText:
    ja: str
    en: str

    def get(self, locale: Locale) -> str:
        return self.ja if locale == "ja" else self.en


@dataclass(frozen=True, slots=True)
class ApprovalStep:
    """One step of an approval chain: users (``U…``) and user groups (``S…``), any or all of them."""

    approvers: tuple[str, ...]
    mode: Literal["any", "all"] = "any"


@dataclass(frozen=True, slots=True)
class AccountSettings:
    key: str
    platform: str
    handle: str
    name: str
    #: ``None`` means no limit; X counts with its weighted rule.
    max_length: int | None
    #: Empty means the default chain: one step, any manager.
    approval: tuple[ApprovalStep, ...]
    #: The platform's own id of the account (X user id, Instagram user id, YouTube channel id),
    #: needed by collectors for follower counts.
    platform_id: str | None = None


@dataclass(frozen=True, slots=True)
class KpiSettings:
    key: str
    name: LocalizedText
    unit: str
    aggregate: Literal["sum", "last", "mean", "derived"]
    better: Literal["higher", "lower"]
    target: float | None
    why: LocalizedText
    derive: str | None = None
    #: Derived KPIs: which accounts' posts count (empty: all accounts).
    accounts: tuple[str, ...] = ()
    #: Decimal places shown.
    decimals: int = 0


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    #: The URL as configured, password included; never logged or shown (see :func:`mask_database_url`).
    url: str = field(repr=False)

    def __repr__(self) -> str:
        return f"DatabaseSettings(url={mask_database_url(self.url)!r})"

    def secrets(self) -> tuple[str, ...]:
        """The password as written in the URL (percent-encoded) and as decoded, for log redaction."""
        return database_password_forms(self.url)


# ``scheme://user:password@host``: everything between the user's colon and the last ``@`` of the
# URL is the password, however it is (or is not) percent-encoded.
_URL_PASSWORD_RE = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)[^\s'\"]*@", re.IGNORECASE)


def mask_database_url(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` in it replaced by asterisks."""
    return _URL_PASSWORD_RE.sub(r"\1**********@", text)


def database_password_forms(url: str) -> tuple[str, ...]:
    """The password of ``url`` as written there and percent-decoded (empty without a password)."""
    from urllib.parse import unquote

    match = re.match(r"^[a-z][a-z0-9+.-]*://[^:/@\s]*:(.*)@[^@]*$", url, re.IGNORECASE | re.DOTALL)
    if match is None or not match.group(1):
        return ()
    written = match.group(1)
    return tuple(dict.fromkeys((written, unquote(written))))


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
class RoleSettings:
    managers: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WorkingHours:
    start: time = time(9, 0)
    end: time = time(18, 0)
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    japanese_holidays: bool = True
    #: Company days off beyond public holidays, as "MM-DD" (e.g. New Year "01-02", "01-03", "12-31").
    extra_days_off: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReviewSettings:
    channel: str
    remind_after_hours: float = 24
    escalate_after_hours: float = 72
    escalation_channel: str | None = None
    #: Each further reminder waits this many times longer than the previous one.
    reminder_backoff: float = 2.0
    #: Escalate when the due time is this close (working hours) and no decision was made.
    escalate_before_due_hours: float = 4
    reasons: tuple[str, ...] = DEFAULT_REASONS
    #: Extra reason labels beyond the built-in ones: key -> {ja, en}.
    custom_reasons: Mapping[str, LocalizedText] = field(default_factory=dict)
    working_hours: WorkingHours = WorkingHours()
    #: Cron (5 fields) for the reminder sweep.
    sweep_cron: str = "*/10 * * * *"
    #: "Mark as published" accepts publish times at most this many days ago.
    publish_window_days: int = 30


@dataclass(frozen=True, slots=True)
class KpiCommandSettings:
    #: Who may record values with ``/sns-kpi set``: admins, managers (and admins) or everyone.
    setters: Literal["admins", "managers", "everyone"] = "admins"
    #: Channels where ``/sns-kpi KEY`` shares its chart with everyone; anywhere else the chart goes
    #: to the asker's direct message with the bot (the numbers are answered privately anyway).
    chart_channels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WeeklyDigestSettings:
    channels: tuple[str, ...] = ()
    cron: str = "0 9 * * mon"
    min_impressions: int = 100
    top_posts: int = 5
    #: What a week with no activity does: post one short line, or skip.
    when_empty: Literal["post", "skip"] = "post"


@dataclass(frozen=True, slots=True)
class MonthlyDigestSettings:
    channels: tuple[str, ...] = ()
    #: ``None``: first Japanese business day at ``at``.
    cron: str | None = None
    at: time = time(9, 0)
    best_posts: int = 3
    when_empty: Literal["post", "skip"] = "post"


@dataclass(frozen=True, slots=True)
class DigestSettings:
    catch_up_days: float = 3
    weekly: WeeklyDigestSettings = WeeklyDigestSettings()
    monthly: MonthlyDigestSettings = MonthlyDigestSettings()
    #: A claim on a digest post older than this is considered abandoned (the poster died).
    lease_seconds: int = 120


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
class SearchConsoleSettings:
    #: KPI key the branded-search volume of a Search Console export is recorded under.
    kpi: str | None = None
    brand_terms: tuple[str, ...] = ()
    metric: Literal["clicks", "impressions"] = "impressions"


@dataclass(frozen=True, slots=True)
class SlackSettings:
    app_name: str = "SNS Team Bot"
    review_command: str = "/sns-review"
    kpi_command: str = "/sns-kpi"


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    level: str = "INFO"
    format: Literal["text", "json"] = "text"


@dataclass(frozen=True, slots=True)
class Secrets:
    slack_bot_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_app_token: Secret | None = None
    x_bearer_token: Secret | None = None
    instagram_access_token: Secret | None = None
    youtube_api_key: Secret | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    locale: Locale
    timezone: str
    database: DatabaseSettings
    server: ServerSettings
    roles: RoleSettings
    review: ReviewSettings
    kpi: KpiCommandSettings
    digest: DigestSettings
    scheduler: SchedulerSettings
    collectors: CollectorSettings
    search_console: SearchConsoleSettings
    slack: SlackSettings
    logging: LoggingSettings
    accounts: tuple[AccountSettings, ...]
    kpis: tuple[KpiSettings, ...]
    secrets: Secrets
    slack_api_url: str = DEFAULT_API_URL

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def socket_mode(self) -> bool:
        return self.secrets.slack_app_token is not None

    def account(self, key: str) -> AccountSettings | None:
        return next((a for a in self.accounts if a.key == key), None)

    def kpi_def(self, key: str) -> KpiSettings | None:
        return next((k for k in self.kpis if k.key == key), None)

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.roles.admins

    def is_manager(self, user_id: str) -> bool:
        """Configured as a manager by user id (user-group membership is resolved through Slack)."""
        return user_id in self.roles.managers


# ---------------------------------------------------------------------------------------------
# Problems
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the configuration: where, and a catalog key saying what."""

    path: str
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, t: Translator) -> str:
        return f"{self.path}: {t('config.' + self.key, **self.params)}"


class ConfigError(Exception):
    """The configuration has problems; every one of them is listed."""

    def __init__(self, problems: Sequence[Problem], locale: Locale = "en") -> None:
        super().__init__(f"{len(problems)} configuration problem(s)")
        self.problems = tuple(problems)
        self.locale: Locale = locale


class _Reader:
    """Walks a TOML table, recording problems instead of raising, and flags unknown keys."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems

    def add(self, path: str, key: str, **params: Any) -> None:
        self.problems.append(Problem(path, key, params))

    def table(self, raw: Mapping[str, Any], name: str, path: str) -> Mapping[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, Mapping):
            self.add(_join(path, name), "not_table")
            return {}
        return value

    def known(self, raw: Mapping[str, Any], path: str, allowed: Sequence[str]) -> None:
        for key in raw:
            if key not in allowed:
                self.add(_join(path, key), "unknown_key", allowed=", ".join(allowed))

    def get(
        self,
        raw: Mapping[str, Any],
        name: str,
        path: str,
        kind: type | tuple[type, ...],
        default: Any = None,
        *,
        required: bool = False,
    ) -> Any:
        full = _join(path, name)
        if name not in raw:
            if required:
                self.add(full, "missing")
            return default
        value = raw[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int in Python; a TOML `true` must not pass as a number.
        if isinstance(value, bool) and bool not in kinds:
            self.add(full, "wrong_type", expected=_type_names(kinds))
            return default
        if not isinstance(value, kinds):
            self.add(full, "wrong_type", expected=_type_names(kinds))
            return default
        return value

    def str_list(self, raw: Mapping[str, Any], name: str, path: str) -> tuple[str, ...]:
        value = self.get(raw, name, path, list, [])
        out: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                out.append(item)
            else:
                self.add(f"{_join(path, name)}[{i}]", "wrong_type", expected="string")
        return tuple(out)

    def ids(
        self, raw: Mapping[str, Any], name: str, path: str, check: Callable[[str], bool], what: str
    ) -> tuple[str, ...]:
        values = self.str_list(raw, name, path)
        for i, item in enumerate(values):
            if not check(item):
                self.add(f"{_join(path, name)}[{i}]", "bad_id", value=item, what=what)
        return values

    def positive(self, raw: Mapping[str, Any], name: str, path: str, default: float) -> float:
        value = self.get(raw, name, path, (int, float), default)
        if value <= 0:
            self.add(_join(path, name), "not_positive")
            return default
        return float(value)

    def choice(
        self, raw: Mapping[str, Any], name: str, path: str, choices: Sequence[str], default: Any
    ) -> Any:
        value = self.get(raw, name, path, str, default)
        if value is not None and value not in choices:
            self.add(_join(path, name), "bad_choice", value=value, choices=" | ".join(choices))
            return default
        return value

    def localized(self, raw: Mapping[str, Any], name: str, path: str, *, required: bool) -> LocalizedText:
        full = _join(path, name)
        value = raw.get(name)
        if value is None:
            if required:
                self.add(full, "missing")
            return LocalizedText("", "")
        if isinstance(value, str):  # one text for both languages is allowed
            return LocalizedText(value, value)
        if not isinstance(value, Mapping):
            self.add(full, "wrong_type", expected="{ ja = …, en = … }")
            return LocalizedText("", "")
        self.known(value, full, LOCALES)
        texts = {}
        for locale in LOCALES:
            text = value.get(locale)
            if not isinstance(text, str) or not text.strip():
                self.add(f"{full}.{locale}", "missing")
                text = ""
            texts[locale] = text
        return LocalizedText(ja=texts["ja"], en=texts["en"])


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _type_names(kinds: tuple[type, ...]) -> str:
    names = {
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        list: "array",
        dict: "table",
    }
    return " | ".join(names.get(k, k.__name__) for k in kinds)


def is_user_id(value: str) -> bool:
    return bool(_USER_RE.match(value))


def is_usergroup_id(value: str) -> bool:
    return bool(_USERGROUP_RE.match(value))


def is_channel_id(value: str) -> bool:
    return bool(_CHANNEL_RE.match(value))


def _user_or_group(value: str) -> bool:
    return is_user_id(value) or is_usergroup_id(value)


def check_cron(expr: str) -> str | None:
    """``None`` when ``expr`` is a valid 5-field crontab, else the reason."""
    from apscheduler.triggers.cron import CronTrigger

    if len(expr.split()) != 5:
        return "5 fields"
    try:
        CronTrigger.from_crontab(expr, timezone="UTC")
    except ValueError as exc:
        return str(exc)
    return None


def _parse_hhmm(r: _Reader, raw: Mapping[str, Any], name: str, path: str, default: time) -> time:
    value = r.get(raw, name, path, str, None)
    if value is None:
        return default
    match = _HHMM_RE.match(value)
    if not match:
        r.add(_join(path, name), "bad_time", value=value)
        return default
    return time(int(match.group(1)), int(match.group(2)))


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def _secret(environ: Mapping[str, str], name: str, problems: list[Problem]) -> Secret | None:
    value = environ.get(name, "").strip()
    if not value:
        return None
    if _PLACEHOLDER_RE.search(value):
        problems.append(Problem(f"${name}", "placeholder_secret"))
    return Secret(value)


def _database_url(r: _Reader, raw: Mapping[str, Any], environ: Mapping[str, str], base: Path) -> str:
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
    return url


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


def _accounts(r: _Reader, raw: Mapping[str, Any]) -> tuple[AccountSettings, ...]:
    items = raw.get("accounts", [])
    if not isinstance(items, list):
        r.add("accounts", "wrong_type", expected="[[accounts]]")
        return ()
    out: list[AccountSettings] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        path = f"accounts[{i}]"
        if not isinstance(item, Mapping):
            r.add(path, "not_table")
            continue
        r.known(item, path, ("key", "platform", "handle", "name", "max_length", "approval", "platform_id"))
        key = r.get(item, "key", path, str, "", required=True)
        if key and not _KEY_RE.match(key):
            r.add(f"{path}.key", "bad_key", value=key)
        if key in seen:
            r.add(f"{path}.key", "duplicate", value=key)
        seen.add(key)
        platform = r.choice(item, "platform", path, PLATFORMS, "other")
        if "platform" not in item:
            r.add(f"{path}.platform", "missing")
        handle = r.get(item, "handle", path, str, "")
        name = r.get(item, "name", path, str, handle or key)
        max_length: int | None = DEFAULT_MAX_LENGTH.get(platform)
        if "max_length" in item:
            value = r.get(item, "max_length", path, int, max_length)
            # 0 switches the limit off for a platform that has one.
            max_length = None if value == 0 else value
            if value is not None and value < 0:
                r.add(f"{path}.max_length", "not_positive")
        steps: list[ApprovalStep] = []
        for j, step in enumerate(r.get(item, "approval", path, list, [])):
            spath = f"{path}.approval[{j}]"
            if not isinstance(step, Mapping):
                r.add(spath, "not_table")
                continue
            r.known(step, spath, ("approvers", "mode"))
            approvers = r.ids(step, "approvers", spath, _user_or_group, "user or user group")
            if not approvers:
                r.add(f"{spath}.approvers", "missing")
            mode = r.choice(step, "mode", spath, ("any", "all"), "any")
            steps.append(ApprovalStep(approvers=approvers, mode=mode))
        platform_id = r.get(item, "platform_id", path, str, None)
        out.append(AccountSettings(key, platform, handle, name, max_length, tuple(steps), platform_id))
    return tuple(out)


def _kpis(r: _Reader, raw: Mapping[str, Any], accounts: Sequence[AccountSettings]) -> tuple[KpiSettings, ...]:
    items = raw.get("kpis", [])
    if not isinstance(items, list):
        r.add("kpis", "wrong_type", expected="[[kpis]]")
        return ()
    account_keys = {a.key for a in accounts}
    out: list[KpiSettings] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        path = f"kpis[{i}]"
        if not isinstance(item, Mapping):
            r.add(path, "not_table")
            continue
        allowed = (
            "key",
            "name",
            "unit",
            "aggregate",
            "derive",
            "better",
            "target",
            "why",
            "accounts",
            "decimals",
        )
        r.known(item, path, allowed)
        key = r.get(item, "key", path, str, "", required=True)
        if key and not _KEY_RE.match(key):
            r.add(f"{path}.key", "bad_key", value=key)
        if key in seen:
            r.add(f"{path}.key", "duplicate", value=key)
        seen.add(key)
        name = r.localized(item, "name", path, required=True)
        why = r.localized(item, "why", path, required=True)
        unit = r.get(item, "unit", path, str, "")
        aggregate = r.choice(item, "aggregate", path, AGGREGATES, "sum")
        if "aggregate" not in item:
            r.add(f"{path}.aggregate", "missing")
        better = r.choice(item, "better", path, ("higher", "lower"), "higher")
        target = r.get(item, "target", path, (int, float), None)
        if target is not None:
            target = float(target)
            if target < 0:
                r.add(f"{path}.target", "negative")
        derive = r.choice(item, "derive", path, DERIVATIONS, None)
        if aggregate == "derived" and derive is None:
            r.add(f"{path}.derive", "missing")
        if aggregate != "derived" and "derive" in item:
            r.add(f"{path}.derive", "derive_without_derived")
        kpi_accounts = r.str_list(item, "accounts", path)
        for j, acc in enumerate(kpi_accounts):
            if acc not in account_keys:
                r.add(f"{path}.accounts[{j}]", "unknown_account", value=acc)
        default_decimals = 1 if unit == "%" else 0
        decimals = r.get(item, "decimals", path, int, default_decimals)
        if not 0 <= decimals <= 4:
            r.add(f"{path}.decimals", "bad_choice", value=str(decimals), choices="0 … 4")
            decimals = default_decimals
        out.append(
            KpiSettings(key, name, unit, aggregate, better, target, why, derive, kpi_accounts, decimals)
        )
    return tuple(out)


def _review(r: _Reader, raw: Mapping[str, Any]) -> ReviewSettings:
    t = r.table(raw, "review", "")
    allowed = (
        "channel",
        "remind_after_hours",
        "escalate_after_hours",
        "escalation_channel",
        "reminder_backoff",
        "escalate_before_due_hours",
        "reasons",
        "custom_reasons",
        "working_hours",
        "sweep_cron",
        "publish_window_days",
    )
    r.known(t, "review", allowed)
    channel = r.get(t, "channel", "review", str, "", required=True)
    if channel and not is_channel_id(channel):
        r.add("review.channel", "bad_id", value=channel, what="channel")
    escalation = r.get(t, "escalation_channel", "review", str, None)
    if escalation is not None and not is_channel_id(escalation):
        r.add("review.escalation_channel", "bad_id", value=escalation, what="channel")
    remind = r.positive(t, "remind_after_hours", "review", 24)
    escalate = r.positive(t, "escalate_after_hours", "review", 72)
    if escalate <= remind:
        r.add("review.escalate_after_hours", "escalate_before_remind")
    backoff = r.get(t, "reminder_backoff", "review", (int, float), 2.0)
    if backoff < 1:
        r.add("review.reminder_backoff", "bad_choice", value=str(backoff), choices="≥ 1")
        backoff = 2.0
    before_due = r.positive(t, "escalate_before_due_hours", "review", 4)
    custom: dict[str, LocalizedText] = {}
    custom_raw = r.table(t, "custom_reasons", "review")
    for key in custom_raw:
        if not _KEY_RE.match(key):
            r.add(f"review.custom_reasons.{key}", "bad_key", value=key)
        custom[key] = r.localized(custom_raw, key, "review.custom_reasons", required=True)
    reasons = r.str_list(t, "reasons", "review") if "reasons" in t else DEFAULT_REASONS
    for i, reason in enumerate(reasons):
        if reason not in DEFAULT_REASONS and reason not in custom:
            r.add(f"review.reasons[{i}]", "unknown_reason", value=reason)
    for key in custom:
        if key not in reasons:
            reasons = (*reasons, key)
    wh_raw = r.table(t, "working_hours", "review")
    r.known(
        wh_raw, "review.working_hours", ("start", "end", "weekdays", "japanese_holidays", "extra_days_off")
    )
    start = _parse_hhmm(r, wh_raw, "start", "review.working_hours", time(9))
    end = _parse_hhmm(r, wh_raw, "end", "review.working_hours", time(18))
    if end <= start:
        r.add("review.working_hours.end", "end_before_start")
    weekdays = tuple(r.get(wh_raw, "weekdays", "review.working_hours", list, [0, 1, 2, 3, 4]))
    if not weekdays or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in weekdays
    ):
        r.add("review.working_hours.weekdays", "bad_weekdays")
        weekdays = (0, 1, 2, 3, 4)
    holidays_on = r.get(wh_raw, "japanese_holidays", "review.working_hours", bool, True)
    days_off = r.str_list(wh_raw, "extra_days_off", "review.working_hours")
    for i, day in enumerate(days_off):
        if not re.match(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$", day):
            r.add(f"review.working_hours.extra_days_off[{i}]", "bad_day", value=day)
    window = r.get(t, "publish_window_days", "review", int, 30)
    if not 1 <= window <= 3650:
        r.add("review.publish_window_days", "bad_choice", value=str(window), choices="1 … 3650")
        window = 30
    sweep = r.get(t, "sweep_cron", "review", str, "*/10 * * * *")
    if (why := check_cron(sweep)) is not None:
        r.add("review.sweep_cron", "bad_cron", value=sweep, reason=why)
    return ReviewSettings(
        channel=channel,
        remind_after_hours=remind,
        escalate_after_hours=escalate,
        escalation_channel=escalation,
        reminder_backoff=float(backoff),
        escalate_before_due_hours=before_due,
        reasons=tuple(reasons),
        custom_reasons=custom,
        working_hours=WorkingHours(start, end, weekdays, holidays_on, days_off),
        sweep_cron=sweep,
        publish_window_days=window,
    )


def _channels(r: _Reader, raw: Mapping[str, Any], path: str) -> tuple[str, ...]:
    return r.ids(raw, "channels", path, is_channel_id, "channel")


def _digest(r: _Reader, raw: Mapping[str, Any]) -> DigestSettings:
    t = r.table(raw, "digest", "")
    r.known(t, "digest", ("catch_up_days", "weekly", "monthly", "lease_seconds"))
    catch_up = r.get(t, "catch_up_days", "digest", (int, float), 3)
    if catch_up < 0:
        r.add("digest.catch_up_days", "negative")
        catch_up = 3
    lease = r.get(t, "lease_seconds", "digest", int, 120)
    if lease < 10:
        r.add("digest.lease_seconds", "bad_choice", value=str(lease), choices="≥ 10")
        lease = 120
    w = r.table(t, "weekly", "digest")
    r.known(w, "digest.weekly", ("channels", "cron", "min_impressions", "top_posts", "when_empty"))
    w_cron = r.get(w, "cron", "digest.weekly", str, "0 9 * * mon")
    if (why := check_cron(w_cron)) is not None:
        r.add("digest.weekly.cron", "bad_cron", value=w_cron, reason=why)
    min_imp = r.get(w, "min_impressions", "digest.weekly", int, 100)
    if min_imp < 0:
        r.add("digest.weekly.min_impressions", "negative")
        min_imp = 100
    top = r.get(w, "top_posts", "digest.weekly", int, 5)
    if not 1 <= top <= 20:
        r.add("digest.weekly.top_posts", "bad_choice", value=str(top), choices="1 … 20")
        top = 5
    weekly = WeeklyDigestSettings(
        channels=_channels(r, w, "digest.weekly"),
        cron=w_cron,
        min_impressions=min_imp,
        top_posts=top,
        when_empty=r.choice(w, "when_empty", "digest.weekly", ("post", "skip"), "post"),
    )
    m = r.table(t, "monthly", "digest")
    r.known(m, "digest.monthly", ("channels", "cron", "at", "best_posts", "when_empty"))
    m_cron = r.get(m, "cron", "digest.monthly", str, None)
    if m_cron is not None and (why := check_cron(m_cron)) is not None:
        r.add("digest.monthly.cron", "bad_cron", value=m_cron, reason=why)
    best = r.get(m, "best_posts", "digest.monthly", int, 3)
    if not 1 <= best <= 10:
        r.add("digest.monthly.best_posts", "bad_choice", value=str(best), choices="1 … 10")
        best = 3
    monthly = MonthlyDigestSettings(
        channels=_channels(r, m, "digest.monthly"),
        cron=m_cron,
        at=_parse_hhmm(r, m, "at", "digest.monthly", time(9)),
        best_posts=best,
        when_empty=r.choice(m, "when_empty", "digest.monthly", ("post", "skip"), "post"),
    )
    return DigestSettings(catch_up_days=float(catch_up), weekly=weekly, monthly=monthly, lease_seconds=lease)


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
    r = _Reader(problems)
    top_keys = (
        "locale",
        "timezone",
        "database",
        "server",
        "roles",
        "review",
        "kpi",
        "digest",
        "scheduler",
        "collectors",
        "search_console",
        "slack",
        "logging",
        "accounts",
        "kpis",
    )
    r.known(raw, "", top_keys)

    locale = r.choice(raw, "locale", "", LOCALES, "ja")
    timezone = r.get(raw, "timezone", "", str, "Asia/Tokyo")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        r.add("timezone", "bad_timezone", value=timezone)
        timezone = "UTC"

    database = DatabaseSettings(_database_url(r, raw, environ, base or Path.cwd()))

    s = r.table(raw, "server", "")
    r.known(
        s, "server", ("host", "port", "path", "public_url", "max_concurrent_work", "read_timeout_seconds")
    )
    port: int = r.get(s, "port", "server", int, 3000)
    if environ.get("PORT"):
        try:
            port = int(environ["PORT"])
        except ValueError:
            r.add("$PORT", "wrong_type", expected="integer")
    if not 1 <= port <= 65535:
        r.add("server.port", "bad_port", value=str(port))
    public_url = r.get(s, "public_url", "server", str, None)
    if public_url is not None and not public_url.startswith(("https://", "http://")):
        r.add("server.public_url", "bad_url", value=public_url)
    server = ServerSettings(
        host=r.get(s, "host", "server", str, "0.0.0.0"),
        port=port,
        path=r.get(s, "path", "server", str, "/slack/events"),
        public_url=public_url.rstrip("/") if public_url else None,
        max_concurrent_work=int(r.positive(s, "max_concurrent_work", "server", 8)),
        read_timeout_seconds=r.positive(s, "read_timeout_seconds", "server", 10.0),
    )

    ro = r.table(raw, "roles", "")
    r.known(ro, "roles", ("managers", "admins"))
    roles = RoleSettings(
        managers=r.ids(ro, "managers", "roles", _user_or_group, "user or user group"),
        admins=r.ids(ro, "admins", "roles", is_user_id, "user"),
    )
    if not roles.managers:
        r.add("roles.managers", "missing")
    if not roles.admins:
        r.add("roles.admins", "missing")

    review = _review(r, raw)
    k = r.table(raw, "kpi", "")
    r.known(k, "kpi", ("setters", "chart_channels"))
    kpi = KpiCommandSettings(
        setters=r.choice(k, "setters", "kpi", ("admins", "managers", "everyone"), "admins"),
        chart_channels=r.ids(k, "chart_channels", "kpi", is_channel_id, "channel"),
    )
    digest = _digest(r, raw)

    sc = r.table(raw, "scheduler", "")
    r.known(sc, "scheduler", ("enabled",))
    scheduler = SchedulerSettings(enabled=r.get(sc, "enabled", "scheduler", bool, True))

    c = r.table(raw, "collectors", "")
    r.known(c, "collectors", ("cron", "lookback_days", "concurrency", "timeout_seconds"))
    c_cron = r.get(c, "cron", "collectors", str, "30 6 * * *")
    if (why := check_cron(c_cron)) is not None:
        r.add("collectors.cron", "bad_cron", value=c_cron, reason=why)
    collectors = CollectorSettings(
        cron=c_cron,
        lookback_days=int(r.positive(c, "lookback_days", "collectors", 30)),
        concurrency=int(r.positive(c, "concurrency", "collectors", 4)),
        timeout_seconds=r.positive(c, "timeout_seconds", "collectors", 15.0),
    )

    accounts = _accounts(r, raw)
    if not accounts:
        r.add("accounts", "missing")
    kpis = _kpis(r, raw, accounts)

    g = r.table(raw, "search_console", "")
    r.known(g, "search_console", ("kpi", "brand_terms", "metric"))
    sc_kpi = r.get(g, "kpi", "search_console", str, None)
    if sc_kpi is not None and sc_kpi not in {x.key for x in kpis}:
        r.add("search_console.kpi", "unknown_kpi", value=sc_kpi)
    search_console = SearchConsoleSettings(
        kpi=sc_kpi,
        brand_terms=r.str_list(g, "brand_terms", "search_console"),
        metric=r.choice(g, "metric", "search_console", ("clicks", "impressions"), "impressions"),
    )

    sl = r.table(raw, "slack", "")
    r.known(sl, "slack", ("app_name", "review_command", "kpi_command"))
    slack = SlackSettings(
        app_name=r.get(sl, "app_name", "slack", str, "SNS Team Bot"),
        review_command=r.get(sl, "review_command", "slack", str, "/sns-review"),
        kpi_command=r.get(sl, "kpi_command", "slack", str, "/sns-kpi"),
    )
    for name in ("review_command", "kpi_command"):
        if not _COMMAND_RE.match(getattr(slack, name)):
            r.add(f"slack.{name}", "bad_command", value=getattr(slack, name))
    if slack.review_command == slack.kpi_command:
        r.add("slack.kpi_command", "duplicate", value=slack.kpi_command)

    lg = r.table(raw, "logging", "")
    r.known(lg, "logging", ("level", "format"))
    logging_settings = LoggingSettings(
        level=r.choice(lg, "level", "logging", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO"),
        format=r.choice(lg, "format", "logging", ("text", "json"), "text"),
    )

    secrets = Secrets(
        slack_bot_token=_secret(environ, "SLACK_BOT_TOKEN", problems),
        slack_signing_secret=_secret(environ, "SLACK_SIGNING_SECRET", problems),
        slack_app_token=_secret(environ, "SLACK_APP_TOKEN", problems),
        x_bearer_token=_secret(environ, "X_BEARER_TOKEN", problems),
        instagram_access_token=_secret(environ, "INSTAGRAM_ACCESS_TOKEN", problems),
        youtube_api_key=_secret(environ, "YOUTUBE_API_KEY", problems),
    )
    if secrets.slack_bot_token and not secrets.slack_bot_token.get().startswith("xoxb-"):
        problems.append(Problem("$SLACK_BOT_TOKEN", "bad_token_prefix", {"prefix": "xoxb-"}))
    if secrets.slack_app_token and not secrets.slack_app_token.get().startswith("xapp-"):
        problems.append(Problem("$SLACK_APP_TOKEN", "bad_token_prefix", {"prefix": "xapp-"}))

    api_url = environ.get("SLACK_API_URL") or DEFAULT_API_URL
    if not api_url.startswith(("http://", "https://")):
        problems.append(Problem("$SLACK_API_URL", "bad_url", {"value": api_url}))
    if not api_url.endswith("/"):
        api_url += "/"

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
    )


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
