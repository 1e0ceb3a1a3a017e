"""Two and three ``sns-bot run`` replicas on one PostgreSQL database, with every-minute digest
schedules, post each digest exactly once: at start (their catch-ups race for the claim) and at every
minute's fire time after it (the long variant waits for two of them).

Each group of replicas has its own database and its own fake Slack API, and both groups run at once
so they share the wait.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot import db
from bot.digest.ids import DIGEST_EVENT_TYPE
from bot.kpi.models import Account
from bot.kpi.values import sync_accounts
from tests.conftest import make_settings
from tests.fakes.slack import FakeSlack
from tests.reliability.bot_process import (
    MGMT_CHANNEL,
    BotConfig,
    BotProcess,
    long_test,
    postgres_database,
    start_bot,
    stopping,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

EVERY_MINUTE = "* * * * *"
KINDS = ("weekly", "monthly")
#: What a scheduled run or a catch-up logs per channel: "digest weekly 2026-W47 → C0MGMT0001: posted".
_OUTCOME_RE = re.compile(
    r"^(?P<source>catch-up: )?digest (?P<kind>weekly|monthly) (?P<period>\S+) → (?P<channel>\S+): (?P<outcome>\w+)$"
)


@dataclass(frozen=True, slots=True)
class Outcome:
    replica: str
    source: str  # "catch-up" or "job"
    kind: str
    period: str
    outcome: str


def outcomes(bot: BotProcess) -> list[Outcome]:
    found = []
    for message in bot.messages():
        if (m := _OUTCOME_RE.match(message)) and m["channel"] == MGMT_CHANNEL:
            source = "catch-up" if m["source"] else "job"
            found.append(Outcome(bot.name, source, m["kind"], m["period"], m["outcome"]))
    return found


def digest_counts(fake: FakeSlack) -> Counter[tuple[str, str]]:
    """(kind, period) → how many digest messages the channel holds."""
    counts: Counter[tuple[str, str]] = Counter()
    for message in fake.messages(MGMT_CHANNEL):
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == DIGEST_EVENT_TYPE:
            payload = metadata["event_payload"]
            counts[(payload["kind"], payload["period"])] += 1
    return counts


@dataclass(slots=True)
class Group:
    """N replicas sharing one database and one fake Slack workspace."""

    fake: FakeSlack
    bots: list[BotProcess]


@pytest.fixture
def fakes() -> Iterator[tuple[FakeSlack, FakeSlack]]:
    with ExitStack() as stack:
        pair = (stack.enter_context(FakeSlack()), stack.enter_context(FakeSlack()))
        yield pair
        for fake in pair:
            fake.assert_no_invalid_payloads()


async def run_groups(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeSlack], *, sizes: tuple[int, ...], fire_times: int
) -> list[Group]:
    """Start every group's replicas at once, wait for their catch-ups and ``fire_times`` minute fires."""
    async with AsyncExitStack() as stack:
        groups: list[Group] = []
        for size, fake in zip(sizes, fakes, strict=True):
            url = await stack.enter_async_context(postgres_database())
            config = BotConfig(
                db_url=url,
                log_level="INFO",
                weekly_cron=EVERY_MINUTE,
                monthly_cron=EVERY_MINUTE,
                catch_up_days=0.01,
                lease_seconds=10,
            )
            directory = tmp_path / f"group{size}"
            directory.mkdir()
            bots = [
                start_bot(directory, config=config, api_url=fake.api_url, name=f"r{size}.{i}")
                for i in range(size)
            ]
            stack.enter_context(stopping(*bots))
            groups.append(Group(fake, bots))
        every = [bot for group in groups for bot in group.bots]
        await asyncio.gather(*(bot.wait_healthy() for bot in every))

        def settled(bot: BotProcess) -> bool:
            seen = outcomes(bot)
            caught_up = {o.kind for o in seen if o.source == "catch-up"} == set(KINDS)
            jobs = Counter(o.kind for o in seen if o.source == "job")
            return caught_up and all(jobs[kind] >= fire_times for kind in KINDS)

        # Catch-up takes seconds; each further fire time a minute at most (plus start-up jitter).
        deadline = time.monotonic() + 60 + 62 * fire_times
        while not all(settled(bot) for bot in every):
            assert time.monotonic() < deadline, "\n\n".join(f"{b.name}:\n{b.log_tail()}" for b in every)
            await asyncio.sleep(0.2)
        for bot in every:
            assert bot.stop() == 0, bot.log_tail()
    return groups


def check_exactly_once(groups: list[Group], *, fire_times: int) -> None:
    for group in groups:
        counts = digest_counts(group.fake)
        assert sorted(kind for kind, _period in counts) == sorted(KINDS), counts
        assert set(counts.values()) == {1}, counts  # one message per (kind, period) in the channel
        seen = [o for bot in group.bots for o in outcomes(bot)]
        for kind in KINDS:
            results = Counter(o.outcome for o in seen if o.kind == kind)
            # Exactly one replica posted; every other attempt saw the claim taken or the post done.
            assert results["posted"] == 1, results
            assert set(results) <= {"posted", "already_posted", "busy"}, results
            jobs = [o for o in seen if o.kind == kind and o.source == "job"]
            assert len(jobs) >= fire_times * len(group.bots)
            assert {o.period for o in seen if o.kind == kind} == {
                p for k, p in digest_counts(group.fake) if k == kind
            }
        assert not [r for bot in group.bots for r in bot.records() if r.get("level") in ("ERROR", "CRITICAL")]


async def test_two_and_three_replicas_starting_together_post_each_digest_once(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeSlack]
) -> None:
    groups = await run_groups(tmp_path, fakes, sizes=(2, 3), fire_times=0)
    check_exactly_once(groups, fire_times=0)


@long_test
async def test_two_and_three_replicas_post_each_digest_once_over_two_minute_fires(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeSlack]
) -> None:
    groups = await run_groups(tmp_path, fakes, sizes=(2, 3), fire_times=2)
    check_exactly_once(groups, fire_times=2)


async def test_replicas_syncing_accounts_at_the_same_moment_both_start() -> None:
    """Start-up writes the configured accounts; a second replica doing it while the first has not
    committed yet must wait and carry on, not crash on the primary key (seen as ``exit 1`` of one
    replica when several start together on an empty database)."""
    accounts = make_settings().accounts
    async with postgres_database() as url:
        await asyncio.to_thread(db.upgrade, url)
        engine = db.make_engine(url)
        sessions = db.make_sessionmaker(engine)
        try:

            async def second_replica() -> None:
                async with sessions.begin() as session:
                    await sync_accounts(session, accounts=accounts)

            async with sessions.begin() as first:
                await sync_accounts(first, accounts=accounts)
                await first.flush()
                second = asyncio.create_task(second_replica())
                # Commit once the second is blocked on the first one's new primary keys (the usual
                # case within milliseconds); if that is not seen in time, commit anyway: the second
                # must finish without error either way.
                async with engine.connect() as watcher:
                    deadline = time.monotonic() + 5
                    while time.monotonic() < deadline and not second.done():
                        waiting = await watcher.scalar(
                            text(
                                "SELECT count(*) FROM pg_stat_activity"
                                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
                            )
                        )
                        if waiting:
                            break
                        await asyncio.sleep(0.02)
            await second
            async with sessions() as session:
                keys = (await session.scalars(select(Account.key).order_by(Account.key))).all()
            assert keys == sorted(a.key for a in accounts)
        finally:
            await engine.dispose()
