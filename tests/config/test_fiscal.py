"""Config of fiscal years and the quarterly digest: defaults, and bad values refused with a localized
message naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import ConfigError
from bot.i18n import translator
from tests.conftest import make_settings


def test_defaults_april_and_the_quarterly_digest_off() -> None:
    settings = make_settings()
    assert settings.fiscal_year_start == 4
    quarterly = settings.digest.quarterly
    assert (quarterly.enabled, quarterly.active_channels, quarterly.business_day, quarterly.pdf) == (
        False,
        (),
        1,
        True,
    )
    assert make_settings(change=lambda raw: raw.update(fiscal_year_start=1)).fiscal_year_start == 1


@pytest.mark.parametrize(
    ("change", "ja", "en"),
    [
        (
            {"fiscal_year_start": 13},
            "fiscal_year_start: 「13」は月（1〜12）ではありません",
            'fiscal_year_start: "13" is not a month (1 to 12)',
        ),
        (
            {"fiscal_year_start": "April"},
            "fiscal_year_start: 整数で指定してください",
            "fiscal_year_start: must be an integer",
        ),
        (
            {"digest": {"quarterly": {"enabled": True}}},
            "digest.quarterly.channels",
            "digest.quarterly.channels: is required",
        ),
        (
            {"digest": {"quarterly": {"business_day": 0, "channels": ["C0EXEC0001"]}}},
            "digest.quarterly.business_day",
            'digest.quarterly.business_day: "0" is not allowed (choose 1 … 10)',
        ),
        (
            {"digest": {"monthly": {"pdf": "yes"}}},
            "digest.monthly.pdf: true か false の値で指定してください",
            "digest.monthly.pdf: must be true or false",
        ),
    ],
)
def test_bad_values_are_refused_with_a_localized_message(change: dict[str, Any], ja: str, en: str) -> None:
    def apply(raw: dict[str, Any]) -> None:
        for key, value in change.items():
            if isinstance(value, dict):
                for section, table in value.items():
                    raw[key].setdefault(section, {}).update(table)
            else:
                raw[key] = value

    with pytest.raises(ConfigError) as raised:
        make_settings(change=apply)
    rendered = {lang: [p.render(translator(lang)) for p in raised.value.problems] for lang in ("ja", "en")}
    assert any(line.startswith(ja) for line in rendered["ja"]), rendered["ja"]
    assert any(line.startswith(en) for line in rendered["en"]), rendered["en"]
