"""Turn chunks of KPI files (generic ``kpi,period,value`` and Search Console queries) into KpiRecords (pure)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from bot.errors import BotError
from bot.kpi.importers._rows import Rows
from bot.kpi.importers._values import missing_mask, parse_numbers, period_masks
from bot.kpi.records import BrandedTotals, KpiRecord
from bot.periods import PeriodKind, period_range

SearchMetric = Literal["clicks", "impressions"]


@dataclass(frozen=True, slots=True)
class SearchConsoleOptions:
    """How a Search Console queries export becomes the branded-search KPI.

    Attributes:
        kpi: configured KPI key the sum is recorded under.
        period: ``YYYY-MM`` or ``YYYY-MM-DD`` the export covers (the file itself does not say);
            ``None``: the sums are reported but not recorded (an export spanning several months).
        brand_terms: a query counts when it contains any of these (NFKC, case and spaces ignored,
            so ``ＡＣＭＥ``, ``Acme`` and ``ac me`` all match ``acme``; list kana/romaji variants).
        metric: which column to sum.
    """

    kpi: str
    period: str | None
    brand_terms: tuple[str, ...]
    metric: SearchMetric = "clicks"


def read_generic_kpis(rows: Rows, *, kpis: Collection[str] | None) -> list[KpiRecord]:
    keys = rows.required("kpi")
    if kpis is not None:
        unknown = ~missing_mask(keys) & ~keys.isin(list(kpis)).to_numpy()
        rows.report(
            unknown, "imports.errors.unknown_kpi", values=keys, choices=", ".join(sorted(kpis)) or "-"
        )
    periods = rows.required("period")
    formed, in_range = period_masks(periods)
    present = ~missing_mask(periods)
    rows.report(present & ~formed, "imports.errors.bad_period", column="period", values=periods)
    rows.report(
        present & formed & ~in_range,
        "imports.errors.period_out_of_range",
        column="period",
        values=periods,
        **_month_range(),
    )
    raw = rows.text("value")
    # KPI values may be percentages ("3.2%" → 3.2, in the KPI's percent unit) or negative (growth).
    numbers = parse_numbers(raw, percent=True)
    rows.report(numbers.missing, "imports.errors.missing_value", column="value")
    rows.report(numbers.bad, "imports.errors.bad_number", column="value", values=raw)
    keep = np.flatnonzero(~rows.bad & ~rows.skip)
    return [
        KpiRecord(kpi=kpi, period=period, value=value, line=line)
        for kpi, period, value, line in zip(
            keys.to_numpy(dtype=object)[keep].tolist(),
            periods.to_numpy(dtype=object)[keep].tolist(),
            numbers.values[keep].tolist(),
            rows.lines[keep].tolist(),
            strict=True,
        )
    ]


def match_key(text: str) -> str:
    """The form queries and brand terms are compared in: NFKC, casefolded, without whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).casefold())


def branded_mask(queries: pd.Series, terms: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Which queries contain any brand term (full-width/half-width and case variants included)."""
    wanted = sorted({key for term in terms if (key := match_key(term))})
    if not wanted:
        return np.zeros(len(queries), dtype=bool)
    normalized = queries.str.normalize("NFKC").str.casefold().str.replace(r"\s+", "", regex=True)
    pattern = "|".join(re.escape(term) for term in wanted)
    mask: npt.NDArray[np.bool_] = normalized.str.contains(pattern, regex=True).to_numpy()
    return mask


class SearchConsoleSum:
    """Sums the chosen metric over branded queries across all chunks of one file."""

    def __init__(self, options: SearchConsoleOptions | None, *, kpis: Collection[str] | None) -> None:
        self.options = check_search_console_options(options, kpis=kpis)
        self.sums = {"clicks": 0, "impressions": 0}
        self.queries = 0

    def read(self, rows: Rows) -> list[KpiRecord]:
        branded = branded_mask(rows.text("query"), self.options.brand_terms) & ~rows.bad & ~rows.skip
        self.queries += int(branded.sum())
        for metric in self.sums:
            counts = rows.counts(metric)
            if counts is not None:  # Python ints: no overflow
                self.sums[metric] += sum(counts.ints[branded & counts.known].tolist())
        return []

    @property
    def total(self) -> int:
        return self.sums[self.options.metric]

    def totals(self) -> BrandedTotals:
        return BrandedTotals(self.queries, self.sums["clicks"], self.sums["impressions"], self.options.period)

    def finish(self) -> list[KpiRecord]:
        if self.options.period is None:
            return []
        return [KpiRecord(kpi=self.options.kpi, period=self.options.period, value=float(self.total))]


def check_period_option(period: str) -> None:
    """Refuse a ``--period`` that is not a ``YYYY-MM`` month the store can hold.

    Raises:
        BotError: ``imports.errors.bad_period_option`` or ``periods.errors.out_of_range``.
    """
    formed, in_range = period_masks(pd.Series([period], dtype=object))
    if not formed[0]:
        raise BotError("imports.errors.bad_period_option", value=period)
    if not in_range[0]:
        raise BotError("periods.errors.out_of_range", value=period, **_month_range())


def check_search_console_options(
    options: SearchConsoleOptions | None, *, kpis: Collection[str] | None
) -> SearchConsoleOptions:
    """Validate what the caller passes for a Search Console file.

    Raises:
        BotError: ``imports.errors.search_console_options_missing``, ``...bad_period_option``,
            ``...no_brand_terms``, ``...bad_search_metric``, ``...unknown_kpi_option``.
    """
    if options is None:
        raise BotError("imports.errors.search_console_options_missing")
    if options.period is not None:
        check_period_option(options.period)
    if not any(match_key(term) for term in options.brand_terms):
        raise BotError("imports.errors.no_brand_terms")
    if options.metric not in get_args(SearchMetric):
        raise BotError(
            "imports.errors.bad_search_metric",
            value=options.metric,
            choices=", ".join(get_args(SearchMetric)),
        )
    if kpis is not None and options.kpi not in kpis:
        raise BotError(
            "imports.errors.unknown_kpi_option", kpi=options.kpi, choices=", ".join(sorted(kpis)) or "-"
        )
    return options


def _month_range() -> dict[str, str]:
    first, last = period_range(PeriodKind.MONTHLY)
    return {"first": first.label, "last": last.label}
