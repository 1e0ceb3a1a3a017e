"""A submission that cannot reach the store in time is answered "busy" inline, the form kept, nothing
stored; Slack gets its answer well within 3 s."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.db import unit_of_work
from bot.keys import ProcessedKey
from bot.review.ids import BlockId
from bot.review.models import ReviewRequest
from bot.runtime.deps import Deps
from tests.conftest import NOW
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.reliability.faults_support import request_submission


async def _requests(deps: Deps) -> int:
    async with deps.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ReviewRequest)) or 0)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_request_submitted_while_the_store_is_held_is_busy_and_can_be_sent_again(
    sender: SlackSender, deps: Deps, fake_slack: FakeSlack
) -> None:
    inside, release = asyncio.Event(), asyncio.Event()

    async def long_writer() -> None:  # e.g. an import or a burst of other submissions
        async with unit_of_work(deps.sessions, write=True) as session:
            session.add(ProcessedKey(key="someone-else", created_at=NOW))
            await session.flush()
            inside.set()
            await release.wait()

    writer = asyncio.create_task(long_writer())
    await inside.wait()
    # Answered while the other writer still holds the store: it gave up instead of waiting its turn.
    response = await sender.interactive(request_submission(view_id="V0BUSY001"))
    assert response.status == 200
    assert response.json() == {
        "response_action": "errors",
        "errors": {
            BlockId.DRAFT: ":hourglass: ただいま混み合っています。変更は行われておらず、入力内容もそのままです。"
            "少し待ってから、もう一度送信してください。"
        },
    }
    assert not writer.done()
    release.set()
    await writer
    assert await _requests(deps) == 0

    response = await sender.interactive(request_submission(view_id="V0BUSY001"))  # the same form again
    assert response.status == 200 and response.body in (b"", b"null")
    await fake_slack.wait_for("chat.postMessage")
    assert await _requests(deps) == 1
