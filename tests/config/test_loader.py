"""Config loading is a pure function of (file, environment); every problem is reported with its path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, Secret, load_settings, problems_for_run, settings_from_mapping
from bot.i18n import translator
from tests.conftest import BASE_CONFIG, TEST_ENV

ROOT = Path(__file__).resolve().parent.parent.parent


def _problems(raw: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        settings_from_mapping(raw, env or {}, base=Path("/srv/bot"))
    t = translator("en")
    return {p.path: p.render(t).removeprefix(f"{p.path}: ") for p in info.value.problems}


def test_the_example_config_is_valid_and_complete() -> None:
    settings = load_settings(ROOT / "config.example.toml", {})
    assert settings.locale == "ja"
    assert settings.timezone == "Asia/Tokyo"
    assert [a.key for a in settings.accounts] == ["x_corp", "ig_recruit"]
    assert settings.accounts[0].max_length == 280
    assert settings.accounts[1].max_length == 2200
    assert len(settings.accounts[0].approval) == 2
    assert {k.key for k in settings.kpis} >= {"recruiting_entries", "engagement_rate"}
    # The SQLite path is relative to the config file, not to the working directory.
    assert settings.database.url == f"sqlite:///{ROOT / 'sns_bot.db'}"
    assert settings.digest.monthly.cron is None
    assert settings.review.working_hours.extra_days_off[0] == "12-29"


def test_environment_overrides_and_secrets() -> None:
    env = {
        **TEST_ENV,
        "DATABASE_URL": "postgresql://bot@db/bot",
        "PORT": "8080",
        "SLACK_API_URL": "http://127.0.0.1:9999/api",
        "SLACK_APP_TOKEN": "xapp-1-A1-2-abcdef",
    }
    settings = settings_from_mapping(copy.deepcopy(BASE_CONFIG), env)
    assert settings.database.url == "postgresql://bot@db/bot"
    assert settings.server.port == 8080
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    assert settings.socket_mode is True
    assert settings.secrets.slack_bot_token == Secret(TEST_ENV["SLACK_BOT_TOKEN"])
    for text in (repr(settings), str(settings.secrets), repr(settings.secrets.slack_bot_token)):
        assert TEST_ENV["SLACK_BOT_TOKEN"] not in text
        assert TEST_ENV["SLACK_SIGNING_SECRET"] not in text
        assert "xapp-1-A1-2-abcdef" not in text


def test_every_problem_is_collected_with_its_key_path() -> None:
    raw = copy.deepcopy(BASE_CONFIG)
    raw["timezone"] = "Asia/Tokio"
    raw["colour"] = "blue"
    raw["roles"]["managers"] = ["U0MANAGER1", "bob"]
    raw["review"]["channel"] = "review-channel"
    raw["digest"]["weekly"]["cron"] = "0 9 * mon"
    raw["digest"]["monthly"]["cron"] = "61 9 1 * *"
    raw["accounts"].append(dict(raw["accounts"][0]))
    raw["kpis"].append({"key": "recruiting_entries", "aggregate": "derived", "better": "up"})
    env = {"SLACK_BOT_TOKEN": "xoxb-your-token-here"}

    problems = _problems(raw, env)

    assert problems["timezone"] == '"Asia/Tokio" is not a known time zone (e.g. Asia/Tokyo)'
    assert problems["colour"].startswith("unknown key (allowed here: locale, timezone,")
    assert problems["roles.managers[1]"] == '"bob" is not a Slack user or user group ID'
    assert problems["review.channel"] == '"review-channel" is not a Slack channel ID'
    assert problems["digest.weekly.cron"].startswith('"0 9 * mon" is not a valid 5-field crontab')
    assert problems["digest.monthly.cron"].startswith('"61 9 1 * *" is not a valid 5-field crontab')
    assert problems["accounts[2].key"] == '"x_corp" is used more than once'
    assert problems["kpis[3].key"] == '"recruiting_entries" is used more than once'
    assert problems["kpis[3].name"] == "is required"
    assert problems["kpis[3].why"] == "is required"
    assert problems["kpis[3].derive"] == "is required"
    assert problems["kpis[3].better"] == '"up" is not allowed (choose higher | lower)'
    assert (
        problems["$SLACK_BOT_TOKEN"] == "looks like a placeholder copied from an example; set the real value"
    )


def test_missing_required_values() -> None:
    problems = _problems({"accounts": [], "kpis": []})
    assert problems["review.channel"] == "is required"
    assert problems["roles.managers"] == "is required"
    assert problems["roles.admins"] == "is required"
    assert problems["accounts"] == "is required"


def test_wrong_types_are_reported_not_crashed_on() -> None:
    raw = copy.deepcopy(BASE_CONFIG)
    raw["server"] = {"port": "3000"}
    raw["review"]["remind_after_hours"] = True
    raw["digest"]["weekly"]["channels"] = "C0MGMT0001"
    raw["kpis"][0]["target"] = "thirty"
    problems = _problems(raw)
    assert problems["server.port"] == "must be an integer"
    assert problems["review.remind_after_hours"] == "must be a number"
    assert problems["digest.weekly.channels"] == "must be an array ([ … ])"
    assert problems["kpis[0].target"] == "must be a number"


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "nope.toml", {})
    assert info.value.problems[0].key == "file_missing"
    bad = tmp_path / "bad.toml"
    bad.write_text("locale = ", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(bad, {})
    assert info.value.problems[0].key == "bad_toml"


def test_run_needs_the_slack_secrets_of_its_mode() -> None:
    http = settings_from_mapping(copy.deepcopy(BASE_CONFIG), {})
    assert [p.path for p in problems_for_run(http)] == ["$SLACK_BOT_TOKEN", "$SLACK_SIGNING_SECRET"]
    socket = settings_from_mapping(
        copy.deepcopy(BASE_CONFIG), {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_APP_TOKEN": "xapp-1-2-abc"}
    )
    assert problems_for_run(socket) == []


def test_problems_render_in_japanese_too() -> None:
    raw = copy.deepcopy(BASE_CONFIG)
    raw["timezone"] = "Mars/Olympus"
    with pytest.raises(ConfigError) as info:
        settings_from_mapping(raw, {})
    t = translator("ja")
    assert (
        info.value.problems[0].render(t)
        == "timezone: 「Mars/Olympus」は不明なタイムゾーンです（例: Asia/Tokyo）"
    )
    assert info.value.locale == "ja"
