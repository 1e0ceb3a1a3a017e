"""The admin Home's digest lines with the quarterly digest: no line while it is off; once enabled, its
next run and the fiscal quarter last due (April fiscal year)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.home import queries
from bot.runtime.deps import Deps
from tests.conftest import NOW, make_settings


async def test_the_quarterly_line_appears_only_when_enabled(deps: Deps) -> None:
    async with deps.sessions() as session:
        off = await queries.digest_states(session, settings=make_settings(), now=NOW)
    assert [s.kind for s in off] == ["weekly", "monthly"]

    def enable(raw: dict[str, Any]) -> None:
        raw["digest"]["quarterly"] = {"enabled": True, "channels": ["C0EXEC0001"]}

    async with deps.sessions() as session:
        states = await queries.digest_states(session, settings=make_settings(change=enable), now=NOW)
    quarterly = states[2]
    # 2026-11-18: the last quarter due is July to September (posted on 2026-10-01); next run 2027-01-04.
    assert (quarterly.kind, quarterly.status, quarterly.period) == ("quarterly", "never", "2026-Q2")
    assert quarterly.next_at == datetime(2027, 1, 4, 0, 0, tzinfo=UTC)
