"""The manager introduction's Block Kit (pure): valid in both languages, every KPI with its why, and
within Slack's limits however many KPIs the team has."""

from __future__ import annotations

import copy
from typing import Any

from bot.i18n import translator
from bot.welcome.ui import KPIS_SHOWN, build_modal, build_welcome
from tests.conftest import make_settings
from tests.fakes.blockkit import block_errors


def test_the_welcome_and_its_modal_are_valid_in_both_languages() -> None:
    settings = make_settings()
    for locale in ("ja", "en"):
        t = translator(locale)  # type: ignore[arg-type]
        message = build_welcome(settings, t)
        assert block_errors(message.blocks_json()) == []
        modal = build_modal(settings, t).to_dict()
        assert block_errors(modal["blocks"], limit=100) == []
        assert len(modal["title"]["text"]) <= 24
        whys = [k.why.get(t.locale) for k in settings.kpis]
        text = str(message.blocks_json())
        assert all(why in text for why in whys)


def test_many_kpis_are_named_in_one_line_after_the_first_ten() -> None:
    def change(raw: dict[str, Any]) -> None:
        base = raw["kpis"][0]
        raw["kpis"] = []
        for i in range(14):
            kpi = copy.deepcopy(base)
            kpi["key"] = f"kpi_{i:02d}"
            kpi["name"] = {"ja": f"指標 {i}", "en": f"KPI {i}"}
            raw["kpis"].append(kpi)
        raw["search_console"] = {}

    settings = make_settings(change=change)
    message = build_welcome(settings, translator("en"))
    blocks = message.blocks_json()
    assert block_errors(blocks) == []
    assert sum(1 for b in blocks if b.get("accessory")) == KPIS_SHOWN
    assert any("Also: KPI 10, KPI 11, KPI 12, KPI 13" in str(b) for b in blocks)
