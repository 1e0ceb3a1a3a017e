"""``[participation]``, ``[digest.monthly] participation`` and ``derive = "manager_participation"``."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import ConfigError
from tests.conftest import make_settings
from tests.scenarios.participation_seed import RATE_KPI


def test_defaults_nudge_after_two_silent_weeks_and_name_those_who_took_part() -> None:
    settings = make_settings()
    assert settings.participation.nudges is True
    assert settings.participation.nudge_after_weeks == 2
    assert settings.participation.nudge_cron == "0 10 * * mon-fri"
    assert settings.digest.monthly.participation == "named"


def test_the_participation_rate_is_a_derived_kpi_with_a_target() -> None:
    settings = make_settings(change=lambda raw: raw["kpis"].append(dict(RATE_KPI)))
    kpi = settings.kpi_def("manager_participation")
    assert kpi is not None and (kpi.derive, kpi.target, kpi.decimals) == ("manager_participation", 80.0, 1)


def test_admins_turn_nudges_off_and_choose_the_section() -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["participation"] = {"nudges": False, "nudge_after_weeks": 3, "nudge_cron": "30 14 * * tue"}
        raw["digest"]["monthly"]["participation"] = "counts"

    settings = make_settings(change=change)
    assert (settings.participation.nudges, settings.participation.nudge_after_weeks) == (False, 3)
    assert settings.digest.monthly.participation == "counts"


def test_bad_values_are_listed_and_refused() -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["participation"] = {"nudges": "yes", "nudge_after_weeks": 0, "nudge_cron": "every day", "x": 1}
        raw["digest"]["monthly"]["participation"] = "shame"

    with pytest.raises(ConfigError) as refused:
        make_settings(change=change)
    assert sorted(p.path for p in refused.value.problems) == [
        "digest.monthly.participation",
        "participation.nudge_after_weeks",
        "participation.nudge_cron",
        "participation.nudges",
        "participation.x",
    ]
