"""Each person reads their own language (issue 17, item 4), through signed requests: in one workspace
configured in Japanese, an English operator asks for a review and a Japanese manager decides it. The
operator's modal, ephemeral answers, error answers and DMs are English; the manager's modals and App
Home are Japanese until he picks English on his Home; the request message and the thread stay in the
configured language; a Slack locale without a catalog (fr-FR) reads the configured one; users.info is
asked once per person. The managers are asked for their decision by DM (``[review] dm_approvers``)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import pytest

from bot.config import Settings
from bot.kpi.ids import ActionId as KpiActionId
from bot.language.ids import ActionId as LanguageActionId
from bot.language.ids import BlockId as LanguageBlockId
from bot.review.ids import ActionId, BlockId, CallbackId
from bot.runtime.deps import Deps
from bot.slack.locales import Choice
from tests.conftest import BOT_TOKEN, GROUP_MEMBER, MANAGER, MANAGER2, OPERATOR, make_settings
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.home.home_seed import home_envelope, next_home, open_home, texts
from tests.scenarios.test_kpi_upload import _bot_messages, _buttons, _click, _drop, _texts
from tests.scenarios.test_review_loop import (
    button,
    channel_message,
    nth,
    request_values,
    submission,
    texts_of,
    thread,
)

DRAFT = "冬の限定ブレンドが登場しました。詳しくはサイトで"


async def _answer(fake_slack: FakeSlack, name: str) -> dict[str, Any]:
    """What the bot said through the ``response_url`` named ``name`` (an ephemeral answer)."""
    for _ in range(100):
        found = [c for c in fake_slack.calls_to("response_url") if c.path.endswith("/" + name)]
        if found:
            return found[-1].params
        await asyncio.sleep(0.05)
    raise AssertionError(f"no answer at {name}")


#: The header of the one-time welcome a manager gets when the first review reaches them (bot.welcome).
WELCOME_TITLES = {":wave: SNS チームボットへようこそ": "ja", ":wave: Welcome to SNS Team Bot": "en"}


def _welcome_locale(message: dict[str, Any]) -> str | None:
    for block in message.get("blocks") or []:
        if block["type"] == "header" and block["text"]["text"] in WELCOME_TITLES:
            return WELCOME_TITLES[block["text"]["text"]]
    return None


def _dm(fake_slack: FakeSlack, user: str) -> list[dict[str, Any]]:
    """The bot's messages in its DM with ``user`` (but the one-time welcome)."""
    return [m for m in fake_slack.messages("D" + user[1:]) if _welcome_locale(m) is None]


def _welcomes(fake_slack: FakeSlack, user: str) -> list[str | None]:
    """The language of each welcome ``user`` got."""
    return [loc for m in fake_slack.messages("D" + user[1:]) if (loc := _welcome_locale(m)) is not None]


async def _next_dm(fake_slack: FakeSlack, user: str, *, after: int) -> dict[str, Any]:
    for _ in range(100):
        if len(messages := _dm(fake_slack, user)) > after:
            return messages[after]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no DM #{after + 1} to {user}")


