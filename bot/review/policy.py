"""Review policy: who may decide (approval chains, delegates, managers), reminder/escalation timing on the
working-hours calendar (:mod:`bot.calendars`) and review cycle time (pure).

Digests and App Home import :func:`cycle_time` and :func:`cycle_business_hours`; the reminder
claims (:mod:`bot.review.alerts`) use :func:`next_alert`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.config import ReviewSettings
from bot.review.ids import AlertKind, ApprovalMode, AuthorityKind
from bot.workdays import WorkCalendar

#: How far back :func:`subtract_business_hours` looks (a calendar with no working day is a config error).
_MAX_DAYS_BACK = 800


@dataclass(frozen=True, slots=True)
class ResolvedStep:
    """One approval step with user groups already expanded to user ids."""

    approvers: tuple[str, ...]
    mode: ApprovalMode = ApprovalMode.ANY


def build_chain(
    *,
    configured: Sequence[ResolvedStep],
    requester: str,
    fallback: Sequence[str],
) -> tuple[ResolvedStep, ...]:
    """The chain a new request follows: the account's configured steps, always (issue 13 item 4).

    Reviewers the requester picks in the modal do not change it (see :func:`invitees`): the
    configured policy is the floor, so nobody can route their draft past the managers.

    Args:
        configured: the account's steps (or the default "any manager" step), groups expanded.
        requester: never an approver of their own request, in any step.
        fallback: who approves a step left with nobody (managers, then admins), so a request
            can always be decided.
    """
    steps = list(configured) or [ResolvedStep(tuple(fallback), ApprovalMode.ANY)]
    out: list[ResolvedStep] = []
    for step in steps:
        approvers = tuple(u for u in dict.fromkeys(step.approvers) if u != requester)
        if not approvers:
            approvers = tuple(u for u in dict.fromkeys(fallback) if u != requester)
        out.append(ResolvedStep(approvers, step.mode))
    return tuple(out)


def invitees(*, chosen: Sequence[str], chain: Sequence[ResolvedStep], requester: str) -> tuple[str, ...]:
    """The reviewers the requester picked who are not approvers of any step: they are mentioned in
    the review message and may comment, but their approval satisfies no step."""
    approvers = {u for step in chain for u in step.approvers}
    return tuple(u for u in dict.fromkeys(chosen) if u != requester and u not in approvers)


def step_satisfied(*, mode: ApprovalMode, approvers: Sequence[str], approved_by: Sequence[str]) -> bool:
    """Whether a step is done: one approval for ``any``, every approver for ``all``."""
    done = set(approved_by)
    if mode == ApprovalMode.ANY:
        return bool(done)
    return set(approvers) <= done


# ---------------------------------------------------------------------------------------------
# Who may decide (the one place this rule is written)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Authority:
    """What one person's approve / request changes / reject counts for on the current step.

    Attributes:
        seats: the step's configured approvers this decision speaks for: the decider's own seat
            (when listed) and the seats of listed approvers who are away and named the decider
            as their delegate on the App Home.
        on_behalf_of: the away approvers among ``seats`` (the audit trail records them).
        override: a configured manager or an admin who holds no seat of this step: their approval
            satisfies the current step whatever its mode, and only that step.
    """

    seats: tuple[str, ...] = ()
    on_behalf_of: tuple[str, ...] = ()
    override: bool = False

    @property
    def kind(self) -> AuthorityKind:
        """In whose name the decision counts: own seat, someone away's (delegate), or a manager's."""
        if self.override:
            return AuthorityKind.OVERRIDE
        return AuthorityKind.DELEGATE if self.on_behalf_of else AuthorityKind.APPROVER


def authority(
    *,
    actor: str,
    approvers: Sequence[str],
    delegators: Collection[str],
    is_manager: bool,
    is_admin: bool,
) -> Authority | None:
    """Who may decide the current step of a request, and what their approval counts for.

    The rule (issue 13 item 4; product.md "a reviewer of that request, or a configured manager"):

    1. The requester never decides their own request (checked before this, by
       :func:`bot.review.checks.authorize`).
    2. A configured approver of the current step (user ids and user-group members, resolved when
       the request was made) decides and fills their own seat.
    3. A delegate — a configured manager named on the App Home by an approver of this step who is
       away today — decides in that approver's name and fills their seat (in an ``all`` step that
       is one seat, not the whole step); the audit trail records "on behalf of". A delegate who is
       no longer a manager speaks for nobody; one whose away approvers have all approved already
       decides as the manager they are (rule 4; see :func:`bot.review.checks.authorize`).
    4. Any other configured manager (user ids and members of manager groups) or admin may decide
       too; their approval satisfies the current step whatever its mode, and only that step.
    5. Nobody else: reviewers the requester picked are notified and may comment, nothing more.

    Returns:
        ``None`` when ``actor`` may not decide.
    """
    own = (actor,) if actor in approvers else ()
    may_delegate = is_manager or is_admin
    stand_in = tuple(u for u in approvers if u in delegators and u != actor) if may_delegate else ()
    if own or stand_in:
        return Authority(seats=(*own, *stand_in), on_behalf_of=stand_in)
    if is_manager or is_admin:
        return Authority(override=True)
    return None


def approval_completes(
    *, mode: ApprovalMode, approvers: Sequence[str], approved_by: Sequence[str], new: Authority
) -> bool:
    """Whether an approval under ``new`` finishes the step (see :func:`authority`)."""
    if new.override:
        return True
    return step_satisfied(mode=mode, approvers=approvers, approved_by=(*approved_by, *new.seats))


def may_comment(
    *,
    actor: str,
    requester: str,
    approvers: Collection[str],
    invitees: Collection[str],
    is_manager: bool,
    is_admin: bool,
) -> bool:
    """Structured comments: any approver of any step, a reviewer the requester picked, a manager
    or an admin; never the requester (they reply in the thread)."""
    if actor == requester:
        return False
    return actor in approvers or actor in invitees or is_manager or is_admin


def reminder_due_at(
    *,
    waiting_since: datetime,
    sent: int,
    settings: ReviewSettings,
    calendar: WorkCalendar,
    due_at: datetime | None = None,
) -> datetime:
    """When reminder number ``sent + 1`` is due: after ``remind_after_hours`` working hours, then
    after intervals growing by ``reminder_backoff`` (24 h, 48 h, 96 h … with the defaults).

    A request due sooner than that gets its first reminder half-way (in working hours) to the escalation its due time
    brings (:func:`escalation_due_at`), so its reviewers hear of it before the management channel
    does."""
    hours = sum(settings.remind_after_hours * settings.reminder_backoff**k for k in range(sent + 1))
    usual = calendar.add_business_hours(waiting_since, hours)
    if sent or due_at is None:
        return usual
    by_due = max(waiting_since, subtract_business_hours(calendar, due_at, settings.escalate_before_due_hours))
    halfway = calendar.business_hours_between(waiting_since, by_due) / 2
    return min(usual, calendar.add_business_hours(waiting_since, halfway))


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
        AlertKind.REMIND,
        reminder_due_at(
            waiting_since=waiting_since,
            sent=reminders_sent,
            settings=settings,
            calendar=calendar,
            due_at=due_at,
        ),
    )
    if escalated:
        return remind
    escalate = Alert(
        AlertKind.ESCALATE,
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
