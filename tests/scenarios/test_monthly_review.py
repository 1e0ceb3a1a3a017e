"""The monthly review has memory (issue 17 item 3), through signed requests: the monthly digest opens
its thread with the review's questions; anyone adds an action item from the digest's button (what,
owner, due month); the owner marks it done from the item's message or their App Home; and the next
month's digest opens with last month's items and their status, carrying over and counting the open
items past their due month."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.actions.commands import add_item
from bot.actions.ids import AddTarget
from bot.actions.models import ActionItem
from bot.actions.records import NewItem
from bot.clock import FixedClock
from bot.digest.jobs import run_digest_job
from bot.runtime.deps import Deps
from tests.conftest import MANAGER, MANAGER2, MGMT_CHANNEL, OPERATOR
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.home.home_seed import buttons, home_envelope, next_home, open_home, texts
from tests.scenarios.digest_seed import add_kpi, jst


def _values(what: str | None, owner: str | None, due: str) -> dict[str, Any]:
    return {
        "actions_what": {"actions.input.what": payloads.text_input(what, kind="plain_text_input")},
        "actions_owner": {"actions.input.owner": {"type": "users_select", "selected_user": owner}},
        "actions_due": {"actions.input.due": payloads.selected_option(due)},
    }


async def _add(
    sender: SlackSender,
    fake_slack: FakeSlack,
    digest: dict[str, Any],
    *,
    user: str,
    view_id: str,
    **form: Any,
) -> dict[str, Any]:
    """Click "Add an action item" on ``digest`` and submit the modal it opens."""
    before = len(fake_slack.calls_to("views.open"))
    click = payloads.block_action(
        "actions.add", _add_button(digest)["value"], user_id=user, channel_id=MGMT_CHANNEL, message=digest
    )
    assert (await sender.interactive(click)).status == 200
    modal = (await fake_slack.wait_for("views.open", count=before + 1))[before].params["view"]
    submission = payloads.view_submission(
        "actions.add_modal",
        _values(**form),
        private_metadata=modal["private_metadata"],
        user_id=user,
        view_id=view_id,
    )
    response = await sender.interactive(submission)
    return {"modal": modal, "submission": submission, "response": response}


def _add_button(message: dict[str, Any]) -> dict[str, Any]:
    (button,) = [
        e
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "actions.add"
    ]
    return dict(button)


def _thread(fake_slack: FakeSlack, ts: str) -> list[dict[str, Any]]:
    return [m for m in fake_slack.messages(MGMT_CHANNEL) if m.get("thread_ts") == ts and m["ts"] != ts]


def _text(message: dict[str, Any]) -> str:
    return texts(message)


async def _items(deps: Deps) -> list[ActionItem]:
    async with deps.sessions() as session:
        return list((await session.scalars(select(ActionItem).order_by(ActionItem.id))).all())


async def test_an_item_added_in_november_appears_with_its_status_in_december(
    deps: Deps, clock: FixedClock, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    # An item agreed in September's review, due in October and never done: it carries over.
    async with deps.sessions.begin() as session:
        await add_kpi(session, kpi="recruiting_entries", month="2026-10", value=25)
        await add_kpi(session, kpi="recruiting_entries", month="2026-11", value=31)
        old = NewItem(
            AddTarget("2026-09", MGMT_CHANNEL, "1759280000.000100"),
            "採用動画の企画を出す",
            MANAGER2,
            "2026-10",
        )
        await add_item(session, item=old, user_id=MANAGER, now=jst(2026, 10, 1, 10))

    # October's digest, posted on November's first business day, opens its thread with the questions.
    clock.set(jst(2026, 11, 2, 9))
    await run_digest_job(deps, "monthly")
    october = fake_slack.messages(MGMT_CHANNEL)[0]
    assert _add_button(october) == {
        "type": "button",
        "action_id": "actions.add",
        "text": {"type": "plain_text", "text": "アクションを追加", "emoji": True},
        "value": "2026-10",
    }
    questions = _thread(fake_slack, october["ts"])[0]
    assert (
        questions["text"].splitlines()[0]
        == ":speech_balloon: *今月のレビューで話したいこと* — このスレッドに返信してください:"
    )
    assert "1. もっと増やしたい投稿はどれですか？" in questions["text"]
    # October's digest shows September's review: the old item, open and past due.
    assert (
        "*:pushpin: 先月のアクションアイテム*\n• 採用動画の企画を出す — 担当 <@U0MANAGER2>・:warning: 期限切れ（期限 2026年10月）"
        in _text(october)
    )

    # November 10: the review agrees on three actions.
    clock.set(jst(2026, 11, 10, 15))
    empty = await _add(
        sender,
        fake_slack,
        october,
        user=MANAGER,
        view_id="V0ADD0000",
        what="  ",
        owner=OPERATOR,
        due="2026-11",
    )
    assert empty["response"].json() == {
        "response_action": "errors",
        "errors": {"actions_what": "やることを入力してください。"},
    }
    modal = empty["modal"]
    assert modal["callback_id"] == "actions.add_modal"
    due = modal["blocks"][3]["element"]
    assert [o["value"] for o in due["options"]] == [
        "2026-11",
        "2026-12",
        "2027-01",
        "2027-02",
        "2027-03",
        "2027-04",
    ]

    first = await _add(
        sender,
        fake_slack,
        october,
        user=MANAGER,
        view_id="V0ADD0001",
        what="社員インタビューを 2 本投稿する <!channel>",
        owner=OPERATOR,
        due="2026-11",
    )
    assert (first["response"].status, first["response"].body) == (200, b"")
    # Slack's retry of the same submission adds nothing.
    assert (await sender.interactive(first["submission"])).status == 200
    await _add(
        sender,
        fake_slack,
        october,
        user=OPERATOR,
        view_id="V0ADD0002",
        what="採用ページへのリンクを全投稿に添える",
        owner=MANAGER2,
        due="2026-12",
    )
    await _add(
        sender,
        fake_slack,
        october,
        user=MANAGER2,
        view_id="V0ADD0003",
        what="説明会の告知を 3 回に分ける",
        owner=MANAGER2,
        due="2026-11",
    )
    await deps.inflight.drain(5)

    items = await _items(deps)
    assert [(i.review_period, i.what, i.owner_id, i.due_month, i.status) for i in items[1:]] == [
        ("2026-10", "社員インタビューを 2 本投稿する <!channel>", OPERATOR, "2026-11", "open"),
        ("2026-10", "採用ページへのリンクを全投稿に添える", MANAGER2, "2026-12", "open"),
        ("2026-10", "説明会の告知を 3 回に分ける", MANAGER2, "2026-11", "open"),
    ]
    # Each item has its own message in the digest's thread, the user text escaped, with "Mark as done".
    thread = _thread(fake_slack, october["ts"])
    item_messages = [m for m in thread if "アクションアイテム" in m["text"]]
    assert len(item_messages) == 3
    first_message = item_messages[0]
    assert first_message["ts"] == items[1].message_ts
    assert "&lt;!channel&gt;" in _text(first_message) and "<!channel>" not in _text(first_message)
    assert buttons(first_message) == [("actions.done", str(items[1].id))]

    # Only the owner (or an admin) marks it done; anyone else is told, and nothing changes.
    refused = payloads.block_action(
        "actions.done",
        str(items[1].id),
        user_id=MANAGER,
        channel_id=MGMT_CHANNEL,
        message=first_message,
        response_url=fake_slack.response_url("refused"),
    )
    assert (await sender.interactive(refused)).status == 200
    (told,) = await fake_slack.wait_for("response_url")
    assert (
        told.params["text"]
        == f"このアクションアイテムを完了にできるのは、担当者（<@{OPERATOR}>）か管理者だけです。"
    )
    assert (await _items(deps))[1].status == "open"

    clock.set(jst(2026, 11, 20, 11))
    done = payloads.block_action(
        "actions.done", str(items[1].id), user_id=OPERATOR, channel_id=MGMT_CHANNEL, message=first_message
    )
    assert (await sender.interactive(done)).status == 200
    (update,) = await fake_slack.wait_for("chat.update")
    assert update.params["ts"] == first_message["ts"]
    assert "さんが完了しました" in texts(update.params) and buttons(update.params) == []
    # A second click (a double click, another replica) changes nothing more.
    assert (await sender.interactive(done)).status == 200
    await deps.inflight.drain(5)
    assert len(fake_slack.calls_to("chat.update")) == 1

    # The owner of the other two sees them on the App Home, with "Mark as done".
    home = await open_home(sender, fake_slack, MANAGER2)
    assert "*:pushpin: あなたのアクションアイテム（未完了 3 件）*" in texts(home)
    assert ("actions.done", str(items[2].id)) in [
        (b["accessory"]["action_id"], b["accessory"]["value"])
        for b in home["blocks"]
        if b.get("accessory", {}).get("action_id") == "actions.done"
    ]

    # December 1: November's digest opens with last month's items and their status.
    clock.set(jst(2026, 12, 1, 9))
    await run_digest_job(deps, "monthly")
    december = [m for m in fake_slack.messages(MGMT_CHANNEL) if m.get("thread_ts", m["ts"]) == m["ts"]][-1]
    assert december["metadata"]["event_payload"]["period"] == "2026-11"
    sections = [b["text"]["text"] for b in december["blocks"] if b["type"] == "section"]
    assert sections[0] == (
        "*:pushpin: 先月のアクションアイテム*\n"
        f"• 社員インタビューを 2 本投稿する &lt;!channel&gt; — 担当 <@{OPERATOR}>・:white_check_mark: 完了（<@{OPERATOR}>）\n"
        f"• 採用ページへのリンクを全投稿に添える — 担当 <@{MANAGER2}>・:hourglass_flowing_sand: 対応中・期限 2026年12月\n"
        f"• 説明会の告知を 3 回に分ける — 担当 <@{MANAGER2}>・:warning: 期限切れ（期限 2026年11月）\n"
        "*前月以前からの持ち越し（1 件）*\n"
        f"• 採用動画の企画を出す — 担当 <@{MANAGER2}>・:warning: 期限切れ（期限 2026年10月）"
    )
    summary = december["blocks"][3]["elements"][0]["text"]
    assert summary == "3 件中 1 件完了・期限切れ 1 件・前月以前からの持ち越し 1 件"
    assert sections[1] == "*:bar_chart: 指標と目標*"  # then the KPIs, as before
    assert _add_button(december)["value"] == "2026-11"


async def test_the_owner_marks_an_item_done_from_the_app_home(
    deps: Deps, clock: FixedClock, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    async with deps.sessions.begin() as session:
        item = await add_item(
            session,
            item=NewItem(
                AddTarget("2026-10", MGMT_CHANNEL, "1762041600.000100"),
                "投稿カレンダーを作る",
                MANAGER,
                "2026-11",
            ),
            user_id=OPERATOR,
            now=jst(2026, 11, 5, 10),
        )
    home = await open_home(sender, fake_slack, MANAGER)
    assert (
        "• 投稿カレンダーを作る — 担当 <@U0MANAGER1>・:hourglass_flowing_sand: 対応中・期限 2026年11月"
        in texts(home)
    )
    published = len(fake_slack.calls_to("views.publish"))
    click = payloads.block_action(
        "actions.done", str(item.id), user_id=MANAGER, view=home_envelope(fake_slack, MANAGER)
    )
    assert (await sender.interactive(click)).status == 200
    after = await next_home(fake_slack, MANAGER, after=published)
    assert "投稿カレンダーを作る" not in texts(after)
    assert [(i.status, i.done_by) for i in await _items(deps)] == [("done", MANAGER)]
    await deps.inflight.drain(5)


async def test_a_forged_add_button_or_item_value_is_refused(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    forged = payloads.block_action(
        "actions.add",
        "not-a-month",
        user_id=OPERATOR,
        channel_id=MGMT_CHANNEL,
        response_url=fake_slack.response_url("forged"),
    )
    assert (await sender.interactive(forged)).status == 200
    (told,) = await fake_slack.wait_for("response_url")
    assert (
        told.params["text"]
        == "このボタンは月次レポートのものではなくなりました。レポート上のボタンをお使いください。"
    )
    assert fake_slack.calls_to("views.open") == []
    bad_item = payloads.block_action(
        "actions.done",
        "1; DROP TABLE",
        user_id=OPERATOR,
        channel_id=MGMT_CHANNEL,
        response_url=fake_slack.response_url("bad_item"),
    )
    assert (await sender.interactive(bad_item)).status == 200
    told = (await fake_slack.wait_for("response_url", count=2))[1]
    assert told.params["text"] == "このアクションアイテムは見つかりません。"
    assert await _items(deps) == []
