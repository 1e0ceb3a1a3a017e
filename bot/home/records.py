"""What the App Home shows, as plain data (pure): built by ``queries`` from the store, drawn by ``ui``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.kpi.status import KpiStatus
from bot.participation.records import HomePart
from bot.periods import Period, PeriodKind

DigestKind = PeriodKind


# ---------------------------------------------------------------------------------------------
# Data the Home renders
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One request as a Home line: enough to render it and to point a button at it."""

    id: int
    revision: int
    version: int
    requester_id: str
    account_key: str
    status: str
    text: str
    planned_at: datetime | None
    waiting_since: datetime
    channel_id: str | None
    message_ts: str | None
    #: The review's due time (the planned publish time unless the requester chose one).
    due_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ItemPage:
    """The first ``len(items)`` of ``total`` matching requests, oldest first."""

    items: tuple[ReviewItem, ...] = ()
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass(frozen=True, slots=True)
class DigestLink:
    kind: str
    period: str
    channel_id: str
    message_ts: str


@dataclass(frozen=True, slots=True)
class DigestState:
    """Admin view of one digest kind: configured channels, what happened last, when it runs next.

    ``status`` is the last expected period's outcome: ``posted`` | ``failed`` | ``missed`` |
    ``claimed`` (being posted) | ``skipped`` | ``never`` (no run recorded yet) | ``off`` (no channel).
    """

    kind: DigestKind
    channels: tuple[str, ...]
    status: str
    period: str | None
    last_at: datetime | None
    next_at: datetime | None
    error: str | None


@dataclass(frozen=True, slots=True)
class CollectorState:
    platform: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    posts_updated: int
    error: str | None
    #: Posts the platform reported on in the run, and those of them that were new to the store.
    posts_seen: int = 0
    posts_new: int = 0


@dataclass(frozen=True, slots=True)
class AdminData:
    digests: tuple[DigestState, ...]
    collectors: tuple[CollectorState, ...]


@dataclass(frozen=True, slots=True)
class HomeData:
    """Everything one user's Home shows, as of ``now``."""

    user_id: str
    now: datetime
    is_manager: bool
    is_admin: bool
    can_record: bool
    away_until: date | None
    waiting: ItemPage
    mine: ItemPage
    month: Period
    elapsed: float
    kpis: tuple[KpiStatus, ...]
    digests: tuple[DigestLink, ...]
    admin: AdminData | None
    #: Who decides for this user while they are away (shown next to away mode).
    delegate_id: str | None = None
    #: A manager's part this month next to the team's rate, and their nudge setting.
    participation: HomePart | None = None