def _labels(message: dict[str, Any]) -> list[str]:
    return [e["text"]["text"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    def change(raw: dict[str, Any]) -> None:
        raw["review"]["dm_approvers"] = True

    return make_settings(db_url=db_url, api_url=fake_slack.api_url, change=change)


def _language_section(view: dict[str, Any]) -> dict[str, Any]:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == LanguageBlockId.LANGUAGE]
    return block


async def test_a_japanese_manager_and_an_english_operator_each_read_their_own_language(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    assert deps.settings.locale == "ja"  # the workspace's configured language: channel posts
    fake_slack.users[OPERATOR] = {"locale": "en-US"}
    fake_slack.users[MANAGER] = {"locale": "ja-JP"}
    fake_slack.users[MANAGER2] = {"locale": "fr-FR"}
    fake_slack.users[GROUP_MEMBER] = {"locale": "ja-JP"}

    # 1. The operator's /sns-review opens the request modal in English.
    await sender.command(
        payloads.slash_command(
            "/sns-review", DRAFT, user_id=OPERATOR, response_url=fake_slack.response_url("c1")
        )
    )
    opened = (await nth(fake_slack, "views.open", 1)).params["view"]
    assert opened["title"]["text"] == "Request a post review"
    view = {**opened, "id": "V0REQ0001"}
    # A form error before the ack is answered from what this process knows of him: English.
    too_long = await sender.interactive(
        submission(CallbackId.REQUEST, view, request_values(view, text="あ" * 141), OPERATOR)
    )
    assert too_long.json()["errors"] == {
        BlockId.DRAFT: "X allows 280 (Japanese characters count 2, links 23); this draft counts 282 (2 too many)."
    }

    # 2. Submitted: the request message in the review channel is in the configured Japanese; the
    #    operator's DM that it was posted is English; each approver is asked by DM in their language.
    done = await sender.interactive(
        submission(CallbackId.REQUEST, view, request_values(view, text=DRAFT), OPERATOR)
    )
    assert (done.status, done.body) == (200, b"")
    ask = await _next_dm(fake_slack, MANAGER, after=0)
    posted = channel_message(fake_slack)
    assert {"承認", "差し戻す", "却下", "コメント"} <= set(_labels(posted))
    created_dm = texts_of((await _next_dm(fake_slack, OPERATOR, after=0))["blocks"])
    assert "Your review request for X 公式 (@example_corp) was posted." in created_dm
    assert "<@U0ALICE01> さんから X 公式 (@example_corp) の投稿案のレビュー依頼が届きました" in texts_of(
        ask["blocks"]
    )
    assert ask["text"] == "X 公式 (@example_corp) の投稿案があなたのレビューを待っています"
    assert _labels(ask) == ["承認", "差し戻す"]
    assert "投稿案のレビュー依頼が届きました" in texts_of(
        (await _next_dm(fake_slack, MANAGER2, after=0))["blocks"]
    )
    assert "投稿案のレビュー依頼が届きました" in texts_of(
        (await _next_dm(fake_slack, GROUP_MEMBER, after=0))["blocks"]
    )

    # 3. The Japanese manager asks for changes from his DM: his modal is Japanese.
    click = payloads.block_action(
        ActionId.REQUEST_CHANGES,
        button(ask, ActionId.REQUEST_CHANGES),
        user_id=MANAGER,
        channel_id="D" + MANAGER[1:],
        message=ask,
        response_url=fake_slack.response_url("changes"),
    )
    assert (await sender.interactive(click)).status == 200
    feedback = {**(await nth(fake_slack, "views.open", 2)).params["view"], "id": "V0FB0001"}
    assert feedback["title"]["text"] == "修正を依頼"
    values = {
        BlockId.REASONS: {ActionId.REASONS: {"type": "checkboxes", "selected_options": []}},
        BlockId.WHAT_WORKS: {ActionId.WHAT_WORKS: payloads.text_input("導入が良いです")},
        BlockId.WHAT_TO_CHANGE: {ActionId.WHAT_TO_CHANGE: payloads.text_input("二行目を直してください")},
        BlockId.COMMENT: {ActionId.FEEDBACK_COMMENT: payloads.text_input(None)},
    }
    # A form error before the ack is in his language too.
    refused = await sender.interactive(submission(CallbackId.FEEDBACK, feedback, values, MANAGER))
    assert refused.json()["errors"] == {BlockId.REASONS: "理由を 1 つ以上選択してください。"}
    values[BlockId.REASONS] = {
        ActionId.REASONS: {"type": "checkboxes", "selected_options": [{"value": "tone"}]}
    }
    accepted = await sender.interactive(submission(CallbackId.FEEDBACK, feedback, values, MANAGER))
    assert (accepted.status, accepted.body) == (200, b"")
    changes_dm = await _next_dm(fake_slack, OPERATOR, after=1)
    await nth(fake_slack, "chat.update", 1)

    # 4. The channel keeps the configured language; the operator's DM is English.
    assert ":arrows_counterclockwise: *差し戻し* — <@U0MANAGER1> さん" in json.dumps(
        channel_message(fake_slack)["blocks"], ensure_ascii=False
    )
    reply = thread(fake_slack, posted["ts"])[-1]
    assert "二行目を直してください" in reply and "さんが修正を依頼しました（第 1 版）" in reply
    assert "Changes requested on your draft for X 公式 (@example_corp)" in texts_of(changes_dm["blocks"])
    assert _labels(changes_dm) == ["Resubmit"]

    # 5. The operator's ephemeral answers, and an error answer, are English.
    await sender.command(
        payloads.slash_command(
            "/sns-review", "list", user_id=OPERATOR, response_url=fake_slack.response_url("list")
        )
    )
    assert "Your reviews" in texts_of((await _answer(fake_slack, "list"))["blocks"])
    await sender.command(
        payloads.slash_command(
            "/sns-kpi",
            "set recruiting_entries 5",
            user_id=OPERATOR,
            response_url=fake_slack.response_url("set"),
        )
    )
    assert (await _answer(fake_slack, "set"))["text"] == "Only managers and admins can record KPI values."

    # 6. The manager's App Home is Japanese, with the language selector on "Auto".
    home = await open_home(sender, fake_slack, MANAGER)
    assert home["blocks"][0]["text"]["text"] == "SNS ダッシュボード"
    selector = _language_section(home)["accessory"]
    assert selector["action_id"] == LanguageActionId.CHOOSE
    assert selector["initial_option"]["value"] == Choice.AUTO
    assert [o["text"]["text"] for o in selector["options"]] == [
        "自動（Slack の言語設定に合わせる）",
        "日本語",
        "English（英語）",
    ]

    # 7. He picks English there: his Home is drawn again in English, and from now on what he reads
    #    alone is English although Slack says ja-JP; the channel does not change.
    published = len(fake_slack.calls_to("views.publish"))
    pick = payloads.block_action(
        LanguageActionId.CHOOSE,
        user_id=MANAGER,
        block_id=LanguageBlockId.LANGUAGE,
        view=home_envelope(fake_slack, MANAGER),
        action={
            "type": "static_select",
            "selected_option": {"value": "en", "text": {"type": "plain_text", "text": "English"}},
        },
    )
    assert (await sender.interactive(pick)).status == 200
    english_home = await next_home(fake_slack, MANAGER, after=published)
    assert english_home["blocks"][0]["text"]["text"] == "Your SNS dashboard"
    assert _language_section(english_home)["accessory"]["initial_option"]["value"] == Choice.EN
    assert "Posts in channels stay in the team's language (日本語 (Japanese))." in texts(english_home)
    await sender.command(
        payloads.slash_command("/sns-kpi", "", user_id=MANAGER, response_url=fake_slack.response_url("kpi"))
    )
    assert texts_of((await _answer(fake_slack, "kpi"))["blocks"]).startswith("SNS KPIs — ")
    assert await deps.locales.choice(MANAGER) is Choice.EN

    # 8. The operator resubmits from his DM (an English form): the managers are asked again, the one
    #    who picked English in English, the others still in Japanese; the thread stays Japanese.
    await sender.interactive(
        payloads.block_action(
            ActionId.RESUBMIT,
            button(changes_dm, ActionId.RESUBMIT),
            user_id=OPERATOR,
            channel_id="D" + OPERATOR[1:],
            message=changes_dm,
            response_url=fake_slack.response_url("resubmit"),
        )
    )
    resubmit_view = {**(await nth(fake_slack, "views.open", 3)).params["view"], "id": "V0RS0001"}
    assert resubmit_view["title"]["text"] == "Resubmit the draft"
    revised = {
        BlockId.DRAFT: {ActionId.DRAFT: payloads.text_input(DRAFT + "（二行目を修正）")},
        BlockId.PLANNED: request_values(view, text=DRAFT)[BlockId.PLANNED],
        BlockId.LINK: {ActionId.LINK: payloads.text_input(None, kind="url_text_input")},
        BlockId.WANTED: {ActionId.WANTED: payloads.text_input("直しました")},
    }
    again = await sender.interactive(submission(CallbackId.RESUBMIT, resubmit_view, revised, OPERATOR))
    assert (again.status, again.body) == (200, b"")
    english_ask = await _next_dm(fake_slack, MANAGER, after=1)
    assert "<@U0ALICE01> asks for your review of a draft for X 公式 (@example_corp)" in texts_of(
        english_ask["blocks"]
    )
    assert _labels(english_ask) == ["Approve", "Request changes"]
    assert "投稿案のレビュー依頼が届きました" in texts_of(
        (await _next_dm(fake_slack, MANAGER2, after=1))["blocks"]
    )
    assert "第 2 版" in thread(fake_slack, posted["ts"])[-1]

    # The first review reached the managers: each was welcomed once, in the language they read then;
    # the English operator is no manager.
    await deps.inflight.drain(5)
    for manager in (MANAGER, MANAGER2, GROUP_MEMBER):
        assert _welcomes(fake_slack, manager) == ["ja"]
    assert _welcomes(fake_slack, OPERATOR) == []

    # 9. A Slack locale the bot has no catalog for reads the configured language.
    await deps.home.drain()  # the resubmission republished the Homes already shown
    other = await open_home(sender, fake_slack, MANAGER2)
    assert other["blocks"][0]["text"]["text"] == "SNS ダッシュボード"
    assert _language_section(other)["accessory"]["initial_option"]["value"] == Choice.AUTO

    # 10. users.info was asked once per person, with include_locale, whatever they did.
    asked = fake_slack.calls_to("users.info")
    assert Counter(c.params["user"] for c in asked) == {OPERATOR: 1, MANAGER: 1, MANAGER2: 1, GROUP_MEMBER: 1}


async def test_a_file_dropped_into_the_dm_is_answered_in_the_uploaders_language(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    """Import from Slack happens in the uploader's DM: an English manager reads its preview, its
    import report and the refusal of someone else's click in English."""
    fake_slack.download_token = BOT_TOKEN

    fake_slack.users[MANAGER] = {"locale": "en-US"}
    content = b"kpi,period,value\nrecruiting_entries,2026-11,21\n"
    await _drop(sender, fake_slack, deps, user=MANAGER, name="kpi.csv", content=content)
    (preview,) = _bot_messages(fake_slack, MANAGER)
    assert "*kpi.csv*: here is what importing it would do. Nothing is saved yet." in _texts(preview)
    assert "*KPI values*\n1 new, 0 unchanged" in _texts(preview)
    import_value = _buttons(preview)[KpiActionId.UPLOAD_IMPORT]

    # Someone else's click is refused in their own language (the configured Japanese, from Slack).
    stranger = _click(
        KpiActionId.UPLOAD_IMPORT, import_value, user=MANAGER2, message=preview, fake_slack=fake_slack
    )
    await sender.interactive(stranger)
    await deps.inflight.drain(10)
    (refusal,) = [c.params["text"] for c in fake_slack.calls_to("response_url")]
    assert refusal == "インポートまたはキャンセルできるのは、このファイルを共有した方のみです。"

    await sender.interactive(
        _click(KpiActionId.UPLOAD_IMPORT, import_value, user=MANAGER, message=preview, fake_slack=fake_slack)
    )
    await deps.inflight.drain(10)
    (done,) = _bot_messages(fake_slack, MANAGER)
    assert "*kpi.csv* is imported." in _texts(done)
    assert f"Imported by <@{MANAGER}> from Slack." in _texts(done)


@pytest.mark.parametrize("command", ["/sns-kpi", "/sns-review"])
async def test_a_slow_users_info_never_delays_an_ack(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack, command: str
) -> None:
    """Slack hangs on the operator's language: the command is still acknowledged (the language is
    looked up after the ack, with a bounded wait), and the answer comes in the configured one. The
    20 s guard only tells a hang (60 s) from an answer; ack times are measured in bench/."""
    fake_slack.users[OPERATOR] = {"locale": "en-US"}
    fake_slack.fail("users.info", delay=60.0)
    async with asyncio.timeout(20):
        response = await sender.command(
            payloads.slash_command(
                command, "", user_id=OPERATOR, response_url=fake_slack.response_url("slow")
            )
        )
    assert response.status == 200
    await fake_slack.wait_for("users.info")  # asked, but only after the ack
