"""``[milestones]`` and ``[pace]``: defaults, every key read, every bad value named with its path."""

from __future__ import annotations

from datetime import time

import pytest

from bot.config import ConfigError
from bot.config.celebrate import DEFAULT_ROUND_NUMBERS, read_milestones, read_pace
from bot.config.reader import Problem, Reader
from tests.conftest import make_settings


def _reader() -> tuple[Reader, list[Problem]]:
    problems: list[Problem] = []
    return Reader(problems), problems


def test_defaults_detect_but_announce_nowhere_and_pace_is_off() -> None:
    settings = make_settings()
    assert settings.milestones.enabled and not settings.milestones.announces
    assert settings.milestones.round_numbers == DEFAULT_ROUND_NUMBERS
    assert settings.pace.channel is None
    assert (settings.pace.day, settings.pace.at, settings.pace.threshold_percent) == (15, time(10), 10.0)


def test_every_key_is_read() -> None:
    r, problems = _reader()
    milestones = read_milestones(
        r,
        {
            "milestones": {
                "announce_channel": "C0TEAM001",
                "streak_months": 6,
                "min_history_months": 12,
                "settle_days": 0,
                "round_numbers": [1000, 100],
                "round_window_days": 3,
                "check_minutes": 30,
            }
        },
    )
    pace = read_pace(
        r,
        {
            "pace": {
                "channel": "C0TEAM001",
                "day": 20,
                "at": "14:30",
                "threshold_percent": 5,
                "all_on_pace_line": True,
                "catch_up_days": 5,
            }
        },
    )
    assert problems == []
    assert pace.catch_up_days == 5
    assert milestones.announces and milestones.announce_channel == "C0TEAM001"
    assert (milestones.streak_months, milestones.min_history_months, milestones.settle_days) == (6, 12, 0)
    assert milestones.round_numbers == (100, 1000)
    assert (milestones.round_window_days, milestones.check_minutes) == (3, 30)
    assert (pace.channel, pace.day, pace.at, pace.threshold_percent, pace.all_on_pace_line) == (
        "C0TEAM001",
        20,
        time(14, 30),
        5.0,
        True,
    )


def test_announce_off_keeps_detection() -> None:
    r, problems = _reader()
    milestones = read_milestones(r, {"milestones": {"announce": False, "announce_channel": "C0TEAM001"}})
    assert problems == [] and milestones.enabled and not milestones.announces


def test_bad_values_are_named_with_their_paths() -> None:
    r, problems = _reader()
    read_milestones(
        r,
        {
            "milestones": {
                "announce": True,
                "streak_months": 1,
                "round_numbers": [100, -5, "x"],
                "check_minutes": 1,
                "colour": "red",
            }
        },
    )
    read_pace(
        r,
        {
            "pace": {
                "channel": "general",
                "day": 31,
                "at": "25:00",
                "threshold_percent": 150,
                "catch_up_days": 11,
            }
        },
    )
    assert [(p.path, p.key) for p in problems] == [
        ("milestones.colour", "unknown_key"),
        ("milestones.announce_channel", "missing"),
        ("milestones.round_numbers[1]", "not_positive"),
        ("milestones.round_numbers[2]", "not_positive"),
        ("milestones.streak_months", "bad_choice"),
        ("milestones.check_minutes", "bad_choice"),
        ("pace.threshold_percent", "bad_choice"),
        ("pace.channel", "bad_id"),
        ("pace.day", "bad_choice"),
        ("pace.at", "bad_time"),
        ("pace.catch_up_days", "bad_choice"),
    ]


def test_a_bad_section_stops_the_load_with_every_problem() -> None:
    def bad(raw: dict[str, object]) -> None:
        raw["milestones"] = {"announce_channel": "nope"}
        raw["pace"] = {"day": 0}

    with pytest.raises(ConfigError) as caught:
        make_settings(change=bad)
    assert [(p.path, p.key) for p in caught.value.problems] == [
        ("milestones.announce_channel", "bad_id"),
        ("pace.day", "bad_choice"),
    ]


def test_every_key_is_documented_in_the_example() -> None:
    from pathlib import Path

    from bot.config.celebrate import _MILESTONE_KEYS, _PACE_KEYS

    example = (Path(__file__).resolve().parents[2] / "config.example.toml").read_text(encoding="utf-8")
    milestones = example.split("[milestones]", 1)[1].split("\n[pace]", 1)[0]
    pace = example.split("\n[pace]", 1)[1].split("\n[scheduler]", 1)[0]
    assert [k for k in _MILESTONE_KEYS if f"{k} =" not in milestones] == []
    assert [k for k in _PACE_KEYS if f"{k} =" not in pace] == []
