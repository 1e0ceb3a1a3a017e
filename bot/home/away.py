"""Away mode's rule for review reminders: who gets pinged instead of a manager who is away — their
delegate when they named one on the App Home (pure).

The review reminder job calls :func:`route_reminder` with the approvers the request waits on and
``await bot.home.service.away_users(session, on=local_today)``; the reminder then mentions
``routing.to`` and names ``routing.away`` ("<@U…> is away until …") in the review message.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass


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
        delegates: away users → who decides for them (App Home); a delegate who is away too or is
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
