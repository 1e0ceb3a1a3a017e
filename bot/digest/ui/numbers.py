"""Numbers as a digest writes them: separators, units, percentages, signed changes (pure)."""

from __future__ import annotations

from bot.config import KpiSettings
from bot.i18n import Translator


def fmt_number(value: float, decimals: int = 0) -> str:
    """``12,345`` / ``3.4``: thousands separators, fixed decimals, never ``-0``."""
    text = f"{value:,.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


def fmt_value(value: float | None, *, unit: str, decimals: int, t: Translator) -> str:
    """A KPI value with its unit as the locale writes it (``3.4 %`` in English, ``3.4%`` in Japanese)."""
    if value is None:
        return t("digest.words.na")
    number = fmt_number(value, decimals)
    if unit == "%":
        return t("digest.units.percent", value=number)
    if not unit:
        return number
    return t("digest.units.with_unit", value=number, unit=unit)


def fmt_pct(value: float | None, t: Translator, *, signed: bool = False) -> str:
    if value is None:
        return t("digest.words.na")
    number = fmt_number(value, 0)
    if signed and round(value) > 0:
        number = "+" + number
    return t("digest.units.percent", value=number)


def fmt_change(delta: float | None, pct: float | None, *, kpi: KpiSettings, t: Translator) -> str:
    """A signed change: ``+0.4 pt`` for a percentage KPI, ``+6 (+21 %)`` otherwise."""
    if delta is None:
        return t("digest.words.na")
    number = fmt_number(delta, kpi.decimals)
    signed = number if number.startswith("-") or float(number.replace(",", "")) == 0 else "+" + number
    if kpi.unit == "%":
        return t("digest.units.points", value=signed)
    if pct is None:
        return signed
    return t("digest.units.change_with_pct", value=signed, pct=fmt_pct(pct, t, signed=True))


def fmt_hours(hours: float | None, t: Translator) -> str:
    if hours is None:
        return t("digest.words.na")
    return t("digest.units.hours", value=fmt_number(hours, 1))


def fmt_abs_delta(delta: float, kpi: KpiSettings, t: Translator) -> str:
    number = fmt_number(abs(delta), kpi.decimals)
    if kpi.unit == "%":
        return t("digest.units.points", value=number)
    return fmt_value(abs(delta), unit=kpi.unit, decimals=kpi.decimals, t=t)
