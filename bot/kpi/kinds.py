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
    """What a derived KPI is computed from: the month's posts, the accounts' follower counts, or the
    sum of the month's daily values of time-series exports (:data:`DAILY_SUMS`)."""

    ENGAGEMENT_RATE = "engagement_rate"
    IMPRESSIONS = "impressions"
    ENGAGEMENTS = "engagements"
    POSTS_PUBLISHED = "posts_published"
    FOLLOWER_GROWTH = "follower_growth"
    DAILY_IMPRESSIONS = "daily_impressions"
    DAILY_VIEWS = "daily_views"
    DAILY_FOLLOWS = "daily_follows"
    DAILY_ENGAGEMENTS = "daily_engagements"
    SEARCH_CLICKS = "search_clicks"
    SEARCH_IMPRESSIONS = "search_impressions"
    #: The share of managers who took part in the month (reviews, reactions, replies), in percent;
    #: written as the month's value by :mod:`bot.participation` and read like a recorded value.
    MANAGER_PARTICIPATION = "manager_participation"


#: Derivations that sum the month's daily values (``daily_metric``): the metric summed, and the
#: platform it is read from (``None``: every SNS platform, Search Console excepted).
DAILY_SUMS: dict[Derivation, tuple[str, str | None]] = {
    Derivation.DAILY_IMPRESSIONS: ("impressions", None),
    Derivation.DAILY_VIEWS: ("views", None),
    Derivation.DAILY_FOLLOWS: ("follows", None),
    Derivation.DAILY_ENGAGEMENTS: ("engagements", None),
    Derivation.SEARCH_CLICKS: ("clicks", "search_console"),
    Derivation.SEARCH_IMPRESSIONS: ("impressions", "search_console"),
}
#: The platform of a site's values (not an SNS account).
SEARCH_CONSOLE = "search_console"


class Better(StrEnum):
    """Which direction of a KPI's value is good."""

    HIGHER = "higher"
    LOWER = "lower"


class Setters(StrEnum):
    """``[kpi] setters``: who, besides admins, may record KPI values."""

    ADMINS = "admins"
    MANAGERS = "managers"
    EVERYONE = "everyone"


class ValueSource(StrEnum):
    """How a KPI value (``kpi_value.source``) or a post (``post.source``) came in: who typed it where,
    which import, or a collector. Rows stored before these existed say ``slack``, ``import`` or
    ``api`` (see :data:`LEGACY_SOURCES`)."""

    SLACK_COMMAND = "slack_command"
    HOME = "home"
    IMPORT_SLACK = "import_slack"
    IMPORT_CLI = "import_cli"
    COLLECTOR = "collector"
    REVIEW = "review"
    DEMO = "demo"


#: Sources written by earlier versions, read as the closest current one.
LEGACY_SOURCES = {
    "slack": ValueSource.SLACK_COMMAND,
    "import": ValueSource.IMPORT_CLI,
    "api": ValueSource.COLLECTOR,
}


def value_source(stored: str) -> ValueSource | None:
    """The :class:`ValueSource` of a stored ``source`` (``None``: unknown to this version)."""
    if stored in LEGACY_SOURCES:
        return LEGACY_SOURCES[stored]
    try:
        return ValueSource(stored)
    except ValueError:
        return None


class UploadStatus(StrEnum):
    """``kpi_upload.status``: a file dropped into the bot's DM, from its first event to its end."""

    #: Claimed by the first event; being downloaded and previewed.
    RECEIVED = "received"
    #: The preview with Import / Cancel is shown; nothing is written yet.
    PREVIEWED = "previewed"
    #: Import was clicked: this row's import is running (only one click gets here).
    IMPORTING = "importing"
    IMPORTED = "imported"
    CANCELLED = "cancelled"
    #: The uploader may not record KPI values (told politely).
    REFUSED = "refused"
    #: Too large, unknown format, rejected rows, a failed download or import (the person was told).
    FAILED = "failed"


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
