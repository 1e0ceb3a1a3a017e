"""Authorization matrix (issue 8 item 6, issue 13 item 4): every action × every role, as one table,
through signed requests.

The request under test is made through the real request modal on a two-step policy: step 1 is the
configured manager, step 2 another approver who is not a manager; the requester picked a colleague
(not a manager) as reviewer and left the manager out. For the review actions both halves are tried:
the click (which opens the modal or is refused) and the submission a tampered client could send without
the click (which is recorded or refused); they must agree with the table, and a refusal writes nothing.

Roles beyond the original five: the reviewer the requester picked (notified, may comment, decides
nothing), a manager outside the chain (a member of a manager user group) and the delegate an away
step-1 approver named on the App Home (a manager; decides on their behalf). Multi-step chains × admin
and managers are :func:`test_an_approval_moves_a_multi_step_chain_exactly_one_step`.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.away.ids import ActionId as AwayActionId
from bot.away.models import UserState
from bot.config import Settings
from bot.digest.ids import ActionId as DigestActionId
from bot.kpi.ids import ActionId as KpiActionId
from bot.kpi.ids import BlockId as KpiBlockId
from bot.kpi.ids import CallbackId as KpiCallbackId
from bot.kpi.models import KpiTarget, KpiValue
from bot.review.ids import ActionId, BlockId, CallbackId, Decision, ModalMeta, RequestRef, Status
from bot.review.models import ReviewEvent, ReviewRequest
from bot.runtime.deps import Deps
from tests.conftest import ADMIN, GROUP_MEMBER, MANAGER, MANAGER2, NOW, OPERATOR, make_settings
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack

OTHER_STEP = "U0STEP2001"  # approves step 2 only; not a configured manager
BYSTANDER = "U0BOB0001"  # an operator with nothing to do with the request
PICKED = "U0PICKED01"  # the reviewer the requester picked; not a manager
ROLES = {
    "operator": BYSTANDER,
    "approver of another step": OTHER_STEP,
    "manager": MANAGER,
    "admin": ADMIN,
    "requester": OPERATOR,
    "picked reviewer": PICKED,
    "manager outside the chain": GROUP_MEMBER,
    "delegate": MANAGER2,
}
Y, N = True, False

#: action → allowed for (operator, approver of another step, manager, admin, requester,
#: picked reviewer, manager outside the chain, delegate)
MATRIX: dict[str, tuple[bool, ...]] = {
    "approve": (N, N, Y, Y, N, N, Y, Y),
    "request changes": (N, N, Y, Y, N, N, Y, Y),
    "reject": (N, N, Y, Y, N, N, Y, Y),
    "comment": (N, Y, Y, Y, N, Y, Y, Y),
    "resubmit": (N, N, N, N, Y, N, N, N),
    "mark as published": (N, N, N, Y, Y, N, N, N),
    "/sns-kpi set": (N, N, Y, Y, N, N, Y, Y),
    "/sns-kpi target": (N, N, N, Y, N, N, N, N),
    "home: record value": (N, N, Y, Y, N, N, Y, Y),
    "home: digest preview": (N, N, N, Y, N, N, N, N),
    "home: away mode": (N, N, Y, Y, N, N, Y, Y),  # admins count as managers (bot.slack.directory)
    "home: name a delegate": (N, N, Y, Y, N, N, Y, Y),
}
DECISIONS = {
    "approve": (ActionId.APPROVE, Decision.APPROVE, CallbackId.APPROVE),
    "request changes": (ActionId.REQUEST_CHANGES, Decision.REQUEST_CHANGES, CallbackId.FEEDBACK),
    "reject": (ActionId.REJECT, Decision.REJECT, CallbackId.FEEDBACK),
    "comment": (ActionId.COMMENT, Decision.COMMENT, CallbackId.FEEDBACK),
}
CELLS = [
    pytest.param(action, role, allowed[i], id=f"{action}-{role}")
    for action, allowed in MATRIX.items()
    for i, role in enumerate(ROLES)
]
#: The step-1 manager is away until then and named the delegate (set up for the "delegate" column).
AWAY_UNTIL = date(2026, 11, 25)


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    def change(raw: dict[str, Any]) -> None:
        raw["accounts"][0]["approval"] = [
            {"approvers": [MANAGER], "mode": "any"},
            {"approvers": [OTHER_STEP], "mode": "any"},
        ]

    return make_settings(db_url=db_url, api_url=fake_slack.api_url, change=change)


def test_the_matrix_covers_every_action_and_role() -> None:
    assert len(CELLS) == 12 * 8
    assert set(MATRIX) == {
        *DECISIONS,
        "resubmit",
        "mark as published",
        "/sns-kpi set",
        "/sns-kpi target",
        "home: record value",
        "home: digest preview",
        "home: away mode",
        "home: name a delegate",
    }


async def _count(deps: Deps, model: Any) -> int:
    async with deps.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _new_request(sender: SlackSender, deps: Deps, status: Status) -> ModalMeta:
    """A request made through the request modal by the requester, who picked only PICKED as reviewer
    (the configured chain stays: [manager] then [other step]); returns its modal metadata."""
    values = {
        BlockId.ACCOUNT: {ActionId.ACCOUNT: payloads.selected_option("x_corp")},
        BlockId.DRAFT: {ActionId.DRAFT: payloads.text_input("冬の限定ブレンドが登場")},
        BlockId.PLANNED: {
            ActionId.PLANNED: {
                "type": "datetimepicker",
                "selected_date_time": int((NOW + timedelta(days=2)).timestamp()),
            }
        },
        "review_reviewers.x_corp": {
            ActionId.REVIEWERS: {"type": "multi_users_select", "selected_users": [PICKED]}
        },
    }
    done = await sender.interactive(
        payloads.view_submission(CallbackId.REQUEST, values, user_id=OPERATOR, view_id="V0REQ0001")
    )
    assert (done.status, done.body) == (200, b"")
    await deps.inflight.drain(5)
    async with deps.sessions.begin() as session:
        row = (await session.scalars(select(ReviewRequest))).one()
        if status is not Status.PENDING:
            await session.execute(
                update(ReviewRequest).where(ReviewRequest.id == row.id).values(status=status.value)
            )
        return ModalMeta(ref=RequestRef(row.id, row.revision, row.version))


async def _away_with_delegate(deps: Deps) -> None:
    """The step-1 manager is away and named the delegate (an App Home setting)."""
    async with deps.sessions.begin() as session:
        session.add(UserState(user_id=MANAGER, away_until=AWAY_UNTIL, delegate_id=MANAGER2, updated_at=NOW))


async def _state(deps: Deps) -> tuple[int, ...]:
    """Everything an action could write."""
    async with deps.sessions() as session:
        statuses = tuple(
            (
                await session.execute(
                    select(ReviewRequest.status, ReviewRequest.revision, ReviewRequest.version)
                )
            ).all()
        )
        users = tuple(
            (
                await session.execute(
                    select(UserState.user_id, UserState.away_until, UserState.delegate_id).order_by(
                        UserState.user_id
                    )
                )
            ).all()
        )
    return (
        await _count(deps, ReviewEvent),
        await _count(deps, KpiValue),
        await _count(deps, KpiTarget),
        hash(users),
        hash(statuses),
    )


def _feedback(decision: Decision) -> dict[str, Any]:
    reasons = (
        [{"text": {"type": "plain_text", "text": "tone"}, "value": "tone"}] if decision.needs_reasons else []
    )
    return {
        BlockId.REASONS: {ActionId.REASONS: {"type": "checkboxes", "selected_options": reasons}},
        BlockId.WHAT_WORKS: {ActionId.WHAT_WORKS: payloads.text_input("導入が良い")},
        BlockId.WHAT_TO_CHANGE: {ActionId.WHAT_TO_CHANGE: payloads.text_input("語尾を整えて")},
        BlockId.COMMENT: {ActionId.FEEDBACK_COMMENT: payloads.text_input("確認しました")},
    }


def _resubmit_values() -> dict[str, Any]:
    return {
        BlockId.DRAFT: {ActionId.DRAFT: payloads.text_input("冬の限定ブレンドが登場（修正版）")},
        BlockId.PLANNED: {
            ActionId.PLANNED: {
                "type": "datetimepicker",
                "selected_date_time": int((NOW + timedelta(days=2)).timestamp()),
            }
        },
    }


def _publish_values() -> dict[str, Any]:
    return {
        BlockId.POST_URL: {
            ActionId.POST_URL: payloads.text_input(
                "https://x.com/example_corp/status/1861000000000000001", kind="url_text_input"
            )
        },
        BlockId.PUBLISHED_AT: {
            ActionId.PUBLISHED_AT: {"type": "datetimepicker", "selected_date_time": int(NOW.timestamp())}
        },
    }


async def _click(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps, action: str, value: str, user: str
) -> bool:
    """A button in the channel message; True when it opened a modal, False when the user was refused."""
    opened = len(fake_slack.calls_to("views.open"))
    told = len(fake_slack.calls_to("response_url"))
    response = await sender.interactive(
        payloads.block_action(action, value, user_id=user, response_url=fake_slack.response_url("click"))
    )
    assert (response.status, response.body) == (200, b"")
    await deps.inflight.drain(5)
    did_open = len(fake_slack.calls_to("views.open")) > opened
    was_told = len(fake_slack.calls_to("response_url")) > told
    assert did_open != was_told, "exactly one answer: a modal or a refusal"
    return did_open


async def _submit(
    sender: SlackSender, deps: Deps, callback: str, values: dict[str, Any], meta: ModalMeta, user: str
) -> bool:
    """The modal's submission (sent even when the click was refused, as a tampered client could);
    True when it was recorded (empty ack), False when refused (inline errors or a refusal view)."""
    response = await sender.interactive(
        payloads.view_submission(callback, values, private_metadata=meta.encode(), user_id=user)
    )
    assert response.status == 200
    await deps.inflight.drain(5)
    if not response.body:
        return True
    assert response.json()["response_action"] in ("errors", "update")
    return False


async def _told(fake_slack: FakeSlack, user: str, before: int) -> list[str]:
    await asyncio.sleep(0)
    dm = "D" + user[1:]
    return [m["text"] for m in fake_slack.messages(dm)[before:]]


@pytest.mark.parametrize(("action", "role", "allowed"), CELLS)
async def test_authorization_matrix(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps, action: str, role: str, allowed: bool
) -> None:
    user = ROLES[role]
    t = deps.t
    if role == "delegate":
        await _away_with_delegate(deps)
    if action in DECISIONS:
        action_id, decision, callback = DECISIONS[action]
        meta = await _new_request(sender, deps, Status.PENDING)
        assert meta.ref is not None
        assert await _click(sender, fake_slack, deps, action_id, meta.ref.encode(), user) is allowed
        before = await _state(deps)
        step = None if decision is Decision.COMMENT else 0  # what the modal carries
        recorded = await _submit(
            sender, deps, callback, _feedback(decision), ModalMeta(meta.ref, decision, step), user
        )
        assert recorded is allowed
        assert (await _state(deps) != before) is allowed
        if allowed and role == "delegate" and decision is not Decision.COMMENT:
            async with deps.sessions() as session:
                data = await session.scalar(select(ReviewEvent.data).order_by(ReviewEvent.id.desc()).limit(1))
            assert data == {"as": "delegate", "on_behalf_of": [MANAGER]}  # the audit trail says so
    elif action == "resubmit":
        meta = await _new_request(sender, deps, Status.CHANGES_REQUESTED)
        assert meta.ref is not None
        assert await _click(sender, fake_slack, deps, ActionId.RESUBMIT, meta.ref.encode(), user) is allowed
        before = await _state(deps)
        assert await _submit(sender, deps, CallbackId.RESUBMIT, _resubmit_values(), meta, user) is allowed
        assert (await _state(deps) != before) is allowed
    elif action == "mark as published":
        meta = await _new_request(sender, deps, Status.APPROVED)
        assert meta.ref is not None
        assert await _click(sender, fake_slack, deps, ActionId.PUBLISH, meta.ref.encode(), user) is allowed
        before = await _state(deps)
        assert await _submit(sender, deps, CallbackId.PUBLISH, _publish_values(), meta, user) is allowed
        assert (await _state(deps) != before) is allowed
    elif action in ("/sns-kpi set", "/sns-kpi target"):
        sub = action.split()[1]
        before = await _state(deps)
        told = len(fake_slack.calls_to("response_url"))
        response = await sender.command(
            payloads.slash_command(
                "/sns-kpi",
                f"{sub} recruiting_entries 40",
                user_id=user,
                response_url=fake_slack.response_url("kpi"),
            )
        )
        assert response.status == 200
        await deps.inflight.drain(5)
        answer = fake_slack.calls_to("response_url")[told:]
        assert len(answer) == 1
        refusals = {t("kpi.errors.target_admins"), t("kpi.errors.setters_managers")}
        assert (answer[0].params.get("text") in refusals) is not allowed
        assert (await _state(deps) != before) is allowed
    elif action == "home: record value":
        # The form is checked before its ack from the directory's cache, which a running bot fills
        # at start-up (bot.app.start_background); a cold cache asks to submit again (test_directory).
        await deps.directory.warm(deps.slack)
        before = await _state(deps)
        values = {
            KpiBlockId.KPI: {KpiActionId.KPI: payloads.selected_option("recruiting_entries")},
            KpiBlockId.VALUE: {KpiActionId.VALUE: payloads.text_input("12")},
            KpiBlockId.MONTH: {KpiActionId.MONTH: payloads.selected_option("2026-11")},
        }
        response = await sender.interactive(
            payloads.view_submission(KpiCallbackId.RECORD, values, user_id=user)
        )
        assert response.status == 200
        await deps.inflight.drain(5)
        if allowed:
            assert response.body == b""
        else:
            assert response.json() == {
                "response_action": "errors",
                "errors": {KpiBlockId.KPI: t("kpi.errors.setters_managers")},
            }
        assert (await _state(deps) != before) is allowed
    else:
        home_view = {"id": "V0HOME0001", "type": "home", "state": {"values": {}}}
        dms = len(fake_slack.messages("D" + user[1:]))
        before = await _state(deps)
        if action == "home: digest preview":
            click = payloads.block_action(DigestActionId.HOME_PREVIEW, user_id=user, view=home_view)
            refusal = t("common.errors.not_admin")
        elif action == "home: name a delegate":
            named = MANAGER if user != MANAGER else MANAGER2
            click = payloads.block_action(
                AwayActionId.DELEGATE,
                user_id=user,
                view=home_view,
                action={"type": "users_select", "selected_user": named},
            )
            refusal = t("away.errors.away_managers")
        else:
            click = payloads.block_action(
                AwayActionId.AWAY_UNTIL,
                user_id=user,
                view=home_view,
                action={"type": "datepicker", "selected_date": (date(2026, 11, 25)).isoformat()},
            )
            refusal = t("away.errors.away_managers")
        response = await sender.interactive(click)
        assert (response.status, response.body) == (200, b"")
        await deps.inflight.drain(5)
        said = await _told(fake_slack, user, dms)
        assert (refusal in said) is not allowed
        if action in ("home: away mode", "home: name a delegate"):
            assert (await _state(deps) != before) is allowed
            if allowed and action == "home: away mode":  # the answer is the Home, showing the date
                await fake_slack.wait_for("views.publish")
                assert [c.params["user_id"] for c in fake_slack.calls_to("views.publish")] == [user]
            elif allowed:  # the Homes of both, showing who decides for whom
                await fake_slack.wait_for("views.publish", count=2)
                assert {c.params["user_id"] for c in fake_slack.calls_to("views.publish")} == {user, named}
            else:
                assert said == [refusal]
        else:
            assert await _state(deps) == before  # a preview posts nothing and stores nothing
            assert len(said) == (2 if allowed else 1)


STEP3 = "U0STEP3001"  # approves step 3 only; not a configured manager


@pytest.mark.parametrize(
    "role", ["admin", "manager", "manager outside the chain", "delegate"], ids=lambda r: r.replace(" ", "-")
)
async def test_an_approval_moves_a_multi_step_chain_exactly_one_step(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps, role: str
) -> None:
    """Multi-step chains × admin and managers: on a three-step chain ([manager], [other step],
    [step 3]), each approval by an admin, a manager, a manager outside the chain or a delegate moves
    the request exactly one step, and the same submission sent again (twice at once, too) changes
    nothing. On main an admin's repeated submission approved the next step as well."""
    from bot.review import commands
    from bot.review.policy import ResolvedStep

    user = ROLES[role]
    if role == "delegate":
        await _away_with_delegate(deps)
    async with deps.sessions.begin() as session:
        request = await commands.create_request(
            session,
            requester_id=OPERATOR,
            account_key="x_corp",
            text="冬の限定ブレンドが登場",
            planned_at=NOW + timedelta(days=2),
            link_url=None,
            feedback_wanted="",
            chain=(
                ResolvedStep((MANAGER,), "any"),
                ResolvedStep((OTHER_STEP,), "any"),
                ResolvedStep((STEP3,), "any"),
            ),
            now=NOW,
        )
    for step in range(3):
        async with deps.sessions() as session:
            row = await session.get(ReviewRequest, request.id)
            assert row is not None and (row.current_step, row.status) == (step, Status.PENDING)
            ref = RequestRef(row.id, row.revision, row.version)
        submission = payloads.view_submission(
            CallbackId.APPROVE,
            _feedback(Decision.APPROVE),
            private_metadata=ModalMeta(ref, Decision.APPROVE, step).encode(),
            user_id=user,
            view_id=f"V0STEP{step}",
        )
        replies = await asyncio.gather(*(sender.interactive(submission) for _ in range(2)))
        replies.append(await sender.interactive(submission))
        assert sorted(bool(r.body) for r in replies) == [False, True, True]  # one recorded, two refused
        await deps.inflight.drain(5)
    async with deps.sessions() as session:
        row = await session.get(ReviewRequest, request.id)
        events = (
            await session.execute(
                select(ReviewEvent.kind, ReviewEvent.actor_id, ReviewEvent.step, ReviewEvent.data)
                .where(ReviewEvent.kind != "requested")
                .order_by(ReviewEvent.id)
            )
        ).all()
    assert row is not None and row.status == Status.APPROVED
    first = {"as": "delegate", "on_behalf_of": [MANAGER]} if role == "delegate" else None
    as_first = first or {"as": "approver" if role == "manager" else "override"}
    assert [tuple(e) for e in events] == [
        ("step_approved", user, 0, as_first),
        ("step_approved", user, 1, {"as": "override"}),
        ("approved", user, 2, {"as": "override"}),
    ]
