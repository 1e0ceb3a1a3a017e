"""What counts as taking part, and when a silent manager may be nudged (pure).

A reaction counts when it is on a message the bot posted (``item_user`` is the bot's user id); a reply
counts when it is in a thread whose parent the bot posted (``parent_user_id`` is the bot's user id), so
the bot records nothing about conversations that are not about its own posts. Edits, deletions,
broadcasts' hidden twins and other subtypes are not replies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.participation.ids import MarkKind
from bot.workdays import WorkCalendar

#: Message subtypes that are a person's reply in a thread ("also send to channel" included).
_REPLY_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})
#: Weeks are counted from this Monday (windows of ``nudge_after_weeks`` weeks start on Mondays).
_EPOCH_MONDAY = date(2024, 1, 1)


@dataclass(frozen=True, slots=True)
class Mark:
    """One reaction or reply on one of the bot's posts, as an event says it happened."""

    kind: MarkKind
    user_id: str
    channel_id: str
    message_ts: str
    item: str
    at: datetime
    event_time: int
    removed: bool = False


def _when(ts: object, fallback: int) -> datetime:
    try:
        return datetime.fromtimestamp(float(str(ts)), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.fromtimestamp(fallback, tz=UTC)


def reaction_mark(event: Mapping[str, Any], *, bot_user_id: str | None, event_time: int) -> Mark | None:
    """The mark a ``reaction_added`` / ``reaction_removed`` event makes, or ``None`` when it is not a
    person's reaction to one of the bot's messages."""
    if not bot_user_id or event.get("type") not in ("reaction_added", "reaction_removed"):
        return None
    item = event.get("item")
    user, reaction = event.get("user"), event.get("reaction")
    if not isinstance(item, Mapping) or item.get("type") != "message":
        return None
    channel, ts = item.get("channel"), item.get("ts")
    if event.get("item_user") != bot_user_id or user == bot_user_id:
        return None
    if not all(isinstance(v, str) and v for v in (user, reaction, channel, ts)):
        return None
    return Mark(
        kind=MarkKind.REACTION,
        user_id=str(user),
        channel_id=str(channel),
        message_ts=str(ts),
        item=str(reaction)[:100],
        at=_when(event.get("event_ts"), event_time),
        event_time=event_time,
        removed=event["type"] == "reaction_removed",
    )


def reply_mark(event: Mapping[str, Any], *, bot_user_id: str | None, event_time: int) -> Mark | None:
    """The mark a ``message`` event makes when it is a person's reply in a thread the bot started."""
    if not bot_user_id or event.get("type") != "message" or event.get("hidden"):
        return None
    if event.get("subtype") not in _REPLY_SUBTYPES or event.get("bot_id"):
        return None
    user, channel, ts, thread = (
        event.get("user"),
        event.get("channel"),
        event.get("ts"),
        event.get("thread_ts"),
    )
    if not all(isinstance(v, str) and v for v in (user, channel, ts, thread)) or ts == thread:
        return None
    if event.get("parent_user_id") != bot_user_id or user == bot_user_id:
        return None
    return Mark(
        kind=MarkKind.REPLY,
        user_id=str(user),
        channel_id=str(channel),
        message_ts=str(thread),
        item=str(ts),
        at=_when(ts, event_time),
        event_time=event_time,
    )


# ---------------------------------------------------------------------------------------------
# Nudges
# ---------------------------------------------------------------------------------------------


def window_index(day: date, *, weeks: int) -> int:
    """The index of the ``weeks``-week window (Monday-aligned) that local ``day`` falls in: a manager
    is nudged at most once per window."""
    return (day - _EPOCH_MONDAY).days // (7 * weeks)


def may_nudge_now(now: datetime, calendar: WorkCalendar) -> bool:
    """Whether ``now`` is inside working hours on a business day of ``calendar`` (which must count
    Japanese public holidays: a nudge never arrives on one)."""
    return calendar.next_opening(now) == now.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class NudgeState:
    """What the store says about one manager before a nudge run."""

    user_id: str
    last_part: datetime | None
    last_nudge: datetime | None
    nudges_off: bool
    remind_on: date | None
    away: bool


def is_silent(state: NudgeState, *, now: datetime, weeks: int) -> bool:
    """No participation in the last ``weeks`` weeks."""
    return state.last_part is None or now - state.last_part >= timedelta(weeks=weeks)


def nudge_slot(state: NudgeState, *, now: datetime, today: date, weeks: int) -> str | None:
    """The slot a nudge to this manager would claim now, or ``None`` for no nudge.

    A silent manager who has not turned nudges off and is not away gets one nudge per ``weeks``-week
    window (``w<N>``), never within ``weeks`` weeks of the last one; one who asked "remind me next
    week" gets nothing before that day and then one reminder (``r<date>``), whenever the last was.
    """
    if state.nudges_off or state.away or not is_silent(state, now=now, weeks=weeks):
        return None
    if state.remind_on is not None:
        return f"r{state.remind_on.isoformat()}" if today >= state.remind_on else None
    if state.last_nudge is not None and now - state.last_nudge < timedelta(weeks=weeks):
        return None
    return f"w{window_index(today, weeks=weeks)}"


def next_week(today: date) -> date:
    """ "Remind me next week": the Monday after ``today``."""
    return today + timedelta(days=7 - today.weekday())
