"""What counts as taking part, and who may be nudged when (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.participation.ids import MarkKind
from bot.participation.policy import (
    NudgeState,
    may_nudge_now,
    next_week,
    nudge_slot,
    reaction_mark,
    reply_mark,
    window_index,
)
from bot.workdays import WorkCalendar

BOT = "U0BOT0001"
TOKYO = ZoneInfo("Asia/Tokyo")


def _reaction(**changes: object) -> dict[str, object]:
    event: dict[str, object] = {
        "type": "reaction_added",
        "user": "U0MANAGER1",
        "reaction": "tada",
        "item_user": BOT,
        "item": {"type": "message", "channel": "C0MGMT0001", "ts": "1763300000.000100"},
        "event_ts": "1763400000.000400",
    }
    event.update(changes)
    return event


def test_a_reaction_on_the_bots_message_is_a_mark_keyed_by_message_user_and_emoji() -> None:
    mark = reaction_mark(_reaction(), bot_user_id=BOT, event_time=1763400001)
    assert mark is not None
    assert (mark.kind, mark.user_id, mark.channel_id, mark.message_ts, mark.item, mark.removed) == (
        MarkKind.REACTION,
        "U0MANAGER1",
        "C0MGMT0001",
        "1763300000.000100",
        "tada",
        False,
    )
    assert mark.at == datetime.fromtimestamp(1763400000.0004, tz=UTC)
    removed = reaction_mark(_reaction(type="reaction_removed"), bot_user_id=BOT, event_time=1763400002)
    assert removed is not None and removed.removed


def test_reactions_that_are_not_on_the_bots_posts_are_not_marks() -> None:
    assert reaction_mark(_reaction(item_user="U0ALICE01"), bot_user_id=BOT, event_time=1) is None
    assert reaction_mark(_reaction(user=BOT), bot_user_id=BOT, event_time=1) is None
    assert (
        reaction_mark(_reaction(item={"type": "file", "file": "F1"}), bot_user_id=BOT, event_time=1) is None
    )
    assert reaction_mark(_reaction(), bot_user_id=None, event_time=1) is None  # identity unknown


def _reply(**changes: object) -> dict[str, object]:
    event: dict[str, object] = {
        "type": "message",
        "user": "U0MANAGER1",
        "text": "Looks good",
        "ts": "1763400000.000500",
        "thread_ts": "1763300000.000100",
        "parent_user_id": BOT,
        "channel": "C0MGMT0001",
    }
    event.update(changes)
    return event


def test_a_reply_in_the_bots_thread_is_a_mark_keyed_by_its_own_ts() -> None:
    mark = reply_mark(_reply(), bot_user_id=BOT, event_time=5)
    assert mark is not None
    assert (mark.kind, mark.message_ts, mark.item) == (
        MarkKind.REPLY,
        "1763300000.000100",
        "1763400000.000500",
    )
    broadcast = reply_mark(_reply(subtype="thread_broadcast"), bot_user_id=BOT, event_time=5)
    assert broadcast is not None


def test_other_messages_are_not_replies() -> None:
    cases = [
        _reply(parent_user_id="U0ALICE01"),  # someone else's thread
        _reply(thread_ts="1763400000.000500"),  # a thread's parent itself
        {k: v for k, v in _reply().items() if k != "thread_ts"},  # not in a thread
        _reply(subtype="message_changed", hidden=True),  # an edit
        _reply(subtype="message_deleted"),
        _reply(bot_id="B0OTHER01"),  # another app
        _reply(user=BOT),
    ]
    assert [reply_mark(event, bot_user_id=BOT, event_time=1) for event in cases] == [None] * len(cases)


def test_nudges_only_in_working_hours_on_business_days_never_on_a_japanese_holiday() -> None:
    calendar = WorkCalendar(tz=TOKYO, country="JP")
    at = lambda *a: datetime(*a, tzinfo=TOKYO)  # noqa: E731
    assert may_nudge_now(at(2026, 11, 24, 10), calendar)
    assert not may_nudge_now(at(2026, 11, 23, 10), calendar)  # 勤労感謝の日
    assert not may_nudge_now(at(2026, 11, 24, 8, 59), calendar)
    assert not may_nudge_now(at(2026, 11, 24, 18), calendar)
    assert not may_nudge_now(at(2026, 11, 28, 10), calendar)  # Saturday


NOW = datetime(2026, 11, 18, 1, tzinfo=UTC)
TODAY = date(2026, 11, 18)


def _state(**changes: object) -> NudgeState:
    values: dict[str, object] = {
        "user_id": "U0MANAGER2",
        "last_part": NOW - timedelta(weeks=3),
        "last_nudge": None,
        "nudges_off": False,
        "remind_on": None,
        "away": False,
    }
    values.update(changes)
    return NudgeState(**values)  # type: ignore[arg-type]


def test_a_silent_manager_gets_one_nudge_per_window() -> None:
    slot = nudge_slot(_state(), now=NOW, today=TODAY, weeks=2)
    assert slot == f"w{window_index(TODAY, weeks=2)}"
    # Monday-aligned windows of two weeks.
    assert window_index(date(2026, 11, 16), weeks=2) == window_index(date(2026, 11, 29), weeks=2)
    assert window_index(date(2026, 11, 30), weeks=2) == window_index(date(2026, 11, 29), weeks=2) + 1


def test_no_nudge_when_active_off_away_snoozed_or_recently_nudged() -> None:
    def slot(**changes: object) -> str | None:
        return nudge_slot(_state(**changes), now=NOW, today=TODAY, weeks=2)

    assert slot(last_part=NOW - timedelta(days=13)) is None
    assert slot(nudges_off=True) is None
    assert slot(away=True) is None
    assert slot(last_nudge=NOW - timedelta(days=10)) is None
    assert slot(last_nudge=NOW - timedelta(days=15)) is not None
    assert slot(remind_on=date(2026, 11, 23)) is None
    # The reminder they asked for comes on its day, whenever the last nudge was.
    reminded = nudge_slot(
        _state(remind_on=date(2026, 11, 23), last_nudge=NOW),
        now=NOW + timedelta(days=6),
        today=date(2026, 11, 24),
        weeks=2,
    )
    assert reminded == "r2026-11-23"


def test_remind_me_next_week_is_next_monday() -> None:
    assert next_week(date(2026, 11, 18)) == date(2026, 11, 23)
    assert next_week(date(2026, 11, 23)) == date(2026, 11, 30)
    assert next_week(date(2026, 11, 22)) == date(2026, 11, 23)
