"""The whole configuration as one frozen value (pure): every section, the secrets and the questions
features ask of it (an account, a KPI, a role)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.config.accounts import AccountSettings
from bot.config.celebrate import MilestoneSettings, PaceSettings
from bot.config.digest import DigestSettings
from bot.config.i18n import I18nSettings
from bot.config.kpis import KpiCommandSettings, KpiSettings, SearchConsoleSettings
from bot.config.participation import ParticipationSettings
from bot.config.review import ReviewSettings
from bot.config.roles import RoleSettings
from bot.config.secrets import Secrets
from bot.config.server import (
    CollectorSettings,
    DatabaseSettings,
    LoggingSettings,
    SchedulerSettings,
    ServerSettings,
)
from bot.config.slack import DEFAULT_API_URL, SlackSettings
from bot.i18n import Locale
from bot.periods import DEFAULT_FISCAL_YEAR_START


@dataclass(frozen=True, slots=True)
class Settings:
    locale: Locale
    timezone: str
    database: DatabaseSettings
    server: ServerSettings
    roles: RoleSettings
    review: ReviewSettings
    kpi: KpiCommandSettings
    digest: DigestSettings
    scheduler: SchedulerSettings
    collectors: CollectorSettings
    search_console: SearchConsoleSettings
    slack: SlackSettings
    logging: LoggingSettings
    accounts: tuple[AccountSettings, ...]
    kpis: tuple[KpiSettings, ...]
    secrets: Secrets
    slack_api_url: str = DEFAULT_API_URL
    #: The month (1-12) the fiscal year starts in: quarters, halves and years roll up from it.
    fiscal_year_start: int = DEFAULT_FISCAL_YEAR_START
    #: What the bot celebrates by itself (issue 16).
    milestones: MilestoneSettings = MilestoneSettings()
    #: The mid-month alert of KPIs behind their pace (issue 16).
    pace: PaceSettings = PaceSettings()
    #: ``[i18n]``: per-person language (bot.slack.locales).
    i18n: I18nSettings = I18nSettings()
    #: Managers taking part: nudges to the silent (issue 16).
    participation: ParticipationSettings = ParticipationSettings()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def socket_mode(self) -> bool:
        return self.secrets.slack_app_token is not None

    def account(self, key: str) -> AccountSettings | None:
        return next((a for a in self.accounts if a.key == key), None)

    def kpi_def(self, key: str) -> KpiSettings | None:
        return next((k for k in self.kpis if k.key == key), None)

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.roles.admins

    def is_manager(self, user_id: str) -> bool:
        """Configured as a manager by user id (user-group membership is resolved through Slack)."""
        return user_id in self.roles.managers
