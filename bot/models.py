"""Every feature's ORM models in one import, so ``Base.metadata`` is complete for Alembic and tests."""

from bot.actions.models import ActionItem
from bot.away.models import UserState
from bot.db import Base
from bot.digest.models import DigestRun, Win
from bot.keys import ProcessedKey
from bot.kpi.models import (
    Account,
    AccountSnapshot,
    CollectorRun,
    DailyMetric,
    KpiTarget,
    KpiUpload,
    KpiValue,
    MetricSnapshot,
    Post,
)
from bot.milestones.models import Milestone
from bot.participation.models import ParticipationMark, ParticipationNudge, ParticipationPrefs
from bot.review.models import ReviewApprover, ReviewEvent, ReviewRequest, ReviewRevision
from bot.slack.models import OutboxItem, UserLocale
from bot.welcome.models import ManagerWelcome

__all__ = [
    "Account",
    "ActionItem",
    "AccountSnapshot",
    "Base",
    "CollectorRun",
    "DailyMetric",
    "DigestRun",
    "KpiTarget",
    "KpiUpload",
    "KpiValue",
    "ManagerWelcome",
    "MetricSnapshot",
    "Milestone",
    "OutboxItem",
    "ParticipationMark",
    "ParticipationNudge",
    "ParticipationPrefs",
    "Post",
    "ProcessedKey",
    "ReviewApprover",
    "ReviewEvent",
    "ReviewRequest",
    "ReviewRevision",
    "UserLocale",
    "UserState",
    "Win",
]
