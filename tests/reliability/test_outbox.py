"""Issue 13 item 9: nothing stored is left half-told.

A decision (or a new request) is stored before the ack; when Slack then fails past the client's
retries, the channel update, thread reply and DM are owed in the outbox and delivered by the sweep
once Slack is back — exactly once each, also after an answer lost *after* Slack posted — and the
person who acted is told the change is saved.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.i18n import translator
from bot.review.ids import Status
from bot.review.models import ReviewRequest
from bot.runtime.deps import Deps
from bot.slack.models import OutboxItem
from tests.conftest import GROUP_MEMBER, MANAGER, MANAGER_GROUP, OPERATOR, REVIEW_CHANNEL, make_settings
from tests.fakes.signing import SlackSender
from tests.reliability.faults_support import (
    AfterFaultSlack,
    decision_submission,
    dm,
    replies,
    request_submission,
    seed_request,
    top_level,
)

SAVED_LATER = translator("ja")("review.delivery.saved_later")


@pytest.fixture
async def fake_slack() -> AsyncIterator[AfterFaultSlack]:
    async with AfterFaultSlack() as slack:
        slack.usergroups[MANAGER_GROUP] = [GROUP_MEMBER]
        yield slack
        slack.assert_no_invalid_payloads()


@pytest.fixture
def settings(db_url: str, fake_slack: AfterFaultSlack) -> Settings:
    return make_settings(db_url=db_url, api_url=fake_slack.api_url)


def _in(channel: str) -> Any:
    return lambda params: params.get("channel") == channel


async def _items(deps: Deps) -> list[OutboxItem]:
    async with deps.sessions() as session:
        return list((await session.execute(select(OutboxItem).order_by(OutboxItem.id))).scalars())


async def _sweep_later(deps: Deps, clock: Any, minutes: int = 5) -> None:
    clock.advance(minutes=minutes)
    await deps.outbox.sweep()
    await deps.inflight.drain(10)


async def test_a_decision_stored_while_slack_is_down_is_told_once_slack_is_back(
    sender: SlackSender, fake_slack: AfterFaultSlack, deps: Deps, clock: Any
) -> None:
    request = await seed_request(deps)
    # Slack answers 503 to every update and every post in the review channel and to the requester.
    fake_slack.fail("chat.update", status=503, times=None)
    fake_slack.fail("chat.postMessage", status=503, times=None, when=_in(REVIEW_CHANNEL))
    fake_slack.fail("chat.postMessage", status=503, times=None, when=_in(OPERATOR))

    response = await sender.interactive(decision_submission(request, MANAGER))
    assert response.status == 200
    await deps.inflight.drain(30)

    async with deps.sessions() as session:
        row = await session.get(ReviewRequest, request.id)
        assert row is not None and row.status == Status.APPROVED.value  # stored before the ack
    (item,) = await _items(deps)
    assert item.status == "pending" and item.attempts == 1
    assert [m["text"] for m in fake_slack.messages(dm(MANAGER))] == [SAVED_LATER]
    assert replies(fake_slack, REVIEW_CHANNEL, str(request.message_ts)) == []

    await _sweep_later(deps, clock)  # Slack still down: nothing doubles, the item waits longer
    (item,) = await _items(deps)
    assert item.status == "pending" and item.attempts == 2

    fake_slack._faults.clear()
    await _sweep_later(deps, clock, minutes=10)
    (item,) = await _items(deps)
    assert item.status == "done"
    (message,) = top_level(fake_slack, REVIEW_CHANNEL)
    assert len(fake_slack.processed("chat.update")) == 1  # the channel message shows the decision
    assert "承認" in str(message.get("blocks"))
    assert len(replies(fake_slack, REVIEW_CHANNEL, str(request.message_ts))) == 1
    assert len(fake_slack.messages(dm(OPERATOR))) == 1

    await _sweep_later(deps, clock, minutes=60)  # nothing more is owed
    assert len(replies(fake_slack, REVIEW_CHANNEL, str(request.message_ts))) == 1
    assert len(fake_slack.messages(dm(OPERATOR))) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # Slack's side only; ~12 s of retries
async def test_a_thread_reply_that_went_through_before_its_answer_was_lost_is_not_posted_again(
    sender: SlackSender, fake_slack: AfterFaultSlack, deps: Deps, clock: Any
) -> None:
    request = await seed_request(deps)
    # Every thread reply is stored by Slack, then answered 503 (the client's and post_once's retries too).
    fake_slack.fail_after("chat.postMessage", times=99, when=lambda p: bool(p.get("thread_ts")))
    fake_slack.fail("conversations.replies", status=503, times=None)

    assert (await sender.interactive(decision_submission(request, MANAGER))).status == 200
    await deps.inflight.drain(30)
    (item,) = await _items(deps)
    assert item.status == "pending"
    posted = len(replies(fake_slack, REVIEW_CHANNEL, str(request.message_ts)))
    assert posted >= 1

    fake_slack._faults.clear()
    fake_slack._after.clear()
    await _sweep_later(deps, clock)
    (item,) = await _items(deps)
    assert item.status == "done"
    # Found by its key in the thread, not posted again; the DM went out once.
    assert len(replies(fake_slack, REVIEW_CHANNEL, str(request.message_ts))) == posted
    assert len(fake_slack.messages(dm(OPERATOR))) == 1


async def test_a_request_stored_while_the_review_channel_cannot_be_posted_is_posted_later(
    sender: SlackSender, fake_slack: AfterFaultSlack, deps: Deps, clock: Any
) -> None:
    fake_slack.fail("chat.postMessage", status=503, times=None, when=_in(REVIEW_CHANNEL))
    assert (await sender.interactive(request_submission())).status == 200
    await deps.inflight.drain(30)
    assert top_level(fake_slack, REVIEW_CHANNEL) == []
    assert [m["text"] for m in fake_slack.messages(dm(OPERATOR))] == [SAVED_LATER]

    fake_slack._faults.clear()
    await _sweep_later(deps, clock)
    assert len(top_level(fake_slack, REVIEW_CHANNEL)) == 1
    async with deps.sessions() as session:
        (row,) = (await session.execute(select(ReviewRequest))).scalars()
    assert row.message_ts == top_level(fake_slack, REVIEW_CHANNEL)[0]["ts"]
    assert len(fake_slack.messages(dm(OPERATOR))) == 2  # "saved, later", then "posted for review"


async def test_two_sweeps_at_once_deliver_an_item_once(
    sender: SlackSender, fake_slack: AfterFaultSlack, deps: Deps, clock: Any
) -> None:
    """Every replica sweeps: an item is claimed by one of them."""
    import asyncio

    request = await seed_request(deps)
    fake_slack.fail("chat.update", status=503, times=None)
    assert (await sender.interactive(decision_submission(request, MANAGER))).status == 200
    await deps.inflight.drain(30)
    fake_slack._faults.clear()
    clock.advance(minutes=5)
    first, second = await asyncio.gather(deps.outbox.sweep(), deps.outbox.sweep())
    assert len(first.delivered) + len(second.delivered) == 1
    assert len(replies(fake_slack, REVIEW_CHANNEL, str(request.message_ts))) == 1
    assert len(fake_slack.messages(dm(OPERATOR))) == 1


def test_the_backoff_stops_doubling_at_its_cap() -> None:
    """An item retried for days (about 150 attempts in 3 days) must not overflow the backoff."""
    from bot.slack.outbox import BACKOFF_MAX, _backoff

    assert [_backoff(n).total_seconds() / 60 for n in (1, 2, 3, 6)] == [1, 2, 4, 30]
    assert _backoff(150) == BACKOFF_MAX


async def test_a_delivery_not_yet_marked_done_when_the_process_dies_is_not_posted_twice(
    sender: SlackSender, fake_slack: AfterFaultSlack, deps: Deps, clock: Any
) -> None:
    """Delivered items are marked done in batches; a process that dies first leaves them pending. The
    sweep then delivers again, looking in the thread before posting: one reply, not two."""
    request = await seed_request(deps)
    original = deps.outbox._mark_done
    deps.outbox._mark_done = lambda key: None  # type: ignore[method-assign]  # as if the process died
    assert (await sender.interactive(decision_submission(request, MANAGER))).status == 200
    await deps.inflight.drain(30)
    assert len(replies(fake_slack, REVIEW_CHANNEL, str(request.message_ts))) == 1
    (item,) = await _items(deps)
    assert item.status == "pending"

    deps.outbox._mark_done = original  # type: ignore[method-assign]
    await _sweep_later(deps, clock)
    (item,) = await _items(deps)
    assert item.status == "done"
    assert len(replies(fake_slack, REVIEW_CHANNEL, str(request.message_ts))) == 1  # found, not re-posted
