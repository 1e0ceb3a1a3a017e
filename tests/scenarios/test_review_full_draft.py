"""Reviewers see everything they approve (issue 13 item 5), through signed requests on SQLite and
PostgreSQL: a long draft is shown whole in the review message (over several sections) and in the decision
modals, and a draft that cannot be shown whole is refused at submit and at resubmit, inline, with
nothing stored or posted.

These tests drive the app only from outside, so they run against older code; each failed there (see the
docstrings)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.review.ids import ActionId, BlockId, CallbackId, Status
from bot.review.models import ReviewRequest, ReviewRevision
from bot.runtime.deps import Deps
from tests.conftest import MANAGER, NOW, OPERATOR, REVIEW_CHANNEL, make_settings
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack

#: 54 lines of terms with escapable characters, then the claim and link a reviewer must see: 2,941
#: characters typed (a text input holds 3,000), 3,976 once escaped and quoted.
LONG_DRAFT = (
    "\n".join(
        f"第{i:02d}条: 応募特典 & 参加条件 <必ずお読みください> 期間中にフォローした方が対象 & 抽選で当選"
        for i in range(54)
    )
    + "\n※ 効果には個人差があります。詳細と根拠: https://example.com/campaign/claim-evidence?ref=sns&id=42"
)
UNSHOWABLE = "&" * 3000  # 3,000 characters typed; 15,000 once escaped: more than a message holds


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    def change(raw: dict[str, Any]) -> None:
        # note has no length limit, so only "can it be shown whole" limits the draft.
        raw["accounts"].append(
            {"key": "note_blog", "platform": "note", "handle": "@example", "name": "note", "max_length": 0}
        )

    return make_settings(db_url=db_url, api_url=fake_slack.api_url, change=change)


def request_values(text: str) -> dict[str, Any]:
    return {
        BlockId.ACCOUNT: {ActionId.ACCOUNT: payloads.selected_option("note_blog")},
        BlockId.DRAFT: {ActionId.DRAFT: payloads.text_input(text)},
        BlockId.PLANNED: {
            ActionId.PLANNED: {
                "type": "datetimepicker",
                "selected_date_time": int((NOW + timedelta(days=2)).timestamp()),
            }
        },
        "review_reviewers.note_blog": {
            ActionId.REVIEWERS: {"type": "multi_users_select", "selected_users": [MANAGER]}
        },
    }


def unquote(blocks: list[dict[str, Any]]) -> str:
    """The draft as a reader sees it: the quoted sections' lines, unescaped, in order."""
    lines: list[str] = []
    for block in blocks:
        text = block.get("text", {}).get("text", "") if block.get("type") == "section" else ""
        if not text.startswith("&gt;"):
            continue
        for line in text.split("\n"):
            body = line[5:] if line.startswith("&gt; ") else ""
            lines.append(body.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    return "\n".join(lines)


def channel_message(fake_slack: FakeSlack) -> dict[str, Any]:
    return next(m for m in fake_slack.messages(REVIEW_CHANNEL) if m.get("thread_ts", m["ts"]) == m["ts"])


def button_value(msg: dict[str, Any], action_id: str) -> str:
    for block in msg["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["action_id"] == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button")


async def requests_stored(deps: Deps) -> int:
    async with deps.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ReviewRequest)) or 0)


