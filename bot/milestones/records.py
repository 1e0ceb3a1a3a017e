"""Milestones as plain data: one found by detection, and one recorded in the store (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.milestones.ids import MilestoneKind


@dataclass(frozen=True, slots=True)
class Found:
    """A milestone detection found; ``(kind, subject, mark)`` is the claim that makes it once.

    Attributes:
        subject: the KPI key, the account key, or :data:`bot.milestones.ids.TEAM`.
        mark: the period or round number (see :class:`bot.milestones.models.Milestone`).
        value: what was achieved (a month's value, the streak's length, a post's rate, a count).
        previous: what it beat (the earlier best, the count before the window).
        detail: what a message needs besides (a post's URL and figures, a streak's first month).
    """

    kind: MilestoneKind
    subject: str
    mark: str
    value: float | None = None
    previous: float | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Achieved:
    """A milestone as recorded: what was found, when, and whether it was announced."""

    id: int
    found: Found
    detected_at: datetime
    announced_at: datetime | None = None
