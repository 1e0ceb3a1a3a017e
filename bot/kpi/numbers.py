"""KPI numbers as people read them: ``1,234`` · ``3.2%`` · ``¥12,000`` · ``+0.4 pt`` (pure).

Japanese and English business writing group digits the same way (``1,234``) and put ``%`` and
``¥`` in the same places, so only the word for percentage points comes from the catalog.
"""

from __future__ import annotations

import math

from bot.config import KpiSettings
from bot.i18n import Translator

#: Units written before the number.
_PREFIX_UNITS = frozenset({"¥", "$", "€", "£", "￥"})
_MINUS = "−"  # U+2212 reads better than a hyphen in front of a figure


def _plain(value: float, decimals: int) -> str:
    text = f"{abs(value):,.{decimals}f}"
    if value < 0 and any(ch not in "0.," for ch in text):
        return _MINUS + text
    return text


def format_value(kpi: KpiSettings, value: float, *, compact: bool = False) -> str:
    """A KPI value with its unit and the KPI's decimals: ``1,234``, ``3.2%``, ``¥12,000``, ``12件``.

    ``compact`` drops trailing zeros (``3%`` rather than ``3.0%``): targets are round numbers
    people chose, and read better without false precision.
    """
    number = _plain(value, kpi.decimals)
    if compact and "." in number:
        number = number.rstrip("0").rstrip(".")
    unit = kpi.unit
    if not unit:
        return number
    if unit in _PREFIX_UNITS:
        return number.replace(_MINUS, _MINUS + unit) if number.startswith(_MINUS) else unit + number
    # "%" and CJK units follow the number directly; words get a space ("12 leads").
    return f"{number}{unit}" if unit == "%" or not unit.isascii() else f"{number} {unit}"


def format_change(kpi: KpiSettings, change: float, t: Translator) -> str:
    """A signed difference: ``+3``, ``−1,200``, ``+0.4 pt`` (rates change in percentage points)."""
    sign = "+" if change > 0 else ""
    if kpi.unit == "%":
        return f"{sign}{_plain(change, kpi.decimals)} {t('kpi.units.points')}"
    return sign + format_value(kpi, change)


def format_percent(value: float, *, decimals: int = 0, signed: bool = False) -> str:
    """``47%``, ``+12.5%`` (an achievement or a relative change)."""
    if not math.isfinite(value):
        return "—"
    sign = "+" if signed and value > 0 else ""
    return f"{sign}{_plain(value, decimals)}%"
