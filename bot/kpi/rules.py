"""Who may write KPI values and what a typed entry must be (pure): the one copy of each rule, used by
``/sns-kpi set|target``, the App Home's "record a KPI value" modal and the Home's button.

The setter rule takes "is this user a manager" as an argument: the callers know whether they may ask
Slack (after an ack) or only the directory's cache (before one).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.config import KpiSettings, Settings
from bot.errors import BotError, NotAllowed
from bot.kpi.ids import BlockId
from bot.kpi.kinds import Setters, is_derived
from bot.periods import Period, PeriodKind, month_of, parse_period

#: Values above this are typos, not KPI values (and keep floats exact for counts).
MAX_VALUE = 1e15

_NUMBER_RE = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")


class KpiWrite(StrEnum):
    """What a person writes: a month's value (``/sns-kpi set``, the Home's modal) or a target."""

    SET = "set"
    TARGET = "target"


# ---------------------------------------------------------------------------------------------
# Who may write
# ---------------------------------------------------------------------------------------------


def asks_directory(settings: Settings, *, user_id: str, write: KpiWrite) -> bool:
    """True when :func:`check_writer`'s answer for ``user_id`` depends on being a manager."""
    return (
        write is KpiWrite.SET
        and not settings.is_admin(user_id)
        and Setters(settings.kpi.setters) is Setters.MANAGERS
    )


def check_writer(settings: Settings, *, user_id: str, write: KpiWrite, is_manager: bool | None) -> None:
    """Admins may write anything; values (not targets) also whoever ``[kpi] setters`` names.

    Args:
        is_manager: whether ``user_id`` is a manager, ``None`` when not known yet (only read when
            :func:`asks_directory` says so).

    Raises:
        NotAllowed: ``kpi.errors.target_admins`` or ``kpi.errors.setters_<setters>``.
        BotError: ``kpi.errors.role_unknown`` when the answer depends on ``is_manager`` and it is
            ``None``.
    """
    if settings.is_admin(user_id):
        return
    if write is KpiWrite.TARGET:
        raise NotAllowed("kpi.errors.target_admins")
    setters = Setters(settings.kpi.setters)
    if setters is Setters.EVERYONE:
        return
    if setters is Setters.MANAGERS:
        if is_manager is None:
            raise BotError("kpi.errors.role_unknown")
        if is_manager:
            return
    raise NotAllowed(f"kpi.errors.setters_{setters}")


def may_record(settings: Settings, *, user_id: str, is_manager: bool) -> bool:
    """Whether ``user_id`` may record KPI values (the Home shows its button only then)."""
    try:
        check_writer(settings, user_id=user_id, write=KpiWrite.SET, is_manager=is_manager)
    except BotError:
        return False
    return True


def recordable_kpis(settings: Settings) -> tuple[KpiSettings, ...]:
    """KPIs a person can type a value for (derived ones come from post metrics)."""
    return tuple(k for k in settings.kpis if not is_derived(k))


# ---------------------------------------------------------------------------------------------
# What people type
# ---------------------------------------------------------------------------------------------


def require_kpi(settings: Settings, key: str) -> KpiSettings:
    """The configured KPI ``key``.

    Raises:
        BotError: ``kpi.errors.unknown_kpi`` (params ``key``, ``choices``).
    """
    kpi = settings.kpi_def(key)
    if kpi is None:
        raise BotError("kpi.errors.unknown_kpi", key=key, choices=", ".join(k.key for k in settings.kpis))
    return kpi


def parse_value(kpi: KpiSettings, text: str) -> float:
    """A value as typed: ``1234``, ``1,234``, ``3.2``, ``3.2%``, ``¥12,000``, full-width digits.

    Negative values are refused: every built-in kind of KPI (counts, rates, money, volumes) is
    non-negative, and the one that may shrink (follower growth) is derived, never typed.

    Raises:
        BotError: ``kpi.errors.bad_value`` (not a finite number) or ``kpi.errors.negative_value``.
    """
    cleaned = unicodedata.normalize("NFKC", text).strip()
    for decoration in ("¥", "$", "€", "円", "件", "人"):
        cleaned = cleaned.replace(decoration, "")
    if kpi.unit and kpi.unit not in ("%",):
        cleaned = cleaned.replace(kpi.unit, "")
    cleaned = cleaned.removesuffix("%").strip()
    if not cleaned or not _NUMBER_RE.match(cleaned) or not any(ch.isdigit() for ch in cleaned):
        raise BotError("kpi.errors.bad_value", value=text)
    value = float(cleaned.replace(",", ""))
    if not math.isfinite(value) or abs(value) > MAX_VALUE:
        raise BotError("kpi.errors.bad_value", value=text)
    if value < 0:
        raise BotError("kpi.errors.negative_value", value=text)
    return value + 0.0  # turns -0.0 into 0.0


def parse_month(text: str | None, *, now: datetime, tz: ZoneInfo) -> Period:
    """The month to record for: ``YYYY-MM``, default the current month in ``tz``; at most next month.

    Raises:
        BotError: ``kpi.errors.bad_month``, ``periods.errors.out_of_range`` (before 1970 or after
            9999) or ``kpi.errors.month_too_far``.
    """
    current = month_of(now.astimezone(tz).date())
    if text is None:
        return current
    try:
        month = parse_period(PeriodKind.MONTHLY, text)
    except BotError as exc:
        if exc.key == "periods.errors.out_of_range":
            raise
        raise BotError("kpi.errors.bad_month", value=text) from None
    if month > current.next():
        raise BotError("kpi.errors.month_too_far", value=text, latest=current.next().label)
    return month


@dataclass(frozen=True, slots=True)
class KpiEntry:
    """A checked entry: the KPI, the month and the value to write."""

    kpi: KpiSettings
    month: Period
    value: float


def check_entry(
    settings: Settings,
    *,
    write: KpiWrite,
    kpi_key: str | None,
    value_text: str | None,
    month_text: str | None,
    now: datetime,
) -> KpiEntry:
    """A KPI, a value and a month as typed (``month_text`` ``None``: this month), checked.

    Values of derived KPIs cannot be set (their targets can).

    Raises:
        BotError: saying what is wrong, with the ``block_id`` of the record modal's input at fault
            (shown inline there; a slash command's answer does not use it).
    """
    if not kpi_key:
        raise BotError("kpi.errors.kpi_missing", block_id=BlockId.KPI)
    try:
        kpi = require_kpi(settings, kpi_key)
    except BotError as exc:
        raise BotError(exc.key, block_id=BlockId.KPI, **exc.params) from None
    if write is KpiWrite.SET and is_derived(kpi):
        raise BotError("kpi.errors.derived", block_id=BlockId.KPI, name=kpi.name)
    try:
        value = parse_value(kpi, value_text or "")
    except BotError as exc:
        raise BotError(exc.key, block_id=BlockId.VALUE, **exc.params) from None
    try:
        month = parse_month(month_text or None, now=now, tz=settings.tz)
    except BotError as exc:
        raise BotError(exc.key, block_id=BlockId.MONTH, **exc.params) from None
    return KpiEntry(kpi=kpi, month=month, value=value)
