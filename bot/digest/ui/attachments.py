"""The monthly digest's attachments: the chart's series and the KPI table as CSV (pure)."""

from __future__ import annotations

import csv
import io

from bot.digest.compose import MonthlyDigest
from bot.i18n import Locale, Translator
from bot.kpi.charts import Series


def chart_series(digest: MonthlyDigest, *, locale: Locale) -> list[Series]:
    """One chart series per KPI: the 12 months ending with the digest's month, against targets."""
    return [
        Series(
            title=summary.kpi.name.get(locale),
            unit=summary.kpi.unit,
            labels=[p.month for p in summary.history],
            values=[p.value for p in summary.history],
            targets=[p.target for p in summary.history],
            better=summary.kpi.better,
        )
        for summary in digest.kpis
    ]


def build_kpi_csv(digest: MonthlyDigest, *, t: Translator) -> bytes:
    """The month's KPI table as CSV (UTF-8 with BOM, so Excel opens Japanese text correctly)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = (
        "kpi",
        "name",
        "month",
        "value",
        "target",
        "achievement",
        "mom",
        "mom_pct",
        "last_year",
        "yoy_pct",
        "unit",
    )
    writer.writerow([t(f"digest.csv.{c}") for c in columns])

    def num(value: float | None, decimals: int) -> str:
        return "" if value is None else f"{value:.{decimals}f}"

    for s in digest.kpis:
        d = s.kpi.decimals
        writer.writerow(
            [
                s.kpi.key,
                s.kpi.name.get(t.locale),
                s.month,
                num(s.value, d),
                num(s.target, d),
                num(s.achievement, 1),
                num(s.mom_delta, d),
                num(s.mom_pct, 1),
                num(s.last_year, d),
                num(s.yoy_pct, 1),
                s.kpi.unit,
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
