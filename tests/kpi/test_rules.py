"""The KPI rules, once for every path: who may write values and targets, and the checks of a typed
entry (``/sns-kpi set|target`` and the App Home's "record a KPI value" modal)."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.errors import BotError, NotAllowed
from bot.i18n import translator
from bot.kpi.rules import (
    KpiWrite,
    asks_directory,
    check_entry,
    check_writer,
    may_record,
    parse_month,
    parse_value,
)
from tests.conftest import ADMIN, MANAGER, NOW, OPERATOR, make_settings


def _setters(setters: str) -> Settings:
    return make_settings(change=lambda raw: raw.update(kpi={"setters": setters}))


@pytest.mark.parametrize(
    ("setters", "user", "is_manager", "refusal"),
    [
        ("admins", ADMIN, False, None),
        ("admins", MANAGER, True, "kpi.errors.setters_admins"),
        ("managers", MANAGER, True, None),
        ("managers", OPERATOR, False, "kpi.errors.setters_managers"),
        ("managers", OPERATOR, None, "kpi.errors.role_unknown"),  # a user group not resolved yet
        ("managers", ADMIN, None, None),  # admins never wait for the directory
        ("everyone", OPERATOR, None, None),
    ],
)
def test_who_may_record_a_value(
    setters: str, user: str, is_manager: bool | None, refusal: str | None
) -> None:
    settings = _setters(setters)
    asked = asks_directory(settings, user_id=user, write=KpiWrite.SET)
    assert asked == (setters == "managers" and user != ADMIN)
    if refusal is None:
        check_writer(settings, user_id=user, write=KpiWrite.SET, is_manager=is_manager)
    else:
        with pytest.raises(BotError) as caught:
            check_writer(settings, user_id=user, write=KpiWrite.SET, is_manager=is_manager)
        assert caught.value.key == refusal
        assert isinstance(caught.value, NotAllowed) == (refusal != "kpi.errors.role_unknown")
    if is_manager is not None:
        assert may_record(settings, user_id=user, is_manager=is_manager) == (refusal is None)


@pytest.mark.parametrize("setters", ["admins", "managers", "everyone"])
def test_only_admins_set_targets(setters: str) -> None:
    settings = _setters(setters)
    check_writer(settings, user_id=ADMIN, write=KpiWrite.TARGET, is_manager=None)
    assert not asks_directory(settings, user_id=MANAGER, write=KpiWrite.TARGET)
    for user in (MANAGER, OPERATOR):
        with pytest.raises(NotAllowed) as caught:
            check_writer(settings, user_id=user, write=KpiWrite.TARGET, is_manager=True)
        assert caught.value.key == "kpi.errors.target_admins"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1234", 1234.0), ("1,234", 1234.0), ("3.2%", 3.2), ("¥12,000", 12000.0), ("１２", 12.0), ("0", 0.0)],
)
def test_parse_value_accepts(text: str, expected: float) -> None:
    kpi = make_settings().kpis[0]
    assert parse_value(kpi, text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("abc", "kpi.errors.bad_value"),
        ("NaN", "kpi.errors.bad_value"),
        ("inf", "kpi.errors.bad_value"),
        ("1e400", "kpi.errors.bad_value"),
        ("1,23", "kpi.errors.bad_value"),
        ("", "kpi.errors.bad_value"),
        ("-5", "kpi.errors.negative_value"),
    ],
)
def test_parse_value_refuses(text: str, key: str) -> None:
    with pytest.raises(BotError) as info:
        parse_value(make_settings().kpis[0], text)
    assert info.value.key == key


def test_parse_month() -> None:
    tz = make_settings().tz
    assert parse_month(None, now=NOW, tz=tz).label == "2026-11"
    assert parse_month("2026-12", now=NOW, tz=tz).label == "2026-12"
    assert parse_month("2025-01", now=NOW, tz=tz).label == "2025-01"
    for text, key in (
        ("2027-01", "kpi.errors.month_too_far"),
        ("2026-13", "kpi.errors.bad_month"),
        ("11", "kpi.errors.bad_month"),
    ):
        with pytest.raises(BotError) as info:
            parse_month(text, now=NOW, tz=tz)
        assert info.value.key == key


@pytest.mark.parametrize(
    ("kpi", "value", "month", "block", "key"),
    [
        (None, "1", "2026-11", "home_kpi", "kpi.errors.kpi_missing"),
        ("nope", "1", "2026-11", "home_kpi", "kpi.errors.unknown_kpi"),
        ("engagement_rate", "1", "2026-11", "home_kpi", "kpi.errors.derived"),
        ("recruiting_entries", "-3", "2026-11", "home_value", "kpi.errors.negative_value"),
        ("recruiting_entries", None, "2026-11", "home_value", "kpi.errors.bad_value"),
        ("recruiting_entries", "3", "2027-01", "home_month", "kpi.errors.month_too_far"),
    ],
)
def test_kpi_entry_problems_point_at_their_input(
    kpi: str | None, value: str | None, month: str, block: str, key: str
) -> None:
    with pytest.raises(BotError) as caught:
        check_entry(
            make_settings(), write=KpiWrite.SET, kpi_key=kpi, value_text=value, month_text=month, now=NOW
        )
    assert (caught.value.block_id, caught.value.key) == (block, key)


def test_kpi_entry_accepts_what_sns_kpi_set_accepts() -> None:
    entry = check_entry(
        make_settings(),
        write=KpiWrite.SET,
        kpi_key="recruiting_entries",
        value_text="１,２００",
        month_text="2026-10",
        now=NOW,
    )
    assert (entry.kpi.key, entry.month.label, entry.value) == ("recruiting_entries", "2026-10", 1200.0)


def test_a_derived_kpi_takes_a_target_but_no_value() -> None:
    settings = make_settings()
    with pytest.raises(BotError) as caught:
        check_entry(
            settings, write=KpiWrite.SET, kpi_key="engagement_rate", value_text="3", month_text=None, now=NOW
        )
    assert caught.value.key == "kpi.errors.derived"
    # The KPI's name follows whoever reads the error, not the configured language.
    assert caught.value.render(translator("en")).startswith("Engagement rate is calculated")
    assert caught.value.render(translator("ja")).startswith("エンゲージメント率は投稿の指標から")
    entry = check_entry(
        settings,
        write=KpiWrite.TARGET,
        kpi_key="engagement_rate",
        value_text="3.5%",
        month_text=None,
        now=NOW,
    )
    assert (entry.kpi.key, entry.month.label, entry.value) == ("engagement_rate", "2026-11", 3.5)
