"""Approval chains, working-hours reminder/escalation timing (weekends, Japanese holidays) and cycle time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.calendars import working_hours_calendar
from bot.review.policy import (
    Alert,
    Authority,
    ResolvedStep,
    approval_completes,
    authority,
    build_chain,
    cycle_business_hours,
    cycle_time,
    escalation_due_at,
    invitees,
    may_comment,
    next_alert,
    reminder_due_at,
    step_satisfied,
)
from tests.conftest import make_settings

TOKYO = ZoneInfo("Asia/Tokyo")


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO).astimezone(UTC)


def _settings(**review: Any) -> Any:
    def change(raw: dict[str, Any]) -> None:
        raw["review"].update(review)

    return make_settings(change=change)


def test_the_configured_chain_is_the_floor_and_picked_reviewers_only_become_invitees() -> None:
    """Issue 13 item 4: on main the picked reviewers *replaced* step 1's approvers."""
    configured = [ResolvedStep(("U0A", "U0B"), "all"), ResolvedStep(("U0REQ", "U0C"), "any")]
    chain = build_chain(configured=configured, requester="U0REQ", fallback=["U0M"])
    assert chain == (ResolvedStep(("U0A", "U0B"), "all"), ResolvedStep(("U0C",), "any"))
    assert invitees(chosen=["U0B", "U0REQ", "U0D", "U0D"], chain=chain, requester="U0REQ") == ("U0D",)


def test_a_step_left_with_nobody_falls_back_to_managers() -> None:
    chain = build_chain(
        configured=[ResolvedStep(("U0REQ",), "any")],
        requester="U0REQ",
        fallback=["U0REQ", "U0M"],
    )
    assert chain == (ResolvedStep(("U0M",), "any"),)
    assert build_chain(configured=[], requester="U0R", fallback=["U0M", "U0N"]) == (
        ResolvedStep(("U0M", "U0N"), "any"),
    )


def _authority(actor: str, **kw: Any) -> Authority | None:
    args: dict[str, Any] = {
        "approvers": ("U0A", "U0B"),
        "delegators": frozenset(),
        "is_manager": False,
        "is_admin": False,
    }
    args.update(kw)
    return authority(actor=actor, **args)


def test_who_may_decide_the_current_step() -> None:
    # A listed approver fills their own seat.
    assert _authority("U0A") == Authority(seats=("U0A",))
    # A picked reviewer (or anyone else) who is neither listed, a delegate, a manager nor an admin: no.
    assert _authority("U0PICKED") is None
    # A manager or admin outside the list: may decide; an approval satisfies the step (override).
    assert _authority("U0M", is_manager=True) == Authority(override=True)
    assert _authority("U0ADM", is_admin=True) == Authority(override=True)
    # A listed admin fills their seat only (the "all" mode still wants the others).
    assert _authority("U0A", is_admin=True) == Authority(seats=("U0A",))
    # A delegate (a manager) speaks for the away approvers who named them.
    delegate = _authority("U0D", is_manager=True, delegators=frozenset({"U0B", "U0X"}))
    assert delegate == Authority(seats=("U0B",), on_behalf_of=("U0B",))
    assert delegate is not None and delegate.kind == "delegate"
    both = _authority("U0A", is_manager=True, delegators=frozenset({"U0B"}))
    assert both == Authority(seats=("U0A", "U0B"), on_behalf_of=("U0B",))
    # A delegate who is no longer a manager speaks for nobody.
    assert _authority("U0D", delegators=frozenset({"U0B"})) is None


def test_an_approval_completes_a_step_by_its_mode_or_as_an_override() -> None:
    all_step = {"mode": "all", "approvers": ("U0A", "U0B")}
    assert not approval_completes(**all_step, approved_by=(), new=Authority(seats=("U0A",)))
    assert approval_completes(**all_step, approved_by=("U0B",), new=Authority(seats=("U0A",)))
    assert approval_completes(**all_step, approved_by=(), new=Authority(seats=("U0A", "U0B")))
    assert approval_completes(**all_step, approved_by=(), new=Authority(override=True))


def test_who_may_comment() -> None:
    base = {
        "requester": "U0R",
        "approvers": {"U0A"},
        "invitees": {"U0P"},
        "is_manager": False,
        "is_admin": False,
    }
    assert may_comment(actor="U0A", **base) and may_comment(actor="U0P", **base)
    assert not may_comment(actor="U0X", **base)
    assert may_comment(actor="U0X", **{**base, "is_manager": True})
    assert not may_comment(actor="U0R", **{**base, "is_admin": True})


def test_step_satisfied_any_and_all() -> None:
    assert step_satisfied(mode="any", approvers=["A", "B"], approved_by=["B"]) is True
    assert step_satisfied(mode="any", approvers=["A", "B"], approved_by=[]) is False
    assert step_satisfied(mode="all", approvers=["A", "B"], approved_by=["B"]) is False
    assert step_satisfied(mode="all", approvers=["A", "B"], approved_by=["B", "A"]) is True