async def test_a_long_draft_is_shown_whole_in_the_message_and_in_every_decision_modal(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    """On main the message quoted the escaped draft cut at 2,800 characters (the claim and its link
    were not shown) and the decision modals showed a 120-character excerpt of the first line."""
    assert len(LONG_DRAFT) <= 3000
    done = await sender.interactive(
        payloads.view_submission(CallbackId.REQUEST, request_values(LONG_DRAFT), user_id=OPERATOR)
    )
    assert (done.status, done.body) == (200, b"")
    await deps.inflight.drain(5)
    posted = channel_message(fake_slack)
    quoted = [b for b in posted["blocks"] if b.get("text", {}).get("text", "").startswith("&gt;")]
    assert len(quoted) >= 2  # more than one section's worth
    assert all(len(b["text"]["text"]) <= 3000 for b in quoted)
    assert unquote(posted["blocks"]) == LONG_DRAFT
    for action in (ActionId.APPROVE, ActionId.REQUEST_CHANGES, ActionId.REJECT):
        opened = len(fake_slack.calls_to("views.open"))
        await sender.interactive(
            payloads.block_action(
                action,
                button_value(posted, action),
                user_id=MANAGER,
                channel_id=REVIEW_CHANNEL,
                message=posted,
                response_url=fake_slack.response_url("click"),
            )
        )
        await deps.inflight.drain(5)
        view = (await fake_slack.wait_for("views.open", count=opened + 1))[-1].params["view"]
        assert unquote(view["blocks"]) == LONG_DRAFT, action
        assert "https://example.com/campaign/claim-evidence?ref=sns&amp;id=42" in json.dumps(
            view, ensure_ascii=False
        )


async def test_a_draft_that_cannot_be_shown_whole_is_refused_at_submit(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    """On main it was accepted, and reviewers saw its first 2,800 escaped characters."""
    refused = await sender.interactive(
        payloads.view_submission(CallbackId.REQUEST, request_values(UNSHOWABLE), user_id=OPERATOR)
    )
    body = refused.json()
    assert body["response_action"] == "errors"
    assert body["errors"][BlockId.DRAFT].startswith(
        "この投稿案は長すぎるため、レビュアーが Slack のメッセージ 1 件で全文を確認できません（"
    )
    await deps.inflight.drain(5)
    assert await requests_stored(deps) == 0
    assert fake_slack.messages(REVIEW_CHANNEL) == []


async def test_a_resubmitted_draft_that_cannot_be_shown_whole_is_refused(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    """On main the resubmission was accepted and shown cut."""
    done = await sender.interactive(
        payloads.view_submission(CallbackId.REQUEST, request_values("冬の限定ブレンド"), user_id=OPERATOR)
    )
    assert done.body == b""
    await deps.inflight.drain(5)
    posted = channel_message(fake_slack)
    await sender.interactive(
        payloads.block_action(
            ActionId.REQUEST_CHANGES,
            button_value(posted, ActionId.REQUEST_CHANGES),
            user_id=MANAGER,
            channel_id=REVIEW_CHANNEL,
            message=posted,
            response_url=fake_slack.response_url("changes"),
        )
    )
    view = (await fake_slack.wait_for("views.open"))[-1].params["view"]
    values = {
        BlockId.REASONS: {ActionId.REASONS: {"type": "checkboxes", "selected_options": [{"value": "typo"}]}},
        BlockId.COMMENT: {ActionId.FEEDBACK_COMMENT: payloads.text_input("長くしてください")},
    }
    sent_back = await sender.interactive(
        payloads.view_submission(
            CallbackId.FEEDBACK,
            values,
            private_metadata=view["private_metadata"],
            user_id=MANAGER,
            view_id="V0FB",
        )
    )
    assert sent_back.body == b""
    await deps.inflight.drain(5)
    resubmit_view = {
        "private_metadata": json.dumps({"r": button_value(channel_message(fake_slack), ActionId.RESUBMIT)}),
    }
    refused = await sender.interactive(
        payloads.view_submission(
            CallbackId.RESUBMIT,
            request_values(UNSHOWABLE),
            private_metadata=resubmit_view["private_metadata"],
            user_id=OPERATOR,
            view_id="V0RS",
        )
    )
    body = refused.json()
    assert body["response_action"] == "errors"
    assert body["errors"][BlockId.DRAFT].startswith("この投稿案は長すぎるため")
    async with deps.sessions() as session:
        row = (await session.scalars(select(ReviewRequest))).one()
        revisions = await session.scalar(select(func.count()).select_from(ReviewRevision))
    assert (row.status, row.revision, revisions) == (Status.CHANGES_REQUESTED, 1, 1)
