"""Issue 17's config keys: ``[digest.monthly] questions`` and ``[kpis.glossary]`` (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import ConfigError
from bot.config.values import LocalizedText
from tests.conftest import make_settings


def test_questions_default_to_the_catalog_and_accept_text_or_both_languages() -> None:
    assert make_settings().digest.monthly.questions is None

    def change(raw: dict[str, Any]) -> None:
        raw["digest"]["monthly"]["questions"] = ["Same in both", {"ja": "日本語", "en": "English"}]

    assert make_settings(change=change).digest.monthly.questions == (
        LocalizedText("Same in both", "Same in both"),
        LocalizedText("日本語", "English"),
    )


def test_bad_questions_are_listed() -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["digest"]["monthly"]["questions"] = ["a", "", {"ja": "b"}, 3, "e", "f"]

    with pytest.raises(ConfigError) as info:
        make_settings(change=change)
    assert {(p.path, p.key) for p in info.value.problems} == {
        ("digest.monthly.questions", "too_many"),
        ("digest.monthly.questions[1]", "missing"),
        ("digest.monthly.questions[2].en", "missing"),
        ("digest.monthly.questions[3]", "wrong_type"),
    }


def test_a_glossary_must_be_a_table() -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["kpis"][0]["glossary"] = "what it is"

    with pytest.raises(ConfigError) as info:
        make_settings(change=change)
    assert [(p.path, p.key) for p in info.value.problems] == [("kpis[0].glossary", "not_table")]