def test_calendar_maps_working_hours_and_company_days_off() -> None:
    settings = _settings(
        working_hours={"extra_days_off": ["12-29", "01-02"], "start": "10:00", "end": "17:00"}
    )
    calendar = working_hours_calendar(settings.review.working_hours, settings.tz)
    assert calendar.is_business_day(date(2026, 12, 28)) is True
    assert calendar.is_business_day(date(2026, 12, 29)) is False
    assert calendar.is_business_day(date(2027, 12, 29)) is False  # every year
    assert calendar.is_business_day(date(2026, 11, 23)) is False  # 勤労感謝の日
    assert calendar.next_opening(jst(2026, 11, 20, 17, 30)) == jst(2026, 11, 24, 10, 0)


def test_reminders_skip_the_weekend_and_a_japanese_holiday_and_back_off() -> None:
    # Friday 2026-11-20 16:00; Saturday, Sunday and Monday 11/23 (勤労感謝の日) are not working days.
    settings = _settings(remind_after_hours=4, escalate_after_hours=16, reminder_backoff=2.0)
    calendar = working_hours_calendar(settings.review.working_hours, settings.tz)
    since = jst(2026, 11, 20, 16, 0)
    first = reminder_due_at(waiting_since=since, sent=0, settings=settings.review, calendar=calendar)
    second = reminder_due_at(waiting_since=since, sent=1, settings=settings.review, calendar=calendar)
    third = reminder_due_at(waiting_since=since, sent=2, settings=settings.review, calendar=calendar)
    assert first == jst(2026, 11, 24, 11, 0)  # 2 h on Friday + 2 h on Tuesday
    assert second == jst(2026, 11, 25, 10, 0)  # 8 more working hours
    assert third == jst(2026, 11, 26, 17, 0)  # 16 more working hours (Wed 8 h + Thu 8 h)


def test_escalation_after_hours_or_when_the_due_time_is_near() -> None:
    settings = _settings(remind_after_hours=4, escalate_after_hours=16, escalate_before_due_hours=4)
    calendar = working_hours_calendar(settings.review.working_hours, settings.tz)
    since = jst(2026, 11, 20, 16, 0)
    by_wait = escalation_due_at(waiting_since=since, due_at=None, settings=settings.review, calendar=calendar)
    assert by_wait == jst(2026, 11, 25, 14, 0)  # Fri 2 h + Tue 9 h + Wed 5 h
    # Due Wednesday 12:00: from Tuesday 17:00, only 4 working hours remain (Tue 1 h + Wed 3 h).
    by_due = escalation_due_at(
        waiting_since=since, due_at=jst(2026, 11, 25, 12, 0), settings=settings.review, calendar=calendar
    )
    assert by_due == jst(2026, 11, 24, 17, 0)
    alert = next_alert(
        waiting_since=since,
        reminders_sent=1,
        escalated=False,
        due_at=jst(2026, 11, 25, 12, 0),
        settings=settings.review,
        calendar=calendar,
    )
    assert alert == Alert("escalate", jst(2026, 11, 24, 17, 0))
    after = next_alert(
        waiting_since=since,
        reminders_sent=1,
        escalated=True,
        due_at=jst(2026, 11, 25, 12, 0),
        settings=settings.review,
        calendar=calendar,
    )
    assert after == Alert("remind", jst(2026, 11, 25, 10, 0))


def test_a_request_due_soon_is_reminded_before_it_escalates() -> None:
    settings = _settings(remind_after_hours=8, escalate_after_hours=16, escalate_before_due_hours=4)
    calendar = working_hours_calendar(settings.review.working_hours, settings.tz)
    since = jst(2026, 11, 20, 16, 0)  # Friday
    due = jst(2026, 11, 25, 12, 0)  # escalates Tuesday 17:00, 10 working hours after the request
    first = next_alert(
        waiting_since=since,
        reminders_sent=0,
        escalated=False,
        due_at=due,
        settings=settings.review,
        calendar=calendar,
    )
    # The usual first reminder (Tuesday 15:00) is later than half-way (Friday 2 h + Tuesday 3 h).
    assert first == Alert("remind", jst(2026, 11, 24, 12, 0))
    usual = reminder_due_at(
        waiting_since=since, sent=0, settings=settings.review, calendar=calendar, due_at=None
    )
    assert usual == jst(2026, 11, 24, 15, 0)
    # A far due time changes nothing.
    far = reminder_due_at(
        waiting_since=since,
        sent=0,
        settings=settings.review,
        calendar=calendar,
        due_at=jst(2026, 12, 25, 12, 0),
    )
    assert far == usual


@dataclass
class _Row:
    created_at: datetime
    decided_at: datetime | None


def test_cycle_time_from_request_to_final_decision() -> None:
    settings = _settings()
    calendar = working_hours_calendar(settings.review.working_hours, settings.tz)
    row = _Row(created_at=jst(2026, 11, 20, 17, 0), decided_at=jst(2026, 11, 24, 10, 30))
    assert cycle_time(row) == timedelta(days=3, hours=17, minutes=30)
    assert cycle_business_hours(row, calendar) == 2.5
    assert cycle_time(_Row(created_at=row.created_at, decided_at=None)) is None
    assert cycle_business_hours(_Row(created_at=row.created_at, decided_at=None), calendar) is None
