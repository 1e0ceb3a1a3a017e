"""Plain records that flow from importers and collectors into the store, and what the store did with
them (pure, no I/O).

Importers (CSV exports) and collectors (platform APIs) both produce these; the KPI store
(:mod:`bot.kpi.values`, :mod:`bot.kpi.post_store`) writes them. Keeping them free of SQLAlchemy and pandas lets both sides be tested alone
(the column-wise form of a large import, with numpy, is ``bot.kpi.columns.PostColumns``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.metrics import Metrics


@dataclass(frozen=True, slots=True)
class PostRecord:
    """A published post as a source describes it.

    Attributes:
        platform: ``x`` | ``instagram`` | ``youtube`` | ``tiktok`` | ``linkedin`` | ``facebook`` | ``note`` | ``other``.
        external_id: the platform's id of the post (tweet id, media id, video id). Sources
            without one use the post URL, which identifies the post just as well.
        published_at: timezone-aware (UTC) publish time.
        account_key: the configured account the post belongs to, when the source says.
        line: the source line (1-based, header = 1) for error reports; ``None`` for API data.
    """

    platform: str
    external_id: str
    published_at: datetime
    url: str | None = None
    text: str = ""
    account_key: str | None = None
    author: str | None = None
    metrics: Metrics = Metrics()
    line: int | None = None


@dataclass(frozen=True, slots=True)
class KpiRecord:
    """A KPI value for a month (``YYYY-MM``) or a day (``YYYY-MM-DD``)."""

    kpi: str
    period: str
    value: float
    line: int | None = None


@dataclass(frozen=True, slots=True)
class DailyRecord:
    """One day's value of one metric, from a time-series export (never a total).

    Attributes:
        platform: ``x`` | ``youtube`` | ``search_console`` …
        account_key: the configured account (``""`` for a site, e.g. Search Console).
        day: ``YYYY-MM-DD`` in the platform's own reporting day.
        metric: ``impressions``, ``views``, ``follows``, ``clicks`` …
        subject: ``""`` for the account as a whole, else the post's platform id (YouTube's
            per-video ``Chart data.csv``).
        value: the day's value; may be negative for net counts (subscribers gained − lost).
    """

    platform: str
    account_key: str
    day: str
    metric: str
    value: float
    subject: str = ""
    line: int | None = None


@dataclass(frozen=True, slots=True)
class BrandedTotals:
    """Branded search in a Search Console queries table: the queries matching a brand term and
    their clicks and impressions (``period``: what they were recorded for, ``None``: not recorded)."""

    queries: int
    clicks: int
    impressions: int
    period: str | None = None


@dataclass(frozen=True, slots=True)
class RowSkip:
    """A row deliberately left out (a platform's own total, footer or placeholder row) and why."""

    line: int
    key: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A rejected input row: its line number and a catalog key + params saying why."""

    line: int
    key: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What an upsert did: posts created, posts whose metrics or details changed, and the rest."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.new + other.new, self.updated + other.updated, self.unchanged + other.unchanged
        )


@dataclass(frozen=True, slots=True)
class DailyResult:
    """What an import of daily values did: values new, changed and already stored as they are."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: DailyResult) -> DailyResult:
        return DailyResult(
            self.new + other.new, self.updated + other.updated, self.unchanged + other.unchanged
        )


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What an import of KPI values did: values appended, and values equal to the current ones."""

    recorded: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class Recorded:
    """The latest recorded row of a KPI's month: who (a Slack user id; ``None`` from the command
    line or a collector), how (``kpi_value.source``, see :class:`bot.kpi.kinds.ValueSource`) and when."""

    by: str | None
    source: str
    at: datetime
