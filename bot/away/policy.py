"""Away mode's rules (pure): who a review reminder goes to while approvers are away, and which away
day and delegate a manager may pick.

The review reminder job calls :func:`route_reminder` with the approvers the request waits on and
who is away on the local day (:func:`bot.away.queries.away_until_by_user`); the reminder then
mentions ``routing.to`` and names ``routing.away`` ("<@U…> is away until …") in the review message.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot.errors import BotError

#: A Slack user id as a users_select sends it.
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,39}$")


@dataclass(frozen=True, slots=True)
class ReminderRouting:
    """Who a reminder goes to.

    Attributes:
        to: the people to mention, in the order given.
        away: approvers skipped because they are away (for "who is away" in the message).
        to_admins: nobody of the step was left, so ``to`` holds the admins.
    """

    to: tuple[str, ...]
    away: tuple[str, ...]
    to_admins: bool = False


def route_reminder(
    *,
    waiting_on: Sequence[str],
    step_approvers: Sequence[str],
    away: Collection[str],
    admins: Sequence[str],
    requester: str,
    delegates: Mapping[str, str] | None = None,
) -> ReminderRouting:
    """Skip away approvers, reminding their delegate instead when they named one; else route to the
    rest of the step, else to the admins.

    Args:
        waiting_on: the step's approvers who have not acted yet (the usual reminder audience).
        step_approvers: every approver of the current step (for an "all" step, those who already
            approved can still nudge or take over when every remaining one is away).
        away: users away today (``away_users``).
        admins: the configured admins, the last resort.
        requester: never reminded about their own request.
        delegates: away users → who decides for them (set on the App Home); a delegate who is away too or is
            the requester is not reminded.
    """
    skipped = tuple(u for u in dict.fromkeys(waiting_on) if u in away)
    stand_ins = [(delegates or {}).get(u) for u in skipped]
    present = tuple(
        dict.fromkeys(
            [
                *(u for u in waiting_on if u not in away and u != requester),
                *(d for d in stand_ins if d and d not in away and d != requester),
            ]
        )
    )
    if present:
        return ReminderRouting(to=present, away=skipped)
    rest = tuple(u for u in dict.fromkeys(step_approvers) if u not in away and u != requester)
    if rest:
        return ReminderRouting(to=rest, away=skipped)
    fallback = tuple(u for u in dict.fromkeys(admins) if u not in away and u != requester)
    return ReminderRouting(to=fallback, away=skipped, to_admins=True)


def check_away_until(until: date | None, *, today: date) -> None:
    """A last away day must be ``today`` or later (``None``, back now, always is).

    Raises:
        BotError: ``away.errors.away_past`` when ``until`` is before ``today``.
    """
    if until is not None and until < today:
        raise BotError("away.errors.away_past", date=until.isoformat())


def check_delegate_pick(delegate: object, *, user_id: str) -> str:
    """The delegate ``user_id`` picked, when it is a Slack user id other than their own. Whether it is
    a configured manager needs the directory (:func:`bot.away.commands.check_delegate`).

    Raises:
        BotError: ``away.errors.delegate_invalid`` or ``away.errors.delegate_self``.
    """
    if not isinstance(delegate, str) or not _USER_ID.match(delegate):
        raise BotError("away.errors.delegate_invalid")
    if delegate == user_id:
        raise BotError("away.errors.delegate_self")
    return delegate
