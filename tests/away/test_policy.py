"""Away mode's rules (pure): reminders route around away approvers (to their delegate, the rest of
the step, then the admins, never the requester), and which away day and delegate may be picked."""

from __future__ import annotations

from datetime import date

import pytest

from bot.away.policy import ReminderRouting, check_away_until, check_delegate_pick, route_reminder
from bot.errors import BotError
from tests.conftest import ADMIN, MANAGER, MANAGER2, OPERATOR


def test_reminders_skip_the_away_route_to_the_rest_then_to_admins_never_the_requester() -> None:
    assert route_reminder(
        waiting_on=[MANAGER, MANAGER2],
        step_approvers=[MANAGER, MANAGER2],
        away=set(),
        admins=[ADMIN],
        requester=OPERATOR,
    ) == ReminderRouting(to=(MANAGER, MANAGER2), away=())
    # An "all" step where MANAGER2 already approved and MANAGER is away: MANAGER2 gets the nudge.
    assert route_reminder(
        waiting_on=[MANAGER],
        step_approvers=[MANAGER, MANAGER2],
        away={MANAGER},
        admins=[ADMIN],
        requester=OPERATOR,
    ) == ReminderRouting(to=(MANAGER2,), away=(MANAGER,))
    # The admin asked for the review and every manager is away: other admins only.
    assert route_reminder(
        waiting_on=[MANAGER],
        step_approvers=[MANAGER],
        away={MANAGER},
        admins=[ADMIN, "U0ADMIN002"],
        requester=ADMIN,
    ) == ReminderRouting(to=("U0ADMIN002",), away=(MANAGER,), to_admins=True)


def test_reminders_of_an_away_approver_go_to_their_delegate() -> None:
    """Issue 13 item 4: the delegate an away approver named decides for them, so they are reminded."""
    assert route_reminder(
        waiting_on=[MANAGER],
        step_approvers=[MANAGER],
        away={MANAGER},
        admins=[ADMIN],
        requester=OPERATOR,
        delegates={MANAGER: MANAGER2},
    ) == ReminderRouting(to=(MANAGER2,), away=(MANAGER,))
    # A delegate who is away too, or who asked for the review, is not reminded: the admins are.
    for away, requester in (({MANAGER, MANAGER2}, OPERATOR), ({MANAGER}, MANAGER2)):
        assert route_reminder(
            waiting_on=[MANAGER],
            step_approvers=[MANAGER],
            away=away,
            admins=[ADMIN],
            requester=requester,
            delegates={MANAGER: MANAGER2},
        ) == ReminderRouting(to=(ADMIN,), away=(MANAGER,), to_admins=True)


def test_an_away_day_may_be_today_or_later_or_none() -> None:
    today = date(2026, 11, 18)
    for until in (None, today, date(2026, 12, 31)):
        check_away_until(until, today=today)
    with pytest.raises(BotError) as caught:
        check_away_until(date(2026, 11, 17), today=today)
    assert (caught.value.key, caught.value.params) == ("away.errors.away_past", {"date": "2026-11-17"})


@pytest.mark.parametrize(
    ("picked", "key"),
    [
        (None, "away.errors.delegate_invalid"),
        (42, "away.errors.delegate_invalid"),
        ("<@U0MANAGER2>", "away.errors.delegate_invalid"),
        ("C0TEAM0001", "away.errors.delegate_invalid"),
        (MANAGER, "away.errors.delegate_self"),
    ],
)
def test_a_delegate_pick_is_another_slack_user(picked: object, key: str) -> None:
    with pytest.raises(BotError) as caught:
        check_delegate_pick(picked, user_id=MANAGER)
    assert caught.value.key == key


def test_a_delegate_pick_of_another_user_is_kept() -> None:
    assert check_delegate_pick(MANAGER2, user_id=MANAGER) == MANAGER2
