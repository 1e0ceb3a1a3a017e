"""Store seeding and Home helpers shared by the App Home tests (I/O: the test store and the fake Slack)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.views import View

from bot.review import commands as review_commands
from bot.review.models import ReviewApprover, ReviewRequest, ReviewRevision
from bot.review.policy import ResolvedStep
from bot.review.records import RequestSnapshot
from bot.runtime.deps import Deps
from tests.conftest import NOW, REVIEW_CHANNEL
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack

_events = itertools.count(1)


async def add_request(
    deps: Deps,
    *,
    requester: str,
    approvers: Sequence[str],
    text: str = "新商品の告知です",
    account: str = "x_corp",
    at: datetime = NOW,
    mode: str = "any",
    message_ts: str | None = None,
) -> RequestSnapshot:
    """A request made through the review service (so the review listeners can decide on it)."""
    step = ResolvedStep(tuple(approvers), "all" if mode == "all" else "any")
    async with deps.sessions.begin() as session:
        snapshot = await review_commands.create_request(
            session,
            requester_id=requester,
            account_key=account,
            text=text,
            planned_at=at + timedelta(days=2),
            link_url=None,
            feedback_wanted="",
            chain=[step],
            now=at,
        )
        if message_ts is not None:
            await review_commands.attach_message(
                session, request_id=snapshot.id, channel_id=REVIEW_CHANNEL, message_ts=message_ts
            )
    return snapshot


async def add_many(deps: Deps, *, requester: str, approver: str, count: int, status: str = "pending") -> None:
    """``count`` requests in bulk (rows written directly: fast enough for hundreds)."""
    async with deps.sessions.begin() as session:
        rows = [
            ReviewRequest(
                requester_id=requester,
                account_key="ig_recruit",
                status=status,
                current_step=0,
                revision=1,
                version=1,
                feedback_wanted="",
                created_at=NOW - timedelta(hours=count - i),
                waiting_since=NOW - timedelta(hours=count - i),
                reminders_sent=0,
            )
            for i in range(count)
        ]
        session.add_all(rows)
        await session.flush()
        for i, row in enumerate(rows):
            session.add(
                ReviewRevision(
                    request_id=row.id, number=1, text=f"下書き {i:03d}", author_id=requester, created_at=NOW
                )
            )
            session.add(ReviewApprover(request_id=row.id, step=0, user_id=approver, mode="any"))


async def open_home(sender: SlackSender, fake_slack: FakeSlack, user_id: str) -> dict[str, Any]:
    """Send a signed ``app_home_opened`` and return the Home the bot published (validated)."""
    before = len(fake_slack.calls_to("views.publish"))
    envelope = payloads.event(
        payloads.app_home_opened(user_id=user_id), event_id=f"Ev0HOME{next(_events):05d}"
    )
    response = await sender.event(envelope)
    assert response.status == 200
    return await next_home(fake_slack, user_id, after=before)


async def next_home(fake_slack: FakeSlack, user_id: str, *, after: int) -> dict[str, Any]:
    """The first Home published for ``user_id`` after the first ``after`` views.publish calls."""
    calls = await fake_slack.wait_for("views.publish", count=after + 1)
    call = calls[after]
    assert call.params["user_id"] == user_id
    view = call.params["view"]
    View(**view).validate_json()  # slack-sdk's own limits (block count, lengths)
    assert view["type"] == "home"
    assert len(view["blocks"]) <= 100
    return dict(view)


def texts(view: dict[str, Any]) -> str:
    """Every mrkdwn/plain text of a view, one per line (to assert on what a person reads)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(view.get("blocks", []))
    return "\n".join(out)


def buttons(view: dict[str, Any]) -> list[tuple[str, str | None]]:
    """``(action_id, value)`` of every button, in order."""
    out = []
    for block in view["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["type"] == "button":
                out.append((element["action_id"], element.get("value")))
    return out


def home_envelope(fake_slack: FakeSlack, user_id: str) -> dict[str, Any]:
    """The Home view as Slack stores it (with its id), for clicks made on it."""
    # The fake keeps one Home per user, as Slack does; its id is what a click on the Home carries.
    view_id = fake_slack._home_views[user_id]
    return dict(fake_slack.views[view_id])
