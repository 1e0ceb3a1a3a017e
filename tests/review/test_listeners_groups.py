"""No Slack call before an ack, and a user group is never silently dropped (issue 13, item 7).

Before: a request submission resolved its user groups through ``usergroups.users.list`` *before* its
ack, each with a 1.2 s timeout; with Slack slow, the ack came after 2.4 s and the group's members
were left out of the request without a word. The App Home's KPI form asked Slack before its ack too.

Now the directory's cache is read before an ack (never Slack); a group it does not know yet stands
in as an approver itself, Slack is asked right after the ack, and the request says so when Slack
still has not answered.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.kpi.ids import ActionId as KpiActionId
from bot.kpi.ids import BlockId as KpiBlockId
from bot.kpi.ids import CallbackId as KpiCallbackId
from bot.kpi.models import KpiValue
from bot.review.ids import ActionId, RequestRef
from bot.review.models import ReviewApprover, ReviewRequest
from bot.runtime.deps import Deps
from tests.conftest import GROUP_MEMBER, MANAGER, MANAGER_GROUP, REVIEW_CHANNEL, make_settings
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import Call, FakeSlack
from tests.reliability.faults_support import decision_submission, request_submission, seed_request


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    """The X account needs the requester's pick, then someone of the managers' user group."""

    def change(raw: dict[str, Any]) -> None:
        raw["accounts"][0]["approval"] = [
            {"approvers": [MANAGER], "mode": "any"},
            {"approvers": [MANAGER_GROUP], "mode": "any"},
        ]

    return make_settings(db_url=db_url, api_url=fake_slack.api_url, change=change)


async def _steps(deps: Deps) -> dict[int, list[str]]:
    async with deps.sessions() as session:
        rows = (await session.scalars(select(ReviewApprover).order_by(ReviewApprover.id))).all()
    steps: dict[int, list[str]] = {}
    for row in rows:
        steps.setdefault(row.step, []).append(row.user_id)
    return steps


async def _acked(*_args: Any, **_kwargs: Any) -> None:
    return None


@contextlib.asynccontextmanager
async def _work_after_acks_paused(deps: Deps, fake: FakeSlack) -> AsyncIterator[list[Call]]:
    """Hold every turn for work after an ack (bot.slack.gate): the Web API calls Slack sees meanwhile
    (the list yielded) were made *before* an ack. The turns are given back when the block ends."""
    await deps.authorization.load()  # as `run` does before serving (auth.test is not asked before an ack)
    held = [deps.after_ack.ack_for(_acked) for _ in range(deps.after_ack.limit)]
    for gated in held:
        await gated.take_turn()
    before = len(fake.calls)
    seen: list[Call] = []
    try:
        yield seen
        seen.extend(fake.calls[before:])
    finally:
        for gated in held:
            gated.release()


def _request_message(fake: FakeSlack) -> dict[str, Any]:
    (message,) = [m for m in fake.messages(REVIEW_CHANNEL) if not m.get("thread_ts")]
    return message


async def test_a_slow_usergroups_lookup_never_delays_the_ack_and_the_group_is_kept(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("usergroups.users.list", delay=2.0, times=None)  # slow, but it answers

    async with _work_after_acks_paused(deps, fake_slack) as before_ack:
        response = await sender.interactive(request_submission())
        assert (response.status, response.body) == (200, b"")
    # Nothing was asked of Slack before the ack, so nothing the ack could have waited for.
    assert before_ack == []
    # After the ack the group is resolved, and its member is step 2's approver before anyone sees it.
    await fake_slack.wait_for("chat.postMessage", count=1, timeout=30)
    await deps.inflight.drain(30)
    assert await _steps(deps) == {0: [MANAGER], 1: [GROUP_MEMBER]}
    assert "<!subteam^" not in json.dumps(_request_message(fake_slack)["blocks"])


async def test_a_group_slack_cannot_name_is_said_in_the_request_and_resolved_at_a_click(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("usergroups.users.list", error="internal_error", times=1)

    assert (await sender.interactive(request_submission())).status == 200
    await fake_slack.wait_for("chat.postMessage", count=1)
    await deps.inflight.drain(10)

    # The group stands in for its members, and the request says so (mentioning the group).
    assert await _steps(deps) == {0: [MANAGER], 1: [MANAGER_GROUP]}
    blocks = json.dumps(_request_message(fake_slack)["blocks"], ensure_ascii=False)
    assert "<!subteam^S0MANAGERS> のメンバーを Slack からまだ取得できていないため" in blocks

    # Slack answers again; the next click on the request resolves the group in the store.
    async with deps.sessions() as session:
        request = await session.scalar(select(ReviewRequest))
        assert request is not None
        ref = RequestRef(request.id, request.revision, request.version).encode()
    click = payloads.block_action(
        ActionId.APPROVE,
        ref,
        user_id=GROUP_MEMBER,
        channel_id=REVIEW_CHANNEL,
        message=payloads.bot_message(text="review", ts=request.message_ts or "1.0"),
        response_url=fake_slack.response_url("click"),
    )
    assert (await sender.interactive(click)).status == 200
    await deps.inflight.drain(10)
    assert await _steps(deps) == {0: [MANAGER], 1: [GROUP_MEMBER]}
    updated = json.dumps(fake_slack.calls_to("chat.update")[-1].params["blocks"], ensure_ascii=False)
    assert "subteam" not in updated


async def test_the_home_kpi_form_never_asks_slack_before_its_ack(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    submission = payloads.view_submission(
        KpiCallbackId.RECORD,
        {
            KpiBlockId.KPI: {KpiActionId.KPI: payloads.selected_option("recruiting_entries")},
            KpiBlockId.VALUE: {KpiActionId.VALUE: payloads.text_input("12")},
            KpiBlockId.MONTH: {KpiActionId.MONTH: payloads.selected_option("2026-11")},
        },
        user_id=GROUP_MEMBER,  # a manager only through the managers' user group
    )
    async with _work_after_acks_paused(deps, fake_slack) as before_ack:
        first = await sender.interactive(submission)
    assert before_ack == []  # nothing asked of Slack before the ack
    assert first.json() == {
        "response_action": "errors",
        "errors": {
            "home_kpi": "管理職であることを Slack でまだ確認できませんでした（ユーザーグループを確認中です）。"
            "少し待ってからもう一度送信してください。記録はしていません。"
        },
    }
    await deps.inflight.drain(10)
    await fake_slack.wait_for("usergroups.users.list")  # asked after the ack, for the next try

    again = await sender.interactive({**submission})
    assert (again.status, again.body) == (200, b"")
    await deps.inflight.drain(10)
    async with deps.sessions() as session:
        assert [
            (v.kpi_key, v.value, v.recorded_by) for v in (await session.scalars(select(KpiValue))).all()
        ] == [("recruiting_entries", 12.0, GROUP_MEMBER)]


async def test_a_decision_submission_never_asks_slack_who_is_a_manager_before_its_ack(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    """A member of the managers' user group approves with no click before (the cache is cold, e.g.
    the bot restarted with the modal open): asked to try again, with no Slack call before the ack;
    the group is fetched after it, and the next try is recorded."""
    request = await seed_request(deps, approvers=(MANAGER,))
    submission = decision_submission(request, GROUP_MEMBER)
    async with _work_after_acks_paused(deps, fake_slack) as before_ack:
        first = await sender.interactive(submission)
    assert before_ack == []
    assert first.json() == {
        "response_action": "errors",
        "errors": {
            "review_comment": "Slack からあなたの役割を時間内に確認できませんでした。"
            "もう一度送信してください。入力内容は失われていません。"
        },
    }
    await deps.inflight.drain(10)
    await fake_slack.wait_for("usergroups.users.list")

    again = await sender.interactive(decision_submission(request, GROUP_MEMBER, view_id="V0DEC0002"))
    assert (again.status, again.body) == (200, b"")
    await deps.inflight.drain(10)
    async with deps.sessions() as session:
        row = await session.scalar(select(ReviewRequest))
    assert row is not None and row.status == "approved"  # a manager's approval satisfies the step
