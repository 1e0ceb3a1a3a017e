"""The closed sets of the KPI slice as enums, and how a configured KPI reads in them (pure).

The values are the strings of the config file (``aggregate``, ``derive``, ``better``, ``[kpi]
setters``) and of the store (``collector_run.status``), unchanged; the config keeps them as
validated strings, and this module turns a KPI's strings into these enums where code decides on them.
"""

from __future__ import annotations

from enum import StrEnum

from bot.config import KpiSettings


class Aggregate(StrEnum):
    """How a recorded KPI's month value is formed from its daily values (``derived``: from posts)."""

    SUM = "sum"
    LAST = "last"
    MEAN = "mean"
    DERIVED = "derived"


class Derivation(StrEnum):
    """What a derived KPI is computed from: the month's posts, or the accounts' follower counts."""

    ENGAGEMENT_RATE = "engagement_rate"
    IMPRESSIONS = "impressions"
    ENGAGEMENTS = "engagements"
    POSTS_PUBLISHED = "posts_published"
    FOLLOWER_GROWTH = "follower_growth"
    #: The share of managers who took part in the month (reviews, reactions, replies), in percent;
    #: written as the month's value by :mod:`bot.participation` and read like a recorded value.
    MANAGER_PARTICIPATION = "manager_participation"


class Better(StrEnum):
    """Which direction of a KPI's value is good."""

    HIGHER = "higher"
    LOWER = "lower"


class Setters(StrEnum):
    """``[kpi] setters``: who, besides admins, may record KPI values."""

    ADMINS = "admins"
    MANAGERS = "managers"
    EVERYONE = "everyone"


class RunStatus(StrEnum):
    """How a collector run ended (``collector_run.status``); ``running`` until it does."""

    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"


def aggregate(kpi: KpiSettings) -> Aggregate:
    return Aggregate(kpi.aggregate)


def is_derived(kpi: KpiSettings) -> bool:
    """True when the KPI's values come from posts or follower counts, never typed or imported."""
    return aggregate(kpi) is Aggregate.DERIVED


def derivation(kpi: KpiSettings) -> Derivation | None:
    """What a derived KPI is computed from; ``None`` for a recorded KPI."""
    return Derivation(kpi.derive or "") if is_derived(kpi) else None


def is_stored(kpi: KpiSettings) -> bool:
    """True when the KPI's month values are rows of ``kpi_value``: recorded KPIs, and the derived
    ``manager_participation``, whose value the bot itself writes (people never type it)."""
    return not is_derived(kpi) or derivation(kpi) is Derivation.MANAGER_PARTICIPATION


def better(kpi: KpiSettings) -> Better:
    return Better(kpi.better)
