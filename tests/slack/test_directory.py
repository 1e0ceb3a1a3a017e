"""The user-group cache (bot.slack.directory): cache-only answers before an ack, stale-while-revalidate
after it, one fetch per group at a time, the last answer kept through a Slack failure."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import FixedClock
from bot.slack.client import build_web_client
from bot.slack.directory import Directory, Expansion
from tests.conftest import BOT_TOKEN, GROUP_MEMBER, MANAGER, MANAGER_GROUP, NOW, OPERATOR, make_settings
from tests.fakes.slack import FakeSlack


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.usergroups[MANAGER_GROUP] = [GROUP_MEMBER]
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return build_web_client(token=BOT_TOKEN, base_url=slack.api_url)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def directory(clock: FixedClock) -> AsyncIterator[Directory]:
    found = Directory(settings=make_settings(), clock=clock)
    yield found
    await found.aclose()


async def test_before_an_ack_only_the_cache_answers_and_unknown_groups_are_named(
    directory: Directory, client: AsyncWebClient, slack: FakeSlack
) -> None:
    assert directory.expand_known([MANAGER, MANAGER_GROUP]) == Expansion((MANAGER,), (MANAGER_GROUP,))
    assert directory.is_manager_known(GROUP_MEMBER) is None  # depends on the group: not "no"
    assert directory.is_manager_known(MANAGER) is True
    assert slack.calls == []  # reading the cache never asks Slack

    await directory.warm(client)  # start-up
    assert directory.expand_known([MANAGER, MANAGER_GROUP]) == Expansion((MANAGER, GROUP_MEMBER))
    assert directory.is_manager_known(GROUP_MEMBER) is True
    assert directory.is_manager_known(OPERATOR) is False


async def test_a_stale_answer_is_used_at_once_and_refreshed_in_the_background(
    directory: Directory, client: AsyncWebClient, slack: FakeSlack, clock: FixedClock
) -> None:
    assert await directory.members(client, MANAGER_GROUP) == {GROUP_MEMBER}
    slack.usergroups[MANAGER_GROUP] = [GROUP_MEMBER, OPERATOR]
    assert await directory.members(client, MANAGER_GROUP) == {GROUP_MEMBER}  # fresh: no call
    assert len(slack.calls_to("usergroups.users.list")) == 1

    clock.advance(minutes=6)
    slack.fail("usergroups.users.list", delay=0.3)
    assert await directory.members(client, MANAGER_GROUP) == {GROUP_MEMBER}  # stale, returned at once
    await slack.wait_for("usergroups.users.list", count=2)
    while directory.known(MANAGER_GROUP) != {GROUP_MEMBER, OPERATOR}:
        await asyncio.sleep(0.01)  # the background refresh lands


async def test_callers_share_one_fetch_and_a_slow_one_is_not_waited_for_past_the_limit(
    directory: Directory, client: AsyncWebClient, slack: FakeSlack
) -> None:
    slack.fail("usergroups.users.list", delay=1.0)
    answers = await asyncio.gather(
        *(directory.resolve(client, MANAGER_GROUP, wait=0.1) for _ in range(5)),
        directory.resolve(client, MANAGER_GROUP, wait=10),
    )
    assert answers == [None] * 5 + [frozenset({GROUP_MEMBER})]
    assert len(slack.calls_to("usergroups.users.list")) == 1  # one fetch, six callers


async def test_a_failed_refresh_keeps_the_last_answer(
    directory: Directory, client: AsyncWebClient, slack: FakeSlack, clock: FixedClock
) -> None:
    await directory.warm(client)
    clock.advance(minutes=10)
    slack.fail("usergroups.users.list", error="internal_error")
    directory.refresh(client, [MANAGER_GROUP])
    await slack.wait_for("usergroups.users.list", count=2)
    await asyncio.sleep(0.05)
    assert directory.known(MANAGER_GROUP) == {GROUP_MEMBER}
    unknown = Directory(settings=make_settings(), clock=clock)
    slack.fail("usergroups.users.list", error="internal_error")
    assert await unknown.resolve(client, MANAGER_GROUP) is None  # never known: said, not guessed
    await unknown.aclose()


async def test_expanding_many_slow_groups_waits_once_for_all_of_them(
    client: AsyncWebClient, slack: FakeSlack, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack hangs on every group: the expansion gives up after one ``wait`` for all (not one per
    group), keeps the plain user ids, and the groups' fetches fill the cache when Slack answers.
    One wait is shown by what happened, not by a stopwatch (a busy CI machine stalls the loop): all
    six questions were in flight together and one warning names all six groups."""
    groups = [f"S0SLOW{i:04d}" for i in range(6)]
    for group in groups:
        slack.usergroups[group] = [f"U0SLOW{group[-4:]}"]
    settings = make_settings(change=lambda raw: raw["roles"].update(managers=[MANAGER, *groups]))
    directory = Directory(settings=settings, clock=clock)
    try:
        slack.fail("usergroups.users.list", delay=0.6, times=None)
        with caplog.at_level(logging.WARNING, logger="bot.slack.directory"):
            found = await directory.expand(client, [MANAGER, *groups], wait=0.2)
        assert found == [MANAGER]
        await slack.wait_for("usergroups.users.list", count=6)  # each group asked once
        warnings = [r.getMessage() for r in caplog.records if r.name == "bot.slack.directory"]
        assert len(warnings) == 1, warnings  # one wait for all, not one per group
        assert all(g in warnings[0] for g in groups)
        slack.reset()
        # Once Slack has answered in the background, the next expansion has them without waiting.
        while any(directory.known(g) is None for g in groups):
            await asyncio.sleep(0.05)
        assert await directory.expand(client, [MANAGER, *groups], wait=0) == [
            MANAGER,
            *[f"U0SLOW{g[-4:]}" for g in groups],
        ]
    finally:
        await directory.aclose()
