"""Review rules through signed requests: who may decide, polite localized refusals that change nothing,
exactly one decision from two truly concurrent clicks (SQLite and PostgreSQL), hostile input, lists."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.i18n import translator
from bot.review import commands, messages, queries
from bot.review.ids import ActionId, BlockId, CallbackId, Decision, ModalMeta, Status
from bot.review.models import ReviewEvent, ReviewRequest
from bot.review.policy import ResolvedStep
from bot.review.records import RequestSnapshot
from bot.runtime.deps import Deps
from tests.conftest import ADMIN, MANAGER, MANAGER2, NOW, OPERATOR, REVIEW_CHANNEL
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack

OTHER = "U0BOB0001"


async def seed(
    deps: Deps,
    *,
    chain: tuple[ResolvedStep, ...] = (ResolvedStep((MANAGER, MANAGER2), "any"),),
    requester: str = OPERATOR,
) -> RequestSnapshot:
    """A request stored and posted to the review channel, as a submission would leave it."""
    async with deps.sessions.begin() as session:
        request = await commands.create_request(
            session,
            requester_id=requester,
            account_key="x_corp",
            text="冬の新商品です",
            planned_at=NOW + timedelta(days=2),
            link_url=None,
            feedback_wanted="",
            chain=chain,
            now=NOW,
        )
    message = messages.build_review_message(request, settings=deps.settings, t=deps.t)
    posted = await deps.slack.chat_postMessage(channel=REVIEW_CHANNEL, **message.kwargs())
    async with deps.sessions.begin() as session:
        await commands.attach_message(
            session, request_id=request.id, channel_id=REVIEW_CHANNEL, message_ts=posted["ts"]
        )
        return await queries.get_request(session, request_id=request.id)


async def state(deps: Deps, request_id: int) -> tuple[str, int, list[str]]:
    async with deps.sessions() as session:
        row = await session.get(ReviewRequest, request_id)
        assert row is not None
        kinds = (
            await session.scalars(
                select(ReviewEvent.kind).where(ReviewEvent.request_id == request_id).order_by(ReviewEvent.id)
            )
        ).all()
        return row.status, row.version, list(kinds)


def approve_submission(request: RequestSnapshot, user: str, *, view_id: str) -> dict[str, Any]:
    meta = ModalMeta(ref=request.ref, decision=Decision.APPROVE, step=request.current_step).encode()
    values = {
        BlockId.WHAT_WORKS: {ActionId.WHAT_WORKS: payloads.text_input(None)},
        BlockId.COMMENT: {ActionId.FEEDBACK_COMMENT: payloads.text_input(f"OK from {user}")},
    }
    return payloads.view_submission(
        CallbackId.APPROVE, values, private_metadata=meta, user_id=user, view_id=view_id
    )


def reject_submission(request: RequestSnapshot, user: str, *, view_id: str) -> dict[str, Any]:
    meta = ModalMeta(ref=request.ref, decision=Decision.REJECT, step=request.current_step).encode()
    values = {
        BlockId.REASONS: {
            ActionId.REASONS: {"type": "checkboxes", "selected_options": [{"value": "legal_risk"}]}
        },
        BlockId.WHAT_WORKS: {ActionId.WHAT_WORKS: payloads.text_input(None)},
        BlockId.WHAT_TO_CHANGE: {ActionId.WHAT_TO_CHANGE: payloads.text_input(None)},
        BlockId.COMMENT: {ActionId.FEEDBACK_COMMENT: payloads.text_input("景品表示法に抵触するおそれ")},
    }
    return payloads.view_submission(
        CallbackId.FEEDBACK, values, private_metadata=meta, user_id=user, view_id=view_id
    )


async def test_two_concurrent_approvals_make_exactly_one_decision(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    request = await seed(deps)
    first, second = await asyncio.gather(
        sender.interactive(approve_submission(request, MANAGER, view_id="V0A")),
        sender.interactive(approve_submission(request, MANAGER2, view_id="V0B")),
    )
    bodies = sorted([first.body, second.body], key=len)
    assert bodies[0] == b""  # the winner's modal closes
    loser = json.loads(bodies[1])
    assert loser["response_action"] == "update"
    text = loser["view"]["blocks"][0]["text"]["text"]
    status, version, kinds = await state(deps, request.id)
    assert (status, version, kinds) == (Status.APPROVED, 2, ["requested", "approved"])
    async with deps.sessions() as session:
        winner = await session.scalar(select(ReviewEvent.actor_id).where(ReviewEvent.kind == "approved"))
    assert (
        text
        == f"この依頼はすでに判断済みです（<@{winner}> さんにより承認済み）。あなたの回答は記録されていません。"
    )
    assert loser["view"]["title"]["text"] == "記録されませんでした"
    await fake_slack.wait_for("chat.update", count=1)
    await asyncio.sleep(0.2)
    assert len(fake_slack.calls_to("chat.update")) == 1  # one decision, one update


async def test_concurrent_approve_and_reject_make_exactly_one_decision(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    request = await seed(deps)
    responses = await asyncio.gather(
        sender.interactive(approve_submission(request, MANAGER, view_id="V0A")),
        sender.interactive(reject_submission(request, MANAGER2, view_id="V0B")),
    )
    assert sorted(r.body == b"" for r in responses) == [False, True]
    status, version, kinds = await state(deps, request.id)
    assert version == 2
    assert kinds in (["requested", "approved"], ["requested", "rejected"])
    assert status == kinds[-1]


async def test_all_mode_approvals_arriving_together_are_both_counted(sender: SlackSender, deps: Deps) -> None:
    request = await seed(deps, chain=(ResolvedStep((MANAGER, MANAGER2), "all"),))
    responses = await asyncio.gather(
        sender.interactive(approve_submission(request, MANAGER, view_id="V0A")),
        sender.interactive(approve_submission(request, MANAGER2, view_id="V0B")),
    )
    assert [r.body for r in responses] == [b"", b""]
    assert await state(deps, request.id) == (Status.APPROVED, 3, ["requested", "step_approved", "approved"])


@pytest.mark.parametrize(
    ("who", "action", "value", "expected"),
    [
        (
            OPERATOR,
            ActionId.APPROVE,
            None,
            "ご自身の依頼を承認・差し戻し・却下することはできません。変更は行われていません。",
        ),
        (
            OTHER,
            ActionId.REQUEST_CHANGES,
            None,
            "この依頼を判断できるのは、現在のステップの承認者（<@U0MANAGER1>、<@U0MANAGER2>）、管理職、または管理者のみです。変更は行われていません。",
        ),
        (
            OTHER,
            ActionId.COMMENT,
            None,
            "フィードバック付きのコメントができるのは、この依頼のレビュアーまたは管理者のみです。スレッドへの返信はどなたでもできます。変更は行われていません。",
        ),
        (
            MANAGER,
            ActionId.APPROVE,
            "1:7:1",
            "このメッセージの表示後に投稿案が修正されています（現在は第 1 版）。最新の版をご確認ください。変更は行われていません。",
        ),
        (
            MANAGER,
            ActionId.APPROVE,
            "<script>",
            "このボタンまたはフォームは、有効なレビュー依頼を指していません。変更は行われていません。",
        ),
        (MANAGER, ActionId.REJECT, "999:1:1", "そのレビュー依頼は存在しません。変更は行われていません。"),
        (
            OTHER,
            ActionId.PUBLISH,
            None,
            "投稿済みにできるのは承認済みの依頼のみです（この依頼は「レビュー待ち」です）。変更は行われていません。",
        ),
        (
            MANAGER,
            ActionId.RESUBMIT,
            None,
            "この操作ができるのは、レビューを依頼した <@U0ALICE01> さんのみです。変更は行われていません。",
        ),
    ],
)
async def test_refusals_are_ephemeral_localized_and_change_nothing(
    sender: SlackSender,
    fake_slack: FakeSlack,
    deps: Deps,
    who: str,
    action: str,
    value: str | None,
    expected: str,
) -> None:
    request = await seed(deps)
    if action == ActionId.PUBLISH:
        who = OPERATOR  # the requester, but the request is not approved yet
    message = fake_slack.messages(REVIEW_CHANNEL)[0]
    click = payloads.block_action(
        action,
        value or request.ref.encode(),
        user_id=who,
        channel_id=REVIEW_CHANNEL,
        message=message,
        response_url=fake_slack.response_url("refusal"),
    )
    assert (await sender.interactive(click)).status == 200
    answer = (await fake_slack.wait_for("response_url"))[0].params
    assert (answer["text"], answer["response_type"], answer["replace_original"]) == (
        expected,
        "ephemeral",
        False,
    )
    assert fake_slack.calls_to("views.open") == []
    assert await state(deps, request.id) == (Status.PENDING, 1, ["requested"])


async def test_a_decision_made_while_the_modal_was_open_is_refused_at_submit(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    request = await seed(deps)
    click = payloads.block_action(
        ActionId.REJECT,
        request.ref.encode(),
        user_id=MANAGER,
        channel_id=REVIEW_CHANNEL,
        message=fake_slack.messages(REVIEW_CHANNEL)[0],
        response_url=fake_slack.response_url("reject"),
    )
    await sender.interactive(click)
    await fake_slack.wait_for("views.open")
    assert (await sender.interactive(approve_submission(request, MANAGER2, view_id="V0B"))).body == b""
    late = await sender.interactive(reject_submission(request, MANAGER, view_id="V0A"))
    assert late.json()["view"]["blocks"][0]["text"]["text"] == (
        "この依頼はすでに判断済みです（<@U0MANAGER2> さんにより承認済み）。あなたの回答は記録されていません。"
    )
    assert await state(deps, request.id) == (Status.APPROVED, 2, ["requested", "approved"])


async def test_an_admin_may_decide_and_a_deleted_message_is_posted_again(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    request = await seed(deps)
    await deps.slack.chat_delete(channel=REVIEW_CHANNEL, ts=request.message_ts)
    assert (await sender.interactive(approve_submission(request, ADMIN, view_id="V0A"))).body == b""
    await fake_slack.wait_for("chat.postMessage", count=4)  # seed, repost, thread, DM
    status, _, kinds = await state(deps, request.id)
    assert (status, kinds) == (Status.APPROVED, ["requested", "approved"])
    async with deps.sessions() as session:
        row = await session.get(ReviewRequest, request.id)
        assert row is not None and row.message_ts != request.message_ts
    top = [m for m in fake_slack.messages(REVIEW_CHANNEL) if m.get("thread_ts", m["ts"]) == m["ts"]]
    assert [m["ts"] for m in top] == [row.message_ts]


@pytest.mark.parametrize(
    "text",
    [
        "payload",
        "He said \"quote\" and 'single' `code` ```block```",
        "絵文字 👨‍👩‍👧‍👦🇯🇵 and <@U0MANAGER1> <!channel> <!subteam^S0X|@team> &amp; %s {cmd} {0}",
        "x" * 3500,
        "list of things",
        "   ",
    ],
)
async def test_any_command_text_opens_the_form(sender: SlackSender, fake_slack: FakeSlack, text: str) -> None:
    response = await sender.command(
        payloads.slash_command(
            "/sns-review", text, user_id=OPERATOR, response_url=fake_slack.response_url("cmd")
        )
    )
    assert (response.status, response.body) == (200, b"")
    view = (await fake_slack.wait_for("views.open"))[0].params["view"]
    draft = next(b for b in view["blocks"] if b.get("block_id") == BlockId.DRAFT)["element"]
    assert draft.get("initial_value", "") == text.strip()[:3000]
    assert fake_slack.invalid_payloads == []


async def test_a_forged_modal_is_answered_not_crashed(sender: SlackSender, fake_slack: FakeSlack) -> None:
    forged = payloads.view_submission(CallbackId.APPROVE, {}, private_metadata="{not json", user_id=MANAGER)
    response = await sender.interactive(forged)
    assert response.status == 200
    dm = (await fake_slack.wait_for("chat.postMessage"))[0].params
    assert (dm["channel"], dm["text"]) == (MANAGER, translator("ja")("review.errors.bad_reference"))


async def test_list_shows_my_requests_and_what_waits_on_me(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    mine = await seed(deps)
    await seed(deps, requester=MANAGER, chain=(ResolvedStep((OPERATOR,), "any"),))
    await sender.command(
        payloads.slash_command(
            "/sns-review", "list", user_id=OPERATOR, response_url=fake_slack.response_url("list")
        )
    )
    answer = (await fake_slack.wait_for("response_url"))[0].params
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "依頼中 1 件、あなたの確認待ち 1 件"
    body = json.dumps(answer["blocks"], ensure_ascii=False)
    assert f"https://slack.com/archives/{REVIEW_CHANNEL}/p{mine.message_ts.replace('.', '')}" in body
    assert "<@U0MANAGER1> さんから" in body
    async with deps.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ReviewRequest)) == 2


async def test_choosing_another_account_refills_reviewers_and_the_limit(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    await sender.command(
        payloads.slash_command(
            "/sns-review", "下書き", user_id=OPERATOR, response_url=fake_slack.response_url("c")
        )
    )
    opened = (await fake_slack.wait_for("views.open"))[0]
    view_id = next(iter(fake_slack.views))
    current = fake_slack.views[view_id]
    current["state"] = {"values": {BlockId.DRAFT: {ActionId.DRAFT: payloads.text_input("下書き（編集中）")}}}
    click = payloads.block_action(
        ActionId.ACCOUNT,
        user_id=OPERATOR,
        block_id=BlockId.ACCOUNT,
        view=current,
        action={
            "type": "static_select",
            "selected_option": {"value": "ig_recruit", "text": {"type": "plain_text", "text": "IG"}},
        },
    )
    assert (await sender.interactive(click)).status == 200
    update = (await fake_slack.wait_for("views.update"))[0].params
    assert update["view_id"] == view_id and update["hash"] == current["hash"]
    blocks = {b.get("block_id"): b for b in update["view"]["blocks"]}
    assert blocks[BlockId.DRAFT]["element"]["initial_value"] == "下書き（編集中）"
    assert blocks[BlockId.DRAFT]["hint"]["text"] == "文字数の上限 — Instagram 採用: 2,200 文字"
    assert "review_reviewers.ig_recruit" in blocks and "review_reviewers.x_corp" not in blocks
    assert opened.params["view"]["callback_id"] == CallbackId.REQUEST


async def test_a_comment_goes_to_the_thread_and_the_requester_without_changing_the_status(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    request = await seed(deps)
    meta = ModalMeta(ref=request.ref, decision=Decision.COMMENT).encode()
    empty = {
        BlockId.WHAT_WORKS: {ActionId.WHAT_WORKS: payloads.text_input(None)},
        BlockId.WHAT_TO_CHANGE: {ActionId.WHAT_TO_CHANGE: payloads.text_input(None)},
        BlockId.COMMENT: {ActionId.FEEDBACK_COMMENT: payloads.text_input(None)},
        BlockId.REASONS: {ActionId.REASONS: {"type": "checkboxes", "selected_options": []}},
    }
    refused = await sender.interactive(
        payloads.view_submission(CallbackId.FEEDBACK, empty, private_metadata=meta, user_id=MANAGER)
    )
    assert refused.json()["errors"] == {
        BlockId.COMMENT: "コメント（または良い点・修正してほしい点）を入力してください。"
    }
    values = {
        **empty,
        BlockId.COMMENT: {ActionId.FEEDBACK_COMMENT: payloads.text_input("画像の候補は他にありますか？")},
    }
    ok = await sender.interactive(
        payloads.view_submission(CallbackId.FEEDBACK, values, private_metadata=meta, user_id=MANAGER)
    )
    assert ok.body == b""
    calls = await fake_slack.wait_for("chat.postMessage", count=3)  # seed, thread, DM
    assert calls[1].params["thread_ts"] == request.message_ts
    assert calls[2].params["channel"] == OPERATOR
    assert "画像の候補は他にありますか？" in json.dumps(calls[2].params["blocks"], ensure_ascii=False)
    assert fake_slack.calls_to("chat.update") == []
    assert await state(deps, request.id) == (Status.PENDING, 1, ["requested", "commented"])


async def test_a_busy_managers_list_counts_everything_waiting_and_says_how_many_are_not_shown(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    """22 requests wait on the manager, one more "all" step he already approved does not: the list
    shows the 20 longest-waiting and says 22 in all and 2 more, as the App Home counts them."""
    from bot.home.queries import waiting_page

    async with deps.sessions.begin() as session:
        for n in range(22):
            await commands.create_request(
                session,
                requester_id=OPERATOR,
                account_key="x_corp",
                text=f"下書き {n}",
                planned_at=NOW + timedelta(days=2),
                link_url=None,
                feedback_wanted="",
                chain=(ResolvedStep((MANAGER, MANAGER2), "any"),),
                now=NOW + timedelta(minutes=n),
            )
        approved = await commands.create_request(
            session,
            requester_id=OPERATOR,
            account_key="x_corp",
            text="承認済み（他の承認者待ち）",
            planned_at=NOW + timedelta(days=2),
            link_url=None,
            feedback_wanted="",
            chain=(ResolvedStep((MANAGER, MANAGER2), "all"),),
            now=NOW - timedelta(days=1),  # the oldest: it would be listed first if it counted
        )
        session.add(
            ReviewEvent(
                request_id=approved.id,
                kind="step_approved",
                actor_id=MANAGER,
                revision=1,
                step=0,
                created_at=NOW,
            )
        )
    await sender.command(
        payloads.slash_command(
            "/sns-review", "list", user_id=MANAGER, response_url=fake_slack.response_url("l")
        )
    )
    answer = (await fake_slack.wait_for("response_url"))[0].params
    assert answer["text"] == "依頼中 0 件、あなたの確認待ち 22 件"
    body = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "あなたの確認待ち（22 件）" in body
    assert "ほかに 2 件あります（待ち時間の長い順に表示しています）" in body
    assert body.count("さんから") == 20
    assert "下書き 0" in body and "下書き 19" in body and "下書き 20" not in body  # longest waiting first
    assert "承認済み" not in body
    assert fake_slack.invalid_payloads == []
    async with deps.sessions() as session:
        assert (await waiting_page(session, user_id=MANAGER)).total == 22  # one definition for both
