"""The KPI glossary (pure): built-in entries for every derivation in both languages, config parts over
built-in ones, and the check-config warnings for KPIs left without an entry."""

from __future__ import annotations

from typing import Any

from bot.i18n import translator
from bot.kpi.glossary import Part, builtin_key, entry, glossary_warnings, missing_parts
from bot.kpi.glossary_ui import build_modal, glossary_button
from bot.kpi.kinds import Derivation
from tests.conftest import make_settings
from tests.fakes.blockkit import block_errors

#: The issue-16 derivation (participation) has its entry even before the KPI can be derived.
DERIVES = [*(d.value for d in Derivation), "manager_participation"]


def test_every_derivation_has_all_four_parts_in_both_languages() -> None:
    for derive in DERIVES:
        for locale in ("ja", "en"):
            t = translator(locale)  # type: ignore[arg-type]
            for part in Part:
                assert t.has(builtin_key(derive, part)), (derive, locale, part)
                assert len(t(builtin_key(derive, part))) > 20  # a real explanation, not a label


def test_japanese_entries_are_written_in_desu_masu() -> None:
    t = translator("ja")
    for derive in DERIVES:
        for part in Part:
            text = t(builtin_key(derive, part))
            assert text.endswith("。"), (derive, part)
            assert any(form in text for form in ("です", "ます", "しょう")), (derive, part)


def _settings(change: Any = None) -> Any:
    return make_settings(change=change)


def test_derived_kpis_need_nothing_recorded_kpis_are_flagged() -> None:
    settings = _settings()
    assert missing_parts(settings.kpi_def("engagement_rate")) == ()  # type: ignore[arg-type]
    warnings = glossary_warnings(settings)
    assert [(w.path, w.key, w.params["parts"]) for w in warnings] == [
        ("kpis[0] (recruiting_entries)", "glossary_missing", "what / how / good / move"),
        ("kpis[2] (branded_search)", "glossary_missing", "what / how / good / move"),
    ]
    assert (
        warnings[0]
        .render(translator("en"))
        .startswith("kpis[0] (recruiting_entries): warning: no glossary entry")
    )


def test_config_parts_replace_built_in_ones_and_complete_an_entry() -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["kpis"][0]["glossary"] = {
            "what": {"ja": "応募数です。", "en": "Applications."},
            "how": "ATS count",  # one text for both languages
            "good": {"ja": "30 件前後です。", "en": "About 30."},
        }

    settings = _settings(change)
    kpi = settings.kpi_def("recruiting_entries")
    assert kpi is not None
    assert missing_parts(kpi) == (Part.MOVE,)
    ja = entry(kpi, translator("ja"))
    assert (ja.part(Part.WHAT), ja.part(Part.HOW), ja.part(Part.MOVE)) == ("応募数です。", "ATS count", None)
    assert not ja.complete


def test_unknown_glossary_keys_are_config_problems() -> None:
    import pytest

    from bot.config import ConfigError

    def change(raw: dict[str, Any]) -> None:
        raw["kpis"][0]["glossary"] = {"wat": "typo", "what": {"ja": "x"}}

    with pytest.raises(ConfigError) as info:
        _settings(change)
    assert {(p.path, p.key) for p in info.value.problems} == {
        ("kpis[0].glossary.wat", "unknown_key"),
        ("kpis[0].glossary.what.en", "missing"),
    }


def test_the_modal_and_button_are_valid_block_kit() -> None:
    settings = _settings()
    kpi = settings.kpi_def("engagement_rate")
    assert kpi is not None
    for locale in ("ja", "en"):
        t = translator(locale)  # type: ignore[arg-type]
        view = build_modal(kpi, t, cmd="/sns-kpi").to_dict()
        assert block_errors(view["blocks"], limit=100) == []
        assert len(view["title"]["text"]) <= 24
        assert glossary_button("engagement_rate", t).to_dict()["value"] == "engagement_rate"


async def test_the_bot_logs_the_same_warnings_when_it_starts(deps: Any, caplog: Any) -> None:
    import logging

    from bot.app import on_start

    with caplog.at_level(logging.WARNING, logger="bot.app"):
        await on_start(deps)
    warned = [r.getMessage() for r in caplog.records if r.name == "bot.app"]
    assert [w.split(":")[0] for w in warned] == ["kpis[0] (recruiting_entries)", "kpis[2] (branded_search)"]
    assert all("warning: no glossary entry for what / how / good / move" in w for w in warned)


def test_the_help_answer_escapes_configured_text_in_its_notification_text_too() -> None:
    from bot.kpi.glossary_ui import build_help_entry

    def change(raw: dict[str, Any]) -> None:
        raw["kpis"][0]["name"] = "CV <!here>"
        raw["kpis"][0]["glossary"] = {"what": "A & <b>"}

    kpi = _settings(change).kpis[0]
    message = build_help_entry(kpi, translator("en"), cmd="/sns-kpi")
    assert "<!here>" not in message.text and "<b>" not in message.text
    assert "CV &lt;!here&gt;" in message.text and "A &amp; &lt;b&gt;" in message.text
