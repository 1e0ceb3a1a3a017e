"""Settings: one TOML file plus the environment, validated into frozen dataclasses (pure).

This package's public API is exactly ``__all__`` below: the names other modules import from
``bot.config`` (a test keeps the two equal). Inside, :mod:`bot.config.loader` reads and validates,
each section has its own schema module (``roles``, ``review``, ``accounts``, ``kpis``, ``digest``,
``server``, ``slack``, ``secrets``) and :mod:`bot.config.reader` collects the problems.
"""

from bot.config.accounts import DEFAULT_MAX_LENGTH, AccountSettings, ApprovalStep
from bot.config.i18n import I18nSettings
from bot.config.kpis import AGGREGATES, DERIVATIONS, KpiCommandSettings, KpiSettings, SearchConsoleSettings
from bot.config.loader import (
    ConfigError,
    load_settings,
    problems_for_run,
    resolve_config_path,
    settings_from_mapping,
)
from bot.config.reader import Problem
from bot.config.review import ReviewSettings, WorkingHours
from bot.config.secrets import Secret, mask_database_url
from bot.config.server import database_url_problem
from bot.config.settings import Settings
from bot.config.values import is_user_id, is_usergroup_id

__all__ = [
    "AGGREGATES",
    "DEFAULT_MAX_LENGTH",
    "DERIVATIONS",
    "AccountSettings",
    "ApprovalStep",
    "ConfigError",
    "I18nSettings",
    "KpiCommandSettings",
    "KpiSettings",
    "Problem",
    "ReviewSettings",
    "SearchConsoleSettings",
    "Secret",
    "Settings",
    "WorkingHours",
    "database_url_problem",
    "is_user_id",
    "is_usergroup_id",
    "load_settings",
    "mask_database_url",
    "problems_for_run",
    "resolve_config_path",
    "settings_from_mapping",
]
