"""A post published through a review is one post, measured: review → approve → "Mark as published"
with an x.com status URL → X's Content export of that post imported → one post, with the export's
metrics, the requester as its author, and the requester credited in the weekly digest."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import make_engine, migrate
from bot.digest.render import render
from bot.kpi.cli import import_command
from bot.kpi.models import Post
from bot.periods import PeriodKind, parse_period
from bot.review.ids import ActionId, BlockId, CallbackId
from bot.review.models import ReviewRequest
from bot.runtime.deps import Deps
from tests.conftest import MANAGER, NOW, OPERATOR, REVIEW_CHANNEL
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.scenarios.test_review_loop import button, channel_message, nth, request_values, submission

STATUS_ID = "2122857317790646272"  # a snowflake of 2026-11-18 01:00 UTC, when it was published
POST_URL = f"https://x.com/example_corp/status/{STATUS_ID}?s=20"
DRAFT = "冬の限定ブレンドが登場しました"
X_CONTENT_EXPORT = (
    "Post id,Date,Post text,Post Link,Impressions,Likes,Engagements,Bookmarks,Shares,New follows,"
    "Replies,Reposts,Profile visits,Detail Expands,URL Clicks,Hashtag Clicks,Permalink Clicks\n"
    f'{STATUS_ID},"Wed, Nov 18, 2026",{DRAFT},https://x.com/example_corp/status/{STATUS_ID},'
    "4210,96,310,12,3,2,8,21,40,77,35,0,6\n"
)


@pytest.fixture
def db_url(unmigrated_db_url: str) -> str:
    return unmigrated_db_url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """A store built by the migrations, as ``sns-bot run`` and ``sns-bot import`` find it."""
    await migrate(db_url)
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


async def review_approve_publish(
    sender: SlackSender, fake_slack: FakeSlack, *, account: str = "x_corp", url: str = POST_URL
) -> None:
    """/sns-review → submit → a manager approves → the requester marks it published with ``url``."""
    await sender.command(
        payloads.slash_command(
            "/sns-review", DRAFT, user_id=OPERATOR, response_url=fake_slack.response_url("c")
        )
    )
    view = {**(await nth(fake_slack, "views.open", 1)).params["view"], "id": "V0REQ0001"}
    values = request_values(view, text=DRAFT)  # the form opens on the first account…
    values[BlockId.ACCOUNT] = {
        ActionId.ACCOUNT: payloads.selected_option(account)
    }  # …the requester picks one
    await sender.interactive(submission(CallbackId.REQUEST, view, values, OPERATOR))
    # The request, the requester's DM and a one-time welcome for each of the three managers it reaches.
    await nth(fake_slack, "chat.postMessage", 5)
    posted = channel_message(fake_slack)
    await sender.interactive(
        payloads.block_action(
            ActionId.APPROVE,
            button(posted, ActionId.APPROVE),
            user_id=MANAGER,
            channel_id=REVIEW_CHANNEL,
            message=posted,
            response_url=fake_slack.response_url("approve"),
        )
    )
    approve_view = {**(await nth(fake_slack, "views.open", 2)).params["view"], "id": "V0AP0001"}
    await sender.interactive(
        submission(
            CallbackId.APPROVE,
            approve_view,
            {
                BlockId.WHAT_WORKS: {ActionId.WHAT_WORKS: payloads.text_input("季節感が出ています")},
                BlockId.COMMENT: {ActionId.FEEDBACK_COMMENT: payloads.text_input(None)},
            },
            MANAGER,
        )
    )
    await nth(fake_slack, "chat.postMessage", 7)
    approved_dm = fake_slack.messages("D0ALICE01")[-1]
    await sender.interactive(
        payloads.block_action(
            ActionId.PUBLISH,
            button(approved_dm, ActionId.PUBLISH),
            user_id=OPERATOR,
            channel_id="D0ALICE01",
            message=approved_dm,
            response_url=fake_slack.response_url("publish"),
        )
    )
    publish_view = {**(await nth(fake_slack, "views.open", 3)).params["view"], "id": "V0PB0001"}
    published = await sender.interactive(
        submission(
            CallbackId.PUBLISH,
            publish_view,
            {
                BlockId.POST_URL: {ActionId.POST_URL: payloads.text_input(url, kind="url_text_input")},
                BlockId.PUBLISHED_AT: {
                    ActionId.PUBLISHED_AT: {
                        "type": "datetimepicker",
                        "selected_date_time": int(NOW.timestamp()),
                    }
                },
            },
            OPERATOR,
        )
    )
    assert (published.status, published.body) == (200, b"")
    await nth(fake_slack, "chat.update", 2)


async def test_a_reviewed_post_imported_from_x_is_one_post_credited_to_its_requester(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps, tmp_path: Path
) -> None:
    await review_approve_publish(sender, fake_slack)
    export = tmp_path / "account_analytics_content_2026-11-01_2026-11-30.csv"
    export.write_text(X_CONTENT_EXPORT, encoding="utf-8")

    code = await import_command(
        deps,
        kind="posts",
        path=export,
        format_name=None,
        account=None,
        period=None,
        dry_run=False,
        parse_in_child=False,
    )

    assert code == 0
    async with deps.sessions() as session:
        request = await session.scalar(select(ReviewRequest))
        posts = (await session.scalars(select(Post))).all()
    assert request is not None
    assert len(posts) == 1
    (post,) = posts
    assert (post.external_id, post.author, post.review_request_id, post.impressions, post.likes) == (
        STATUS_ID,
        OPERATOR,
        request.id,
        4210,
        96,
    )
    weekly = await render(deps, kind=PeriodKind.WEEKLY, period=parse_period("weekly", "2026-W47"))
    assert weekly.digest.posts_published == 1
    assert list(weekly.digest.authors) == [OPERATOR]
    message = weekly.message(deps.settings, "C0MGMT0001")
    text = json.dumps([block.to_dict() for block in message.blocks], ensure_ascii=False)
    assert f"投稿・投稿案: <@{OPERATOR}>" in text  # the shout-out names the requester
