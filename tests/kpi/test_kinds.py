"""The KPI slice's enums hold exactly the strings the config accepts."""

from __future__ import annotations

import typing

from bot.config import AGGREGATES, DERIVATIONS, KpiCommandSettings, KpiSettings
from bot.kpi.kinds import Aggregate, Better, Derivation, Setters


def test_enums_match_the_config() -> None:
    hints = typing.get_type_hints(KpiSettings)
    assert {a.value for a in Aggregate} == set(AGGREGATES) == set(typing.get_args(hints["aggregate"]))
    assert {d.value for d in Derivation} == set(DERIVATIONS)
    assert {b.value for b in Better} == set(typing.get_args(hints["better"]))
    setters = typing.get_type_hints(KpiCommandSettings)["setters"]
    assert {s.value for s in Setters} == set(typing.get_args(setters))
