"""Identifiers of the pace alerts: the job id, the outbox kind and the exactly-once keys (pure)."""

from __future__ import annotations

from enum import StrEnum


class JobId(StrEnum):
    CHECK = "pace.check"


class DeliveryKind(StrEnum):
    ALERT = "pace.alert"


#: What the alert of a KPI is keyed by besides the month: the "every KPI is on pace" line.
ALL_ON_PACE = "_all"


def month_key(month: str) -> str:
    """Exactly-once key of a month's pace check (one replica, one time, posts its alerts)."""
    return f"pace:{month}"


def alert_key(month: str, kpi: str) -> str:
    """The outbox key (and post key) of one KPI's alert in one month."""
    return f"pace:{month}:{kpi}"
