"""``[i18n]`` (bot.config.i18n): per-person language on by default, a positive TTL in minutes, every
problem named with its key path, and the whole file refused on a bad value."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, I18nSettings
from bot.config.i18n import read_i18n
from bot.config.reader import Problem, Reader
from tests.conftest import make_settings


def test_defaults_follow_each_person_and_trust_slack_for_an_hour() -> None:
    assert make_settings().i18n == I18nSettings(per_user=True, cache_ttl_minutes=60.0)
    changed = make_settings(change=lambda raw: raw.update(i18n={"per_user": False, "cache_ttl_minutes": 5}))
    assert changed.i18n == I18nSettings(per_user=False, cache_ttl_minutes=5)


def test_bad_values_are_named_with_their_paths() -> None:
    problems: list[Problem] = []
    read_i18n(Reader(problems), {"i18n": {"per_user": "yes", "cache_ttl_minutes": 0, "ttl": 3}})
    assert [(p.path, p.key) for p in problems] == [
        ("i18n.ttl", "unknown_key"),
        ("i18n.per_user", "wrong_type"),
        ("i18n.cache_ttl_minutes", "not_positive"),
    ]
    with pytest.raises(ConfigError) as refused:
        make_settings(change=lambda raw: raw.update(i18n={"cache_ttl_minutes": -1}))
    assert [p.path for p in refused.value.problems] == ["i18n.cache_ttl_minutes"]
