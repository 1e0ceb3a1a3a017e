"""A period's participation as plain data, and the arithmetic on it (pure): per manager, reviews decided
and the median working hours to decide, comments, reactions and replies; the participation rate."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.periods import Period
from bot.workdays import WorkCalendar


@dataclass(frozen=True, slots=True)
class DecisionFact:
    """One review decision: who, and from when the request waited on that step until the decision."""

    actor_id: str
    waiting_since: datetime
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class ManagerPart:
    """What one manager did in the period."""

    user_id: str
    decisions: int = 0
    #: Median working hours from "waiting on this step" to this manager's decision.
    median_decide_hours: float | None = None
    comments: int = 0
    reactions: int = 0
    replies: int = 0

    @property
    def took_part(self) -> bool:
        return bool(self.decisions or self.comments or self.reactions or self.replies)


@dataclass(frozen=True, slots=True)
class ParticipationSummary:
    """The managers' part in one period, and what the operators did.

    Attributes:
        managers: one entry per configured manager (user groups expanded), in config order.
        requests / requesters: review requests made in the period and by how many people.
        wins: wins shared in the period.
        unresolved_groups: manager user groups whose members could not be read (the section says so).
    """

    managers: tuple[ManagerPart, ...]
    requests: int = 0
    requesters: int = 0
    wins: int = 0
    #: Median working hours to decide over every manager's decisions.
    median_decide_hours: float | None = None
    #: Manager user groups Slack did not name in time: their members are missing from ``managers``.
    unresolved_groups: int = 0

    @property
    def participants(self) -> tuple[ManagerPart, ...]:
        return tuple(m for m in self.managers if m.took_part)

    @property
    def any_activity(self) -> bool:
        """Someone took part: a manager, or an operator asking for a review or sharing a win."""
        return bool(self.participants or self.requests or self.wins)

    @property
    def silent(self) -> int:
        return len(self.managers) - len(self.participants)

    @property
    def rate(self) -> float | None:
        """Percent of managers who took part (``None`` without managers)."""
        return rate(len(self.participants), len(self.managers))

    @property
    def decisions(self) -> int:
        return sum(m.decisions for m in self.managers)

    @property
    def reactions(self) -> int:
        return sum(m.reactions for m in self.managers)

    @property
    def replies(self) -> int:
        return sum(m.replies for m in self.managers)


def rate(took_part: int, managers: int) -> float | None:
    return None if managers <= 0 else took_part / managers * 100


def median_working_hours(decisions: Iterable[DecisionFact], calendar: WorkCalendar) -> float | None:
    """Median working hours to decide (nights, weekends and holidays left out); ``None`` without any."""
    hours = [calendar.business_hours_between(d.waiting_since, d.decided_at) for d in decisions]
    return statistics.median(hours) if hours else None


def summarize(
    *,
    managers: Sequence[str],
    decisions: Iterable[DecisionFact],
    comments: Iterable[str],
    reactions: Mapping[str, int],
    replies: Mapping[str, int],
    calendar: WorkCalendar,
    requesters: Sequence[str] = (),
    wins: int = 0,
) -> ParticipationSummary:
    """Each manager's part from the period's facts (people who are not managers are not listed)."""
    by_actor: dict[str, list[DecisionFact]] = {}
    for decision in decisions:
        by_actor.setdefault(decision.actor_id, []).append(decision)
    roster = list(dict.fromkeys(managers))
    commented = Counter(comments)
    parts = tuple(
        ManagerPart(
            user_id=user,
            decisions=len(by_actor.get(user, ())),
            median_decide_hours=median_working_hours(by_actor.get(user, ()), calendar),
            comments=commented.get(user, 0),
            reactions=reactions.get(user, 0),
            replies=replies.get(user, 0),
        )
        for user in roster
    )
    return ParticipationSummary(
        managers=parts,
        requests=len(requesters),
        requesters=len(set(requesters)),
        wins=wins,
        median_decide_hours=median_working_hours(
            (d for user in roster for d in by_actor.get(user, ())), calendar
        ),
    )


@dataclass(frozen=True, slots=True)
class HomePart:
    """A manager's own part this month next to the team's rate, and their nudge setting."""

    period: Period
    mine: ManagerPart
    team_rate: float | None
    team_took_part: int
    team_size: int
    nudges_on: bool
    #: Admins turned nudges off for everyone.
    feature_on: bool
