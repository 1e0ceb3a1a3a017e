"""The KPI sections (pure): ``[[kpis]]`` (what the team measures and aims for), ``[kpi]`` (who may
record values, where charts are shared) and ``[search_console]`` (which KPI branded search feeds)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.config.accounts import AccountSettings
from bot.config.reader import Reader, Types
from bot.config.values import KEY_RE, LocalizedText, is_channel_id

AGGREGATES = ("sum", "last", "mean", "derived")
DERIVATIONS = (
    "engagement_rate",
    "impressions",
    "engagements",
    "posts_published",
    "follower_growth",
    "manager_participation",
    # Sums of the daily values of time-series exports (X daily, YouTube Totals, Search Console Chart).
    "daily_impressions",
    "daily_views",
    "daily_follows",
    "daily_engagements",
    "search_clicks",
    "search_impressions",
)

_KPI_KEYS = (
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
    "glossary",
)
#: The four parts of a KPI's glossary entry (``[kpis.glossary]``), in the order they are shown.
GLOSSARY_PARTS = ("what", "how", "good", "move")


@dataclass(frozen=True, slots=True)
class KpiGlossary:
    """A KPI's own glossary entry from ``[kpis.glossary]``; a part left out is ``None`` (a derived
    KPI then shows the built-in text of its derivation, :mod:`bot.kpi.glossary`)."""

    what: LocalizedText | None = None
    how: LocalizedText | None = None
    good: LocalizedText | None = None
    move: LocalizedText | None = None

    def part(self, name: str) -> LocalizedText | None:
        value: LocalizedText | None = getattr(self, name)
        return value


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
    #: What it is, how it is measured, a good range, what moves it (overrides the built-in entry).
    glossary: KpiGlossary = KpiGlossary()


@dataclass(frozen=True, slots=True)
class KpiCommandSettings:
    #: Who may record values (``/sns-kpi set``, the App Home, an export dropped into the bot's DM):
    #: everyone (operators record their numbers; the default), managers (and admins) or admins.
    #: Targets are always set by admins.
    setters: Literal["admins", "managers", "everyone"] = "everyone"
    #: Channels where ``/sns-kpi KEY`` shares its chart with everyone; anywhere else the chart goes
    #: to the asker's direct message with the bot (the numbers are answered privately anyway).
    chart_channels: tuple[str, ...] = ()
    #: The largest export file the bot downloads when someone drops one into its DM.
    upload_max_mb: float = 20

    @property
    def upload_max_bytes(self) -> int:
        return int(self.upload_max_mb * 2**20)


@dataclass(frozen=True, slots=True)
class SearchConsoleSettings:
    #: KPI key the branded-search volume of a Search Console export is recorded under.
    kpi: str | None = None
    brand_terms: tuple[str, ...] = ()
    metric: Literal["clicks", "impressions"] = "impressions"


def read_kpi_command(r: Reader, raw: Mapping[str, Any]) -> KpiCommandSettings:
    k = r.table(raw, "kpi", "")
    r.known(k, "kpi", ("setters", "chart_channels", "upload_max_mb"))
    return KpiCommandSettings(
        setters=r.choice(k, "setters", "kpi", ("admins", "managers", "everyone"), "everyone"),
        upload_max_mb=r.positive(k, "upload_max_mb", "kpi", 20),
        chart_channels=r.ids(k, "chart_channels", "kpi", is_channel_id, "channel"),
    )


def read_kpis(
    r: Reader, raw: Mapping[str, Any], accounts: Sequence[AccountSettings]
) -> tuple[KpiSettings, ...]:
    """``[[kpis]]``: each key unique; a derived KPI names its derivation and only configured accounts."""
    items = raw.get("kpis", [])
    if not isinstance(items, list):
        r.add("kpis", "wrong_type", expected=Types(("tables",)))
        return ()
    account_keys = {a.key for a in accounts}
    out: list[KpiSettings] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        path = f"kpis[{i}]"
        if not isinstance(item, Mapping):
            r.add(path, "not_table")
            continue
        out.append(_kpi(r, item, path, seen, account_keys))
    return tuple(out)


def _kpi(
    r: Reader, item: Mapping[str, Any], path: str, seen: set[str], account_keys: set[str]
) -> KpiSettings:
    """One ``[[kpis]]`` entry; ``seen`` holds the keys of the entries before it (and gets its key)."""
    r.known(item, path, _KPI_KEYS)
    key = r.get(item, "key", path, str, "", required=True)
    if key and not KEY_RE.match(key):
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
    glossary = _glossary(r, item, path)
    return KpiSettings(
        key, name, unit, aggregate, better, target, why, derive, kpi_accounts, decimals, glossary
    )


def _glossary(r: Reader, item: Mapping[str, Any], path: str) -> KpiGlossary:
    """``[kpis.glossary]``: any of ``what``/``how``/``good``/``move``, each ``{ ja = …, en = … }``."""
    if "glossary" not in item:
        return KpiGlossary()
    table = r.table(item, "glossary", path)
    full = f"{path}.glossary"
    r.known(table, full, GLOSSARY_PARTS)
    parts = {
        part: r.localized(table, part, full, required=False) if part in table else None
        for part in GLOSSARY_PARTS
    }
    return KpiGlossary(**parts)


def read_search_console(
    r: Reader, raw: Mapping[str, Any], kpis: Sequence[KpiSettings]
) -> SearchConsoleSettings:
    """``[search_console]``: its KPI must be one of ``kpis``."""
    g = r.table(raw, "search_console", "")
    r.known(g, "search_console", ("kpi", "brand_terms", "metric"))
    sc_kpi = r.get(g, "kpi", "search_console", str, None)
    if sc_kpi is not None and sc_kpi not in {x.key for x in kpis}:
        r.add("search_console.kpi", "unknown_kpi", value=sc_kpi)
    return SearchConsoleSettings(
        kpi=sc_kpi,
        brand_terms=r.str_list(g, "brand_terms", "search_console"),
        metric=r.choice(g, "metric", "search_console", ("clicks", "impressions"), "impressions"),
    )
