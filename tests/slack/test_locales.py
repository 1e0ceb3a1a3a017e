"""Who reads which language (bot.slack.locales): the App Home choice over the Slack locale over the
configured one; users.info once per person within the TTL, never from the cache-only path; an
unknown Slack locale and a failing Slack fall back to the configured language; on both stores."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.runtime.deps import Deps
from bot.slack.locales import RETRY_AFTER, Choice, Locales, from_slack
from bot.slack.models import UserLocale
from tests.conftest import ADMIN, MANAGER, MANAGER2, OPERATOR, make_settings
from tests.fakes.slack import FakeSlack


def test_slack_locales_map_to_catalogs_and_anything_else_to_none() -> None:
    assert from_slack("ja-JP") == "ja"
    assert from_slack("en-US") == "en"
    assert from_slack("en-GB") == "en"
    assert from_slack("EN_us") == "en"
    for other in ("fr-FR", "zh-CN", "", "  ", None, 42, "jp"):
        assert from_slack(other) is None


@pytest.fixture
def locales(deps: Deps, fake_slack: FakeSlack) -> Locales:
    fake_slack.users[OPERATOR] = {"locale": "en-US"}
    fake_slack.users[MANAGER] = {"locale": "ja-JP"}
    fake_slack.users[MANAGER2] = {"locale": "fr-FR"}
    return deps.locales


async def test_each_person_reads_their_slack_locale_and_unknown_ones_read_the_configured(
    locales: Locales, fake_slack: FakeSlack
) -> None:
    assert (await locales.for_user(OPERATOR)).locale == "en"
    assert (await locales.for_user(MANAGER)).locale == "ja"
    assert (await locales.for_user(MANAGER2)).locale == "ja"  # fr-FR: no catalog, the configured "ja"
    assert (await locales.for_user(None)).locale == "ja"  # nobody known: the configured one
    asked = fake_slack.calls_to("users.info")
    assert sorted(c.params["user"] for c in asked) == sorted([OPERATOR, MANAGER, MANAGER2])
    assert all(c.params["include_locale"] in (True, "true", "1", 1) for c in asked)


async def test_users_info_is_asked_once_per_person_within_the_ttl(
    locales: Locales, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    # Ten answers at once for one person: one call (later callers join the running one).
    answers = await asyncio.gather(*(locales.locale_for(OPERATOR) for _ in range(10)))
    assert set(answers) == {"en"}
    for _ in range(5):
        assert await locales.locale_for(OPERATOR) == "en"
    clock.advance(minutes=59)
    assert await locales.locale_for(OPERATOR) == "en"
    assert len(fake_slack.calls_to("users.info")) == 1

    # Past the TTL (60 minutes by default): the old answer at once, a refresh behind it.
    fake_slack.users[OPERATOR] = {"locale": "ja-JP"}
    clock.advance(minutes=2)
    assert await locales.locale_for(OPERATOR) == "en"
    await fake_slack.wait_for("users.info", count=2)
    async with asyncio.timeout(30):  # the refresh lands
        while locales.known(OPERATOR).locale != "ja":
            await asyncio.sleep(0.02)
    assert await locales.locale_for(OPERATOR) == "ja"
    assert len(fake_slack.calls_to("users.info")) == 2


async def test_the_ttl_comes_from_the_config(deps: Deps, fake_slack: FakeSlack, clock: FixedClock) -> None:
    settings = make_settings(
        api_url=fake_slack.api_url, change=lambda raw: raw.update(i18n={"cache_ttl_minutes": 5})
    )
    locales = Locales(settings=settings, clock=clock, sessions=deps.sessions, slack=deps.slack)
    await locales.locale_for(OPERATOR)
    clock.advance(minutes=4)
    await locales.locale_for(OPERATOR)
    assert len(fake_slack.calls_to("users.info")) == 1
    clock.advance(minutes=2)
    await locales.locale_for(OPERATOR)
    await fake_slack.wait_for("users.info", count=2)
    await locales.aclose()


async def test_before_an_ack_only_memory_answers(locales: Locales, fake_slack: FakeSlack) -> None:
    assert locales.known(OPERATOR).locale == "ja"  # never heard of: the configured language
    assert locales.known_locale(None) == "ja"
    assert fake_slack.calls == []  # and nobody was asked
    await locales.for_user(OPERATOR)
    assert locales.known(OPERATOR).locale == "en"  # what the last answer said
    await locales.choose(OPERATOR, Choice.JA)
    assert locales.known(OPERATOR).locale == "ja"  # a choice made here is known at once
    assert len(fake_slack.calls_to("users.info")) == 1


async def test_the_app_home_choice_overrides_slack_and_auto_follows_it_again(
    locales: Locales, deps: Deps, fake_slack: FakeSlack
) -> None:
    assert await locales.choice(MANAGER) is Choice.AUTO
    await locales.choose(MANAGER, Choice.EN)
    await locales.choose(MANAGER, Choice.EN)  # twice: still one row
    assert await locales.choice(MANAGER) is Choice.EN
    assert (await locales.for_user(MANAGER)).locale == "en"
    assert fake_slack.calls_to("users.info") == []  # a choice needs no Slack locale
    async with deps.sessions() as session:
        rows = (await session.scalars(select(UserLocale))).all()
    assert [(r.user_id, r.locale) for r in rows] == [(MANAGER, "en")]

    await locales.choose(MANAGER, Choice.AUTO)
    assert await locales.choice(MANAGER) is Choice.AUTO
    assert (await locales.for_user(MANAGER)).locale == "ja"  # Slack's ja-JP again
    async with deps.sessions() as session:
        assert (await session.scalars(select(UserLocale))).all() == []


async def test_a_choice_made_through_another_replica_holds_at_once(
    locales: Locales, deps: Deps, clock: FixedClock
) -> None:
    other = Locales(settings=deps.settings, clock=clock, sessions=deps.sessions, slack=deps.slack)
    assert (await locales.for_user(OPERATOR)).locale == "en"
    await other.choose(OPERATOR, Choice.JA)
    assert (await locales.for_user(OPERATOR)).locale == "ja"


async def test_a_failing_slack_means_the_configured_language_and_a_retry_later(
    locales: Locales, fake_slack: FakeSlack, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.fail("users.info", error="user_not_found")
    with caplog.at_level(logging.WARNING, "bot.slack.locales"):
        assert (await locales.for_user(OPERATOR)).locale == "ja"
    assert "user_not_found" in caplog.text
    assert (await locales.for_user(OPERATOR)).locale == "ja"  # not asked again at once
    assert len(fake_slack.calls_to("users.info")) == 1
    clock.advance(seconds=RETRY_AFTER.total_seconds() + 1)
    await locales.for_user(OPERATOR)  # asked again, in the background
    await fake_slack.wait_for("users.info", count=2)
    async with asyncio.timeout(30):  # the retry lands
        while locales.known(OPERATOR).locale != "en":
            await asyncio.sleep(0.02)
    assert (await locales.for_user(OPERATOR)).locale == "en"


async def test_a_slow_slack_is_not_waited_for_beyond_the_wait(
    locales: Locales, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("users.info", delay=1.0)
    # The configured language: the answer (English) was not waited for past the 0.2 s.
    assert (await locales.for_user(OPERATOR, wait=0.2)).locale == "ja"
    async with asyncio.timeout(30):  # the answer arrives later and is kept for next time
        while locales.known(OPERATOR).locale != "en":
            await asyncio.sleep(0.02)
    assert len(fake_slack.calls_to("users.info")) == 1


async def test_per_user_off_means_the_configured_language_for_everyone(
    deps: Deps, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    settings = make_settings(
        api_url=fake_slack.api_url, change=lambda raw: raw.update(i18n={"per_user": False})
    )
    locales = Locales(settings=settings, clock=clock, sessions=deps.sessions, slack=deps.slack)
    fake_slack.users[OPERATOR] = {"locale": "en-US"}
    await deps.locales.choose(ADMIN, Choice.EN)  # stored, but not followed while per_user is off
    assert (await locales.for_user(OPERATOR)).locale == "ja"
    assert (await locales.for_user(ADMIN)).locale == "ja"
    assert fake_slack.calls_to("users.info") == []


async def test_an_unreadable_store_falls_back_to_what_this_process_knows(
    locales: Locales, deps: Deps, caplog: pytest.LogCaptureFixture
) -> None:
    await locales.choose(OPERATOR, Choice.JA)
    await deps.engine.dispose()
    broken = Locales(
        settings=deps.settings, clock=FixedClock(deps.clock.now()), sessions=None, slack=deps.slack
    )
    assert (await broken.for_user(OPERATOR)).locale == "en"  # no store: Slack's answer

    async with deps.engine.begin() as conn:  # the table is gone: reading the choice fails
        await conn.run_sync(UserLocale.__table__.drop)
    with caplog.at_level(logging.WARNING, "bot.slack.locales"):
        assert (await locales.for_user(OPERATOR)).locale == "ja"  # the last choice it saw
    assert "unreadable" in caplog.text
    async with deps.engine.begin() as conn:
        await conn.run_sync(UserLocale.__table__.create)
