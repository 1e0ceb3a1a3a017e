"""Away mode's section of the App Home (pure): the away day with its picker and "I'm back", the
delegate with theirs, valid Block Kit in both languages, action ids unchanged since the Home owned it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.away import ui
from bot.i18n import Locale, translator
from tests.conftest import MANAGER2


def _blocks(*, away_until: date | None, delegate_id: str | None, locale: Locale) -> list[dict[str, Any]]:
    view = View(
        type="home",
        blocks=ui.build_home_section(away_until=away_until, delegate_id=delegate_id, t=translator(locale)),
    )
    view.validate_json()
    blocks: list[dict[str, Any]] = view.to_dict()["blocks"]
    return blocks


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_away_day_is_shown_with_its_picker_and_a_way_back(locale: Locale) -> None:
    t = translator(locale)
    away = _blocks(away_until=date(2026, 11, 20), delegate_id=None, locale=locale)
    section = away[0]
    assert section["block_id"] == "home_away"
    assert section["accessory"] == {
        "type": "datepicker",
        "action_id": "home.away_until",
        "initial_date": "2026-11-20",
        "placeholder": {"type": "plain_text", "text": t("away.pick"), "emoji": True},
    }
    day = t("away.date", year=2026, month=11, day=20)
    assert section["text"]["text"] == t("away.title") + "\n" + t("away.on", date=day)
    assert away[1]["block_id"] == "home_away_actions"
    assert [(e["action_id"], e["value"]) for e in away[1]["elements"]] == [("home.away_clear", "clear")]

    present = _blocks(away_until=None, delegate_id=None, locale=locale)
    assert present[0]["text"]["text"] == t("away.title") + "\n" + t("away.off")
    assert "initial_date" not in present[0]["accessory"]
    assert [b["block_id"] for b in present] == ["home_away", "home_delegate"]


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_delegate_is_shown_and_chosen_next_to_away_mode(locale: Locale) -> None:
    t = translator(locale)
    for away_until, delegate, key in (
        (date(2026, 11, 20), MANAGER2, "away.delegate.active"),
        (None, MANAGER2, "away.delegate.set"),
        (None, None, "away.delegate.none"),
    ):
        blocks = _blocks(away_until=away_until, delegate_id=delegate, locale=locale)
        section = next(b for b in blocks if b.get("block_id") == "home_delegate")
        assert section["accessory"]["action_id"] == "home.delegate"
        assert section["accessory"].get("initial_user") == delegate
        expected = t(key, user=f"<@{delegate}>") if delegate else t(key)
        assert section["text"]["text"] == t("away.delegate.title") + "\n" + expected
        clear = [b for b in blocks if b.get("block_id") == "home_delegate_actions"]
        assert bool(clear) is (delegate is not None)
