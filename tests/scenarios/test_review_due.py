"""A review's due time of its own: chosen in the request modal (default: the planned publish time),
refused inline when in the past or after the publish time, stored, shown in the review message and
on the reviewer's Home, and the first reminder comes before the escalation it brings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.review.ids import ActionId, BlockId, CallbackId
from bot.review.models import ReviewRequest
from bot.runtime.deps import Deps
from tests.conftest import MANAGER, NOW, OPERATOR
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.home.home_seed import open_home, texts
from tests.scenarios.test_review_loop import channel_message, nth, request_values, submission, texts_of

PLANNED = NOW + timedelta(days=2)  # what request_values picks


def _with_due(values: dict[str, Any], due: Any) -> dict[str, Any]:
    return {
        **values,
        BlockId.DUE: {ActionId.DUE: {"type": "datetimepicker", "selected_date_time": int(due.timestamp())}},
    }


async def _open_form(sender: SlackSender, fake_slack: FakeSlack) -> dict[str, Any]:
    await sender.command(
        payloads.slash_command(
            "/sns-review", "新商品の告知です", user_id=OPERATOR, response_url=fake_slack.response_url("c")
        )
    )
    opened = (await nth(fake_slack, "views.open", 1)).params["view"]
    return {**opened, "id": "V0DUE0001"}


async def test_a_due_time_of_its_own_is_checked_stored_and_shown(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    view = await _open_form(sender, fake_slack)
    due_block = next(b for b in view["blocks"] if b.get("block_id") == BlockId.DUE)
    assert due_block["optional"] is True and due_block["label"]["text"] == "レビュー期限（任意）"
    values = request_values(view, text="新商品の告知です")

    past = await sender.interactive(
        submission(CallbackId.REQUEST, view, _with_due(values, NOW - timedelta(hours=1)), OPERATOR)
    )
    assert past.json() == {
        "response_action": "errors",
        "errors": {BlockId.DUE: "レビュー期限が過去になっています。"},
    }
    late = await sender.interactive(
        submission(CallbackId.REQUEST, view, _with_due(values, PLANNED + timedelta(hours=1)), OPERATOR)
    )
    assert late.json() == {
        "response_action": "errors",
        "errors": {BlockId.DUE: "レビュー期限は投稿予定日時より前に設定してください。"},
    }

    due = NOW + timedelta(days=1)
    done = await sender.interactive(submission(CallbackId.REQUEST, view, _with_due(values, due), OPERATOR))
    assert (done.status, done.body) == (200, b"")
    await nth(fake_slack, "chat.postMessage", 2)
    async with deps.sessions() as session:
        row = (await session.execute(select(ReviewRequest))).scalar_one()
    assert (row.planned_at, row.due_at) == (PLANNED, due)
    body = texts_of(channel_message(fake_slack).get("blocks"))
    assert f"*レビュー期限*\n<!date^{int(due.timestamp())}^" in body
    assert f"*投稿予定日時*\n<!date^{int(PLANNED.timestamp())}^" in body

    home = texts(await open_home(sender, fake_slack, MANAGER))
    assert f"・レビュー期限 <!date^{int(due.timestamp())}^" in home


async def test_without_a_due_time_the_review_is_due_at_the_planned_time(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    view = await _open_form(sender, fake_slack)
    done = await sender.interactive(
        submission(CallbackId.REQUEST, view, request_values(view, text="新商品の告知です"), OPERATOR)
    )
    assert (done.status, done.body) == (200, b"")
    async with deps.sessions() as session:
        row = (await session.execute(select(ReviewRequest))).scalar_one()
    assert row.due_at == row.planned_at == PLANNED
    home = texts(await open_home(sender, fake_slack, MANAGER))
    assert "レビュー期限" not in home  # the same as the planned time: said once
