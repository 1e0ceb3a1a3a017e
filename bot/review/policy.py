"""Review policy: approval chains, the working-hours calendar, reminder/escalation timing and review
cycle time (pure).

Digests and App Home import :func:`cycle_time` and :func:`cycle_business_hours`; the reminder
job imports :func:`next_alert`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from bot.config import ReviewSettings, WorkingHours
from bot.workdays import WorkCalendar

Mode = Literal["any", "all"]

#: How far back :func:`subtract_business_hours` looks (a calendar with no working day is a config error).
_MAX_DAYS_BACK = 800


@dataclass(frozen=True, slots=True)
class ResolvedStep:
    """One approval step with user groups already expanded to user ids."""

    approvers: tuple[str, ...]
    mode: Mode = "any"


def build_chain(
    *,
    configured: Sequence[ResolvedStep],
    chosen_first: Sequence[str] | None,
    requester: str,
    fallback: Sequence[str],
) -> tuple[ResolvedStep, ...]:
    """The chain a new request follows.

    Args:
        configured: the account's steps (or the default "any manager" step), groups expanded.
        chosen_first: reviewers the requester picked in the modal; they replace the first
            step's approvers (its mode stays). ``None`` keeps the configured ones.
        requester: never an approver of their own request, in any step.
        fallback: who approves a step left with nobody (managers, then admins), so a request
            can always be decided.
    """
    steps = list(configured) or [ResolvedStep(tuple(fallback), "any")]
    if chosen_first is not None:
        steps[0] = ResolvedStep(tuple(dict.fromkeys(chosen_first)), steps[0].mode)
    out: list[ResolvedStep] = []
    for step in steps:
        approvers = tuple(u for u in dict.fromkeys(step.approvers) if u != requester)
        if not approvers:
            approvers = tuple(u for u in dict.fromkeys(fallback) if u != requester)
        out.append(ResolvedStep(approvers, step.mode))
    return tuple(out)


def step_satisfied(*, mode: Mode, approvers: Sequence[str], approved_by: Sequence[str]) -> bool:
    """Whether a step is done: one approval for ``any``, every approver for ``all``."""
    done = set(approved_by)
    if mode == "any":
        return bool(done)
    return set(approvers) <= done


def calendar_for(working_hours: WorkingHours, tz: ZoneInfo) -> WorkCalendar:
    """The business calendar of the review settings ("MM-DD" days off recur every year)."""
    days_off = frozenset((int(day[:2]), int(day[3:5])) for day in working_hours.extra_days_off)
    return WorkCalendar(
        tz=tz,
        start=working_hours.start,
        end=working_hours.end,
        weekdays=frozenset(working_hours.weekdays),
        country="JP" if working_hours.japanese_holidays else None,
        annual_days_off=days_off,
    )


def reminder_due_at(
    *, waiting_since: datetime, sent: int, settings: ReviewSettings, calendar: WorkCalendar
) -> datetime:
    """When reminder number ``sent + 1`` is due: after ``remind_after_hours`` working hours, then
    after intervals growing by ``reminder_backoff`` (24 h, 48 h, 96 h … with the defaults)."""
    hours = sum(settings.remind_after_hours * settings.reminder_backoff**k for k in range(sent + 1))
    return calendar.add_business_hours(waiting_since, hours)


def subtract_business_hours(calendar: WorkCalendar, end: datetime, hours: float) -> datetime:
    """The latest instant from which ``hours`` working hours pass until ``end`` (counting backwards)."""
    remaining = timedelta(hours=hours)
    day = end.astimezone(calendar.tz).date()
    for _ in range(_MAX_DAYS_BACK):
        if calendar.is_business_day(day):
            opening = datetime.combine(day, calendar.start, tzinfo=calendar.tz).astimezone(UTC)
            closing = min(datetime.combine(day, calendar.end, tzinfo=calendar.tz).astimezone(UTC), end)
            if closing > opening:
                if remaining <= closing - opening:
                    return closing - remaining
                remaining -= closing - opening
        day -= timedelta(days=1)
    raise ValueError(f"no {hours} working hours within {_MAX_DAYS_BACK} days before {end}")


def escalation_due_at(
    *, waiting_since: datetime, due_at: datetime | None, settings: ReviewSettings, calendar: WorkCalendar
) -> datetime:
    """When a waiting request escalates: after ``escalate_after_hours`` working hours, or once no more
    than ``escalate_before_due_hours`` working hours remain before its due time, whichever is first."""
    by_wait = calendar.add_business_hours(waiting_since, settings.escalate_after_hours)
    if due_at is None:
        return by_wait
    by_due = max(waiting_since, subtract_business_hours(calendar, due_at, settings.escalate_before_due_hours))
    return min(by_wait, by_due)


AlertKind = Literal["remind", "escalate"]


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    at: datetime


def next_alert(
    *,
    waiting_since: datetime,
    reminders_sent: int,
    escalated: bool,
    due_at: datetime | None,
    settings: ReviewSettings,
    calendar: WorkCalendar,
) -> Alert:
    """The next reminder or escalation of a waiting request (escalation wins a tie)."""
    remind = Alert(
        "remind",
        reminder_due_at(
            waiting_since=waiting_since, sent=reminders_sent, settings=settings, calendar=calendar
        ),
    )
    if escalated:
        return remind
    escalate = Alert(
        "escalate",
        escalation_due_at(waiting_since=waiting_since, due_at=due_at, settings=settings, calendar=calendar),
    )
    return escalate if escalate.at <= remind.at else remind


class _Decided(Protocol):
    created_at: datetime
    decided_at: datetime | None


def cycle_time(request: _Decided) -> timedelta | None:
    """Review cycle time: from the request to its final decision (approved or rejected), across
    every revision; ``None`` while undecided. Takes a ``ReviewRequest`` row (or anything with
    ``created_at`` and ``decided_at``)."""
    if request.decided_at is None:
        return None
    return request.decided_at - request.created_at


def cycle_business_hours(request: _Decided, calendar: WorkCalendar) -> float | None:
    """The same in working hours (nights, weekends and holidays left out)."""
    if request.decided_at is None:
        return None
    return calendar.business_hours_between(request.created_at, request.decided_at)
