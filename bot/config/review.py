"""``[review]`` (pure): the review channel, reminder and escalation timing, change-request reasons and
the working hours those timings count in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from bot.config.reader import Reader
from bot.config.values import KEY_RE, LocalizedText, check_cron, is_channel_id

#: Change-request reason labels offered by default (keys; labels live in the review catalog).
DEFAULT_REASONS = (
    "tone",
    "unsupported_claim",
    "missing_asset",
    "timing_conflict",
    "brand_guideline",
    "legal_risk",
    "typo",
)

_REVIEW_KEYS = (
    "channel",
    "remind_after_hours",
    "escalate_after_hours",
    "escalation_channel",
    "reminder_backoff",
    "escalate_before_due_hours",
    "reasons",
    "custom_reasons",
    "working_hours",
    "sweep_cron",
    "publish_window_days",
    "dm_approvers",
)
_WORKING_HOURS_KEYS = ("start", "end", "weekdays", "japanese_holidays", "extra_days_off")
_MONTH_DAY_RE = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


@dataclass(frozen=True, slots=True)
class WorkingHours:
    start: time = time(9, 0)
    end: time = time(18, 0)
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    japanese_holidays: bool = True
    #: Company days off beyond public holidays, as "MM-DD" (e.g. New Year "01-02", "01-03", "12-31").
    extra_days_off: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReviewSettings:
    channel: str
    remind_after_hours: float = 24
    escalate_after_hours: float = 72
    escalation_channel: str | None = None
    #: Each further reminder waits this many times longer than the previous one.
    reminder_backoff: float = 2.0
    #: Escalate when the due time is this close (working hours) and no decision was made.
    escalate_before_due_hours: float = 4
    reasons: tuple[str, ...] = DEFAULT_REASONS
    #: Extra reason labels beyond the built-in ones: key -> {ja, en}.
    custom_reasons: Mapping[str, LocalizedText] = field(default_factory=dict)
    working_hours: WorkingHours = WorkingHours()
    #: Cron (5 fields) for the reminder sweep.
    sweep_cron: str = "*/10 * * * *"
    #: "Mark as published" accepts publish times at most this many days ago.
    publish_window_days: int = 30
    #: DM each approver when a request reaches their step (in their language), besides the channel.
    dm_approvers: bool = False


def read_review(r: Reader, raw: Mapping[str, Any]) -> ReviewSettings:
    """``[review]``: the channel is required; escalation comes after the first reminder."""
    t = r.table(raw, "review", "")
    r.known(t, "review", _REVIEW_KEYS)
    channel = r.get(t, "channel", "review", str, "", required=True)
    if channel and not is_channel_id(channel):
        r.add("review.channel", "bad_id", value=channel, what="channel")
    escalation = r.get(t, "escalation_channel", "review", str, None)
    if escalation is not None and not is_channel_id(escalation):
        r.add("review.escalation_channel", "bad_id", value=escalation, what="channel")
    remind = r.positive(t, "remind_after_hours", "review", 24)
    escalate = r.positive(t, "escalate_after_hours", "review", 72)
    if escalate <= remind:
        r.add("review.escalate_after_hours", "escalate_before_remind")
    backoff = r.get(t, "reminder_backoff", "review", (int, float), 2.0)
    if backoff < 1:
        r.add("review.reminder_backoff", "bad_choice", value=str(backoff), choices="≥ 1")
        backoff = 2.0
    before_due = r.positive(t, "escalate_before_due_hours", "review", 4)
    reasons, custom = _reasons(r, t)
    working_hours = _working_hours(r, t)
    window = r.get(t, "publish_window_days", "review", int, 30)
    if not 1 <= window <= 3650:
        r.add("review.publish_window_days", "bad_choice", value=str(window), choices="1 … 3650")
        window = 30
    sweep = r.get(t, "sweep_cron", "review", str, "*/10 * * * *")
    if (why := check_cron(sweep)) is not None:
        r.add("review.sweep_cron", "bad_cron", value=sweep, reason=why)
    return ReviewSettings(
        channel=channel,
        remind_after_hours=remind,
        escalate_after_hours=escalate,
        escalation_channel=escalation,
        reminder_backoff=float(backoff),
        escalate_before_due_hours=before_due,
        reasons=reasons,
        custom_reasons=custom,
        working_hours=working_hours,
        sweep_cron=sweep,
        publish_window_days=window,
        dm_approvers=r.get(t, "dm_approvers", "review", bool, False),
    )


def _reasons(r: Reader, t: Mapping[str, Any]) -> tuple[tuple[str, ...], dict[str, LocalizedText]]:
    """The offered reason keys (built-in or custom) and the custom reasons' labels; every custom reason
    is offered even when ``reasons`` does not list it."""
    custom: dict[str, LocalizedText] = {}
    custom_raw = r.table(t, "custom_reasons", "review")
    for key in custom_raw:
        if not KEY_RE.match(key):
            r.add(f"review.custom_reasons.{key}", "bad_key", value=key)
        custom[key] = r.localized(custom_raw, key, "review.custom_reasons", required=True)
    reasons = r.str_list(t, "reasons", "review") if "reasons" in t else DEFAULT_REASONS
    for i, reason in enumerate(reasons):
        if reason not in DEFAULT_REASONS and reason not in custom:
            r.add(f"review.reasons[{i}]", "unknown_reason", value=reason)
    for key in custom:
        if key not in reasons:
            reasons = (*reasons, key)
    return tuple(reasons), custom


def _working_hours(r: Reader, t: Mapping[str, Any]) -> WorkingHours:
    """``[review.working_hours]``: the hours reminders and escalations count."""
    wh_raw = r.table(t, "working_hours", "review")
    r.known(wh_raw, "review.working_hours", _WORKING_HOURS_KEYS)
    start = r.hhmm(wh_raw, "start", "review.working_hours", time(9))
    end = r.hhmm(wh_raw, "end", "review.working_hours", time(18))
    if end <= start:
        r.add("review.working_hours.end", "end_before_start")
    weekdays = tuple(r.get(wh_raw, "weekdays", "review.working_hours", list, [0, 1, 2, 3, 4]))
    if not weekdays or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in weekdays
    ):
        r.add("review.working_hours.weekdays", "bad_weekdays")
        weekdays = (0, 1, 2, 3, 4)
    holidays_on = r.get(wh_raw, "japanese_holidays", "review.working_hours", bool, True)
    days_off = r.str_list(wh_raw, "extra_days_off", "review.working_hours")
    for i, day in enumerate(days_off):
        if not _MONTH_DAY_RE.match(day):
            r.add(f"review.working_hours.extra_days_off[{i}]", "bad_day", value=day)
    return WorkingHours(start, end, weekdays, holidays_on, days_off)
