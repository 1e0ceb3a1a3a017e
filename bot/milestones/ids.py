"""Identifiers of the milestones feature: the kinds of milestone, job ids, outbox kinds and the keys
of announcements (pure)."""

from __future__ import annotations

from enum import StrEnum


class MilestoneKind(StrEnum):
    """What was achieved; the value is what ``milestone.kind`` stores."""

    #: A KPI's best month ever (lowest for a lower-is-better KPI).
    KPI_RECORD = "kpi_record"
    #: A KPI met its target N months in a row.
    TARGET_STREAK = "target_streak"
    #: The quarter's best post by engagement rate.
    BEST_POST = "best_post"
    #: The team's published posts reached a round number.
    POSTS_TOTAL = "posts_total"
    #: An account's followers reached a round number.
    FOLLOWERS = "followers"


class JobId(StrEnum):
    DETECT = "milestones.detect"


class DeliveryKind(StrEnum):
    """Outbox kinds: Slack work owed for a stored milestone."""

    ANNOUNCE = "milestones.announce"


#: Subject of a milestone about the whole team (not one KPI or account).
TEAM = "team"


def announce_key(milestone_id: int, channel: str) -> str:
    """The outbox key (and post key) of announcing one milestone in one channel."""
    return f"milestone:{milestone_id}:{channel}"
