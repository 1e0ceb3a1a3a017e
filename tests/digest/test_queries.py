"""Read-only digest queries on SQLite and PostgreSQL: claims the sweep may take over, channels with a
row, the newest posted digest per kind and channel, and the rows of a kind's newest period."""

from __future__ import annotations

from datetime import timedelta

from bot.digest.models import DigestRun, RunStatus
from bot.digest.queries import PostedDigest, channels_with_runs, due_runs, latest_period_runs, latest_posted
from bot.periods import PeriodKind
from bot.runtime.deps import Deps
from tests.conftest import NOW

TEAM, MGMT = "C0TEAM0001", "C0MGMT0001"


def run(kind: str, period: str, channel: str, status: RunStatus, **values: object) -> DigestRun:
    return DigestRun(
        kind=kind, period=period, channel_id=channel, status=status, attempts=1, created_at=NOW, **values
    )


async def test_the_sweep_and_the_home_read_what_the_rows_say(deps: Deps) -> None:
    async with deps.sessions.begin() as session:
        session.add_all(
            [
                run("weekly", "2026-W45", MGMT, RunStatus.POSTED, message_ts="1.000100"),
                run("weekly", "2026-W46", MGMT, RunStatus.POSTED, message_ts="2.000100"),
                run("weekly", "2026-W46", TEAM, RunStatus.CLAIMED, lease_until=NOW - timedelta(seconds=1)),
                run("weekly", "2026-W47", TEAM, RunStatus.CLAIMED, lease_until=NOW + timedelta(minutes=1)),
                run("monthly", "2026-10", MGMT, RunStatus.CLAIMED, retry_at=NOW + timedelta(minutes=5)),
                run("monthly", "2026-09", MGMT, RunStatus.POSTED, message_ts="3.000100"),
                run("monthly", "2026-08", TEAM, RunStatus.FAILED, error="not_in_channel"),
            ]
        )
    async with deps.sessions() as session:
        assert await due_runs(session, now=NOW) == [("weekly", "2026-W46", TEAM)]
        assert await due_runs(session, now=NOW + timedelta(minutes=5)) == [
            ("weekly", "2026-W46", TEAM),
            ("weekly", "2026-W47", TEAM),
            ("monthly", "2026-10", MGMT),
        ]
        assert await channels_with_runs(session, kind="weekly", period="2026-W46") == {MGMT, TEAM}
        assert await channels_with_runs(session, kind="weekly", period="2026-W44") == set()
        assert await latest_posted(session) == [
            PostedDigest("weekly", "2026-W46", MGMT, "2.000100"),
            PostedDigest("monthly", "2026-09", MGMT, "3.000100"),
        ]
        weekly = await latest_period_runs(session, kind=PeriodKind.WEEKLY)
        monthly = await latest_period_runs(session, kind=PeriodKind.MONTHLY)
    assert [(r.period, r.channel_id, r.status) for r in weekly] == [("2026-W47", TEAM, "claimed")]
    assert [(r.period, r.channel_id, r.status) for r in monthly] == [("2026-08", TEAM, "failed")]


async def test_nothing_before_the_first_run(deps: Deps) -> None:
    async with deps.sessions() as session:
        assert await latest_posted(session) == []
        assert await latest_period_runs(session, kind=PeriodKind.WEEKLY) == []
        assert await due_runs(session, now=NOW) == []
