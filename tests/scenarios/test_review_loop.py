"""The whole review loop as Slack drives it, in Japanese and English: signed HTTP requests in, the fake
Slack Web API out. Command → modal → submission → channel message → request changes with reasons → DM →
resubmit → diff in the thread → approve → message updated → mark as published."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.kpi.models import Post
from bot.review.ids import ActionId, BlockId, CallbackId, Status
from bot.review.models import ReviewEvent, ReviewRequest
from bot.runtime.deps import Deps
from tests.conftest import GROUP_MEMBER, MANAGER, MANAGER2, NOW, OPERATOR, REVIEW_CHANNEL, make_settings
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import Call, FakeSlack

DRAFT = "【新商品】冬の限定ブレンドが登場 <!channel> <@U0EVIL001> <https://evil.example|ここ> & 詳しくはサイトで\n二行目です"
REVISED = "【新商品】冬の限定ブレンドが登場 <!channel> <@U0EVIL001> <https://evil.example|ここ> & 詳しくはサイトで\n二行目を直しました"
POST_URL = "https://x.com/example_corp/status/1861000000000000001"

TEXTS = {
    "ja": {
        "modal_title": "投稿レビューを依頼",
        "too_long": "X の上限は 280 です（日本語は 1 文字 2、URL は 23 として計算）。この投稿案は 282 です（2 超過）。",
        "reasons_required": "理由を 1 つ以上選択してください。",
        "changes_status": ":arrows_counterclockwise: *差し戻し* — <@U0MANAGER1> さん",
        "changes_dm": "X 公式 (@example_corp) の投稿案が差し戻されました",
        "resubmit_title": "投稿案を再提出",
        "diff": "*変更点* （− 削除、+ 追加）:\n```\n  【新商品】",
        "approved_status": ":white_check_mark: *承認済み* — <@U0MANAGER2> さん",
        "approved_dm": "X 公式 (@example_corp) の投稿案が承認されました",
        "published_status": ":rocket: *投稿済み*",
        "created_dm": ":inbox_tray: X 公式 (@example_corp) のレビュー依頼を投稿しました。",
    },
    "en": {
        "modal_title": "Request a post review",
        "too_long": "X allows 280 (Japanese characters count 2, links 23); this draft counts 282 (2 too many).",
        "reasons_required": "Choose at least one reason.",
        "changes_status": ":arrows_counterclockwise: *Changes requested* by <@U0MANAGER1>",
        "changes_dm": "Changes requested on your draft for X 公式 (@example_corp)",
        "resubmit_title": "Resubmit the draft",
        "diff": "*What changed* (− removed, + added):\n```\n  【新商品】",
        "approved_status": ":white_check_mark: *Approved* by <@U0MANAGER2>",
        "approved_dm": "Your draft for X 公式 (@example_corp) is approved",
        "published_status": ":rocket: *Published*",
        "created_dm": ":inbox_tray: Your review request for X 公式 (@example_corp) was posted.",
    },
}


@pytest.fixture(params=["ja", "en"])
def locale(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack, locale: str) -> Settings:
    # Everyone here reads the team's language in Slack too (each person reads theirs: bot.slack.locales).
    for user in (OPERATOR, MANAGER, MANAGER2, GROUP_MEMBER):
        fake_slack.users[user] = {"locale": "en-US" if locale == "en" else "ja-JP"}
    return make_settings(
        db_url=db_url, api_url=fake_slack.api_url, change=lambda raw: raw.update(locale=locale)
    )


async def nth(fake_slack: FakeSlack, method: str, n: int) -> Call:
    """The ``n``-th call to ``method`` (1-based), waiting for it."""
    return (await fake_slack.wait_for(method, count=n))[n - 1]


def request_values(view: dict[str, Any], *, text: str, account: str = "x_corp") -> dict[str, Any]:
    """What Slack sends back for the request modal once the person filled it in."""
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    reviewers = blocks[f"review_reviewers.{account}"]["element"].get("initial_users", [])
    return {
        BlockId.ACCOUNT: {ActionId.ACCOUNT: payloads.selected_option(account)},
        BlockId.DRAFT: {ActionId.DRAFT: payloads.text_input(text, kind="plain_text_input")},
        BlockId.PLANNED: {
            ActionId.PLANNED: {
                "type": "datetimepicker",
                "selected_date_time": int((NOW + timedelta(days=2)).timestamp()),
            }
        },
        BlockId.LINK: {
            ActionId.LINK: payloads.text_input("https://example.com/winter.png", kind="url_text_input")
        },
        f"review_reviewers.{account}": {
            ActionId.REVIEWERS: {"type": "multi_users_select", "selected_users": reviewers}
        },
        BlockId.WANTED: {ActionId.WANTED: payloads.text_input("トーンは大丈夫ですか？ <!here>")},
    }


def button(message: dict[str, Any], action_id: str) -> str:
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["action_id"] == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button in {json.dumps(message, ensure_ascii=False)[:500]}")


def channel_message(fake_slack: FakeSlack) -> dict[str, Any]:
    top = [m for m in fake_slack.messages(REVIEW_CHANNEL) if m.get("thread_ts", m["ts"]) == m["ts"]]
    assert len(top) == 1
    return top[0]


def texts_of(value: Any) -> str:
    """Every mrkdwn/plain text inside a block payload, one per line."""
    if isinstance(value, dict):
        own = [value["text"]] if isinstance(value.get("text"), str) else []
        return "\n".join(own + [texts_of(v) for v in value.values() if isinstance(v, dict | list)])
    if isinstance(value, list):
        return "\n".join(texts_of(v) for v in value)
    return ""


def thread(fake_slack: FakeSlack, ts: str) -> list[str]:
    return [
        texts_of(m.get("blocks"))
        for m in fake_slack.messages(REVIEW_CHANNEL)
        if m.get("thread_ts") == ts and m["ts"] != ts
    ]


def submission(callback: str, view: dict[str, Any], values: dict[str, Any], user: str) -> dict[str, Any]:
    return payloads.view_submission(
        callback, values, private_metadata=view.get("private_metadata", ""), user_id=user, view_id=view["id"]
    )


async def test_the_whole_review_loop(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps, locale: str
) -> None:
    texts = TEXTS[locale]
    # 1. /sns-review <draft> opens the form with the draft and the managers as reviewers.
    response = await sender.command(
        payloads.slash_command(
            "/sns-review", DRAFT, user_id=OPERATOR, response_url=fake_slack.response_url("cmd")
        )
    )
    assert (response.status, response.body) == (200, b"")
    opened = (await nth(fake_slack, "views.open", 1)).params["view"]
    assert opened["title"]["text"] == texts["modal_title"]
    blocks = {b.get("block_id"): b for b in opened["blocks"]}
    assert blocks[BlockId.DRAFT]["element"]["initial_value"] == DRAFT
    assert blocks["review_reviewers.x_corp"]["element"]["initial_users"] == [MANAGER, MANAGER2, GROUP_MEMBER]
    view = (
        fake_slack.views[(await nth(fake_slack, "views.open", 1)).params and "V0VIEW0001"] if False else None
    )
    view = {**opened, "id": "V0REQ0001"}

    # 2. A draft over X's weighted limit is refused inline; nothing is stored or posted.
    too_long = await sender.interactive(
        submission(CallbackId.REQUEST, view, request_values(view, text="あ" * 141), OPERATOR)
    )
    assert too_long.json() == {"response_action": "errors", "errors": {BlockId.DRAFT: texts["too_long"]}}

    # 3. The real submission closes the modal and posts the request to the review channel.
    done = await sender.interactive(
        submission(CallbackId.REQUEST, view, request_values(view, text=DRAFT), OPERATOR)
    )
    assert (done.status, done.body) == (200, b"")
    await nth(fake_slack, "chat.postMessage", 2)  # the channel message, then the requester's DM
    posted = channel_message(fake_slack)
    raw = json.dumps(posted, ensure_ascii=False)
    for ping in ("<!channel>", "<@U0EVIL001>", "<https://evil.example", "<!here>"):
        assert ping not in raw
    assert "&lt;!channel&gt; &lt;@U0EVIL001&gt; &lt;https://evil.example|ここ&gt; &amp;" in raw
    dm = fake_slack.messages("D0ALICE01")[-1]
    assert texts["created_dm"] in json.dumps(dm["blocks"], ensure_ascii=False)

    # 4. A manager asks for changes: reasons are required, then the decision lands everywhere.
    click = payloads.block_action(
        ActionId.REQUEST_CHANGES,
        button(posted, ActionId.REQUEST_CHANGES),
        user_id=MANAGER,
        channel_id=REVIEW_CHANNEL,
        message=posted,
        response_url=fake_slack.response_url("changes"),
    )
    assert (await sender.interactive(click)).status == 200
    feedback_view = {**(await nth(fake_slack, "views.open", 2)).params["view"], "id": "V0FB0001"}
    no_reasons = {
        BlockId.REASONS: {ActionId.REASONS: {"type": "checkboxes", "selected_options": []}},
        BlockId.WHAT_WORKS: {ActionId.WHAT_WORKS: payloads.text_input("導入が良い")},
        BlockId.WHAT_TO_CHANGE: {ActionId.WHAT_TO_CHANGE: payloads.text_input("二行目を <!channel> 直して")},
        BlockId.COMMENT: {ActionId.FEEDBACK_COMMENT: payloads.text_input(None)},
    }
    refused = await sender.interactive(submission(CallbackId.FEEDBACK, feedback_view, no_reasons, MANAGER))
    assert refused.json() == {
        "response_action": "errors",
        "errors": {BlockId.REASONS: texts["reasons_required"]},
    }
    with_reasons = {
        **no_reasons,
        BlockId.REASONS: {
            ActionId.REASONS: {
                "type": "checkboxes",
                "selected_options": [{"value": "tone"}, {"value": "typo"}],
            }
        },
    }
    accepted = await sender.interactive(submission(CallbackId.FEEDBACK, feedback_view, with_reasons, MANAGER))
    assert (accepted.status, accepted.body) == (200, b"")
    await nth(fake_slack, "chat.postMessage", 4)  # thread reply + DM
    await nth(fake_slack, "chat.update", 1)
    updated = channel_message(fake_slack)
    updated_raw = json.dumps(updated["blocks"], ensure_ascii=False)
    assert texts["changes_status"] in updated_raw
    assert ActionId.APPROVE not in updated_raw  # the decision buttons are gone
    replies = thread(fake_slack, posted["ts"])
    assert "&lt;!channel&gt; 直して" in replies[-1] and "<!channel>" not in replies[-1]
    changes_dm = fake_slack.messages("D0ALICE01")[-1]
    assert texts["changes_dm"] in json.dumps(changes_dm["blocks"], ensure_ascii=False)

    # 5. The requester resubmits from the DM: the form holds the last text.
    resubmit_click = payloads.block_action(
        ActionId.RESUBMIT,
        button(changes_dm, ActionId.RESUBMIT),
        user_id=OPERATOR,
        channel_id="D0ALICE01",
        message=changes_dm,
        response_url=fake_slack.response_url("resubmit"),
    )
    await sender.interactive(resubmit_click)
    resubmit_view = {**(await nth(fake_slack, "views.open", 3)).params["view"], "id": "V0RS0001"}
    assert resubmit_view["title"]["text"] == texts["resubmit_title"]
    assert {b.get("block_id"): b for b in resubmit_view["blocks"]}[BlockId.DRAFT]["element"][
        "initial_value"
    ] == DRAFT
    resubmit_values = {
        BlockId.DRAFT: {ActionId.DRAFT: payloads.text_input(REVISED)},
        BlockId.PLANNED: {
            ActionId.PLANNED: {
                "type": "datetimepicker",
                "selected_date_time": int((NOW + timedelta(days=3)).timestamp()),
            }
        },
        BlockId.LINK: {ActionId.LINK: payloads.text_input(None, kind="url_text_input")},
        BlockId.WANTED: {ActionId.WANTED: payloads.text_input("二行目を直しました")},
    }
    again = await sender.interactive(
        submission(CallbackId.RESUBMIT, resubmit_view, resubmit_values, OPERATOR)
    )
    assert (again.status, again.body) == (200, b"")
    await nth(fake_slack, "chat.update", 2)
    await nth(fake_slack, "chat.postMessage", 5)
    diff = thread(fake_slack, posted["ts"])[-1]
    assert texts["diff"] in diff
    assert "- 二行目です\n+ 二行目を直しました" in diff
    revised = channel_message(fake_slack)
    assert "二行目を直しました" in json.dumps(revised["blocks"], ensure_ascii=False)

    # 6. Another manager approves revision 2; the message shows who approved and offers publishing.
    approve_click = payloads.block_action(
        ActionId.APPROVE,
        button(revised, ActionId.APPROVE),
        user_id=MANAGER2,
        channel_id=REVIEW_CHANNEL,
        message=revised,
        response_url=fake_slack.response_url("approve"),
    )
    await sender.interactive(approve_click)
    approve_view = {**(await nth(fake_slack, "views.open", 4)).params["view"], "id": "V0AP0001"}
    approve_values = {
        BlockId.WHAT_WORKS: {ActionId.WHAT_WORKS: payloads.text_input("季節感が出ています")},
        BlockId.COMMENT: {ActionId.FEEDBACK_COMMENT: payloads.text_input(None)},
    }
    approved = await sender.interactive(
        submission(CallbackId.APPROVE, approve_view, approve_values, MANAGER2)
    )
    assert (approved.status, approved.body) == (200, b"")
    await nth(fake_slack, "chat.update", 3)
    await nth(fake_slack, "chat.postMessage", 7)
    final = channel_message(fake_slack)
    assert texts["approved_status"] in json.dumps(final["blocks"], ensure_ascii=False)
    approved_dm = fake_slack.messages("D0ALICE01")[-1]
    assert texts["approved_dm"] in json.dumps(approved_dm["blocks"], ensure_ascii=False)

    # 7. Mark as published: the post enters the KPI store.
    publish_click = payloads.block_action(
        ActionId.PUBLISH,
        button(approved_dm, ActionId.PUBLISH),
        user_id=OPERATOR,
        channel_id="D0ALICE01",
        message=approved_dm,
        response_url=fake_slack.response_url("publish"),
    )
    await sender.interactive(publish_click)
    publish_view = {**(await nth(fake_slack, "views.open", 5)).params["view"], "id": "V0PB0001"}
    publish_values = {
        BlockId.POST_URL: {ActionId.POST_URL: payloads.text_input(POST_URL, kind="url_text_input")},
        BlockId.PUBLISHED_AT: {
            ActionId.PUBLISHED_AT: {"type": "datetimepicker", "selected_date_time": int(NOW.timestamp())}
        },
    }
    recorded = await sender.interactive(
        submission(CallbackId.PUBLISH, publish_view, publish_values, OPERATOR)
    )
    assert (recorded.status, recorded.body) == (200, b"")
    await nth(fake_slack, "chat.update", 4)
    await nth(fake_slack, "chat.postMessage", 8)
    assert texts["published_status"] in json.dumps(channel_message(fake_slack)["blocks"], ensure_ascii=False)

    async with deps.sessions() as session:
        request = await session.scalar(select(ReviewRequest))
        assert request is not None
        assert (request.status, request.revision, request.message_ts) == (Status.PUBLISHED, 2, posted["ts"])
        kinds = (
            await session.execute(
                select(
                    ReviewEvent.kind, ReviewEvent.actor_id, ReviewEvent.revision, ReviewEvent.reasons
                ).order_by(ReviewEvent.id)
            )
        ).all()
        assert [tuple(k) for k in kinds] == [
            ("requested", OPERATOR, 1, None),
            ("changes_requested", MANAGER, 1, ["tone", "typo"]),
            ("resubmitted", OPERATOR, 2, None),
            ("approved", MANAGER2, 2, None),
            ("published", OPERATOR, 2, None),
        ]
        post = await session.scalar(select(Post))
        assert post is not None
        assert (
            post.external_id,
            post.author,
            post.review_request_id,
            post.source,
            post.platform,
            post.text,
        ) == ("1861000000000000001", OPERATOR, request.id, "review", "x", REVISED)
    assert fake_slack.invalid_payloads == []


@pytest.mark.parametrize("action_id", [ActionId.START.value, ActionId.START_FROM_OLD_HOME.value])
async def test_ask_for_a_review_on_the_home_opens_the_same_modal_as_the_command(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps, action_id: str
) -> None:
    """The App Home's "Ask for a review" is the review feature's button (also as a Home published before
    it was): one way to pick the reviewers, so the modal is the one ``/sns-review`` opens."""
    command = payloads.slash_command(
        "/sns-review", "", user_id=OPERATOR, response_url=fake_slack.response_url("c")
    )
    assert (await sender.command(command)).status == 200
    from_command = (await nth(fake_slack, "views.open", 1)).params["view"]
    home = {"id": "V0HOMEOPER", "type": "home", "state": {"values": {}}}
    click = payloads.block_action(action_id, "review", user_id=OPERATOR, view=home)
    assert ((response := await sender.interactive(click)).status, response.body) == (200, b"")
    from_home = (await nth(fake_slack, "views.open", 2)).params["view"]
    assert from_home == from_command
    blocks = {b.get("block_id"): b for b in from_home["blocks"]}
    assert blocks["review_reviewers.x_corp"]["element"]["initial_users"] == [MANAGER, MANAGER2, GROUP_MEMBER]
