"""Shared pieces of the reliability tests: a fake Slack that can fail *after* doing the work, payload
builders for the review flow, and store counters (I/O: the test store and the fake Slack)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from bot.review import commands, messages, queries
from bot.review.ids import ActionId, BlockId, CallbackId, Decision, ModalMeta
from bot.review.policy import ResolvedStep
from bot.review.records import RequestSnapshot
from bot.runtime.deps import Deps
from tests.conftest import MANAGER, MANAGER2, NOW, OPERATOR, REVIEW_CHANNEL
from tests.fakes import payloads
from tests.fakes.slack import _CALL_KEY, Call, FakeSlack

DRAFT = "冬の限定ブレンドが登場します。詳しくはサイトで。"


@dataclass(slots=True)
class _After:
    method: str
    drop: bool
    remaining: int
    when: Callable[[dict[str, Any]], bool] | None


class AfterFaultSlack(FakeSlack):
    """The fake Slack plus :meth:`fail_after`: Slack *did* the work, then the answer was lost.

    This is the case that decides whether a retry is safe: a 503 or a reset before the call ran
    (``FakeSlack.fail``) leaves nothing behind, but one after it (a post that went through) means a
    blind retry posts twice.
    """

    def __init__(self) -> None:
        super().__init__()
        self._after: list[_After] = []
        #: Calls refused by a ``fail`` fault before they ran.
        self.refused: list[Call] = []

    def processed(self, method: str) -> list[Call]:
        """Calls to ``method`` that Slack carried out (answered normally, or failed only afterwards)."""
        refused = {id(call) for call in self.refused}
        return [call for call in self.calls_to(method) if id(call) not in refused]

    def fail_after(
        self,
        method: str,
        *,
        drop: bool = False,
        times: int = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """The next ``times`` calls to ``method`` (matching ``when(params)``) are processed, then
        answered 503 (or the connection is dropped when ``drop``)."""
        self._after.append(_After(method, drop, times, when))

    async def _apply_fault(
        self, method: str, params: dict[str, Any], request: web.Request
    ) -> web.StreamResponse | None:
        answer = await super()._apply_fault(method, params, request)
        if answer is not None:
            self.refused.append(request[_CALL_KEY])
        return answer

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        response = await super()._handle_api(request)
        return self._after_fault(request.match_info["method"], request) or response

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        response = await super()._handle_response_url(request)
        return self._after_fault("response_url", request) or response

    def _after_fault(self, method: str, request: web.Request) -> web.StreamResponse | None:
        params = request[_CALL_KEY].params
        fault = next(
            (
                f
                for f in self._after
                if f.method == method and f.remaining > 0 and (f.when is None or f.when(params))
            ),
            None,
        )
        if fault is None:
            return None
        fault.remaining -= 1
        if fault.drop:
            assert request.transport is not None
            request.transport.abort()
            request.protocol.force_close()
            return web.Response()
        return web.Response(status=503, text="<html>503</html>", content_type="text/html")


def top_level(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [m for m in fake.messages(channel) if m.get("thread_ts", m["ts"]) == m["ts"]]


def replies(fake: FakeSlack, channel: str, ts: str) -> list[dict[str, Any]]:
    return [m for m in fake.messages(channel) if m.get("thread_ts") == ts and m["ts"] != ts]


def dm(user_id: str) -> str:
    """The DM channel the fake uses for a user."""
    return "D" + user_id[1:]


async def count(deps: Deps, model: Any, *where: Any) -> int:
    async with deps.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def settle(
    deps: Deps, fake: FakeSlack, *, at_least: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Let listener work after the ack (and Home publishes) finish."""
    if at_least is not None:
        await at_least()
    await deps.inflight.drain(15)


def request_values(*, text: str = DRAFT, reviewers: tuple[str, ...] = (MANAGER,)) -> dict[str, Any]:
    """``state.values`` of a filled-in request modal for the X account."""
    return {
        BlockId.ACCOUNT: {ActionId.ACCOUNT: payloads.selected_option("x_corp")},
        BlockId.DRAFT: {ActionId.DRAFT: payloads.text_input(text)},
        BlockId.PLANNED: {
            ActionId.PLANNED: {
                "type": "datetimepicker",
                "selected_date_time": int((NOW + timedelta(days=2)).timestamp()),
            }
        },
        BlockId.LINK: {ActionId.LINK: payloads.text_input(None, kind="url_text_input")},
        f"{BlockId.REVIEWERS}.x_corp": {
            ActionId.REVIEWERS: {"type": "multi_users_select", "selected_users": list(reviewers)}
        },
        BlockId.WANTED: {ActionId.WANTED: payloads.text_input(None)},
    }


def request_submission(*, view_id: str = "V0REQ0001", user: str = OPERATOR) -> dict[str, Any]:
    return payloads.view_submission(CallbackId.REQUEST, request_values(), user_id=user, view_id=view_id)


def decision_submission(
    request: RequestSnapshot, user: str, *, decision: Decision = Decision.APPROVE, view_id: str = "V0DEC0001"
) -> dict[str, Any]:
    """An approve (or reject / request-changes) modal as the reviewer submits it."""
    step = None if decision is Decision.COMMENT else request.current_step
    meta = ModalMeta(ref=request.ref, decision=decision, step=step).encode()
    values: dict[str, Any] = {
        BlockId.WHAT_WORKS: {ActionId.WHAT_WORKS: payloads.text_input(None)},
        BlockId.COMMENT: {ActionId.FEEDBACK_COMMENT: payloads.text_input(f"{user} より")},
    }
    callback = CallbackId.APPROVE
    if decision is not Decision.APPROVE:
        callback = CallbackId.FEEDBACK
        values[BlockId.REASONS] = {
            ActionId.REASONS: {"type": "checkboxes", "selected_options": [{"value": "tone"}]}
        }
        values[BlockId.WHAT_TO_CHANGE] = {ActionId.WHAT_TO_CHANGE: payloads.text_input("語尾を直す")}
    return payloads.view_submission(callback, values, private_metadata=meta, user_id=user, view_id=view_id)


def decision_click(
    fake: FakeSlack,
    request: RequestSnapshot,
    user: str,
    *,
    action: ActionId = ActionId.APPROVE,
    name: str = "click",
) -> dict[str, Any]:
    message = payloads.bot_message(text="review", ts=request.message_ts or "1.0")
    return payloads.block_action(
        action,
        request.ref.encode(),
        user_id=user,
        channel_id=REVIEW_CHANNEL,
        message=message,
        response_url=fake.response_url(name),
    )


async def seed_request(
    deps: Deps, *, approvers: tuple[str, ...] = (MANAGER, MANAGER2), requester: str = OPERATOR
) -> RequestSnapshot:
    """A pending request already posted to the review channel, as a submission leaves it."""
    async with deps.sessions.begin() as session:
        request = await commands.create_request(
            session,
            requester_id=requester,
            account_key="x_corp",
            text=DRAFT,
            planned_at=NOW + timedelta(days=2),
            link_url=None,
            feedback_wanted="",
            chain=(ResolvedStep(approvers, "any"),),
            now=NOW,
        )
    message = messages.build_review_message(request, settings=deps.settings, t=deps.t)
    posted = await deps.slack.chat_postMessage(channel=REVIEW_CHANNEL, **message.kwargs())
    async with deps.sessions.begin() as session:
        await commands.attach_message(
            session, request_id=request.id, channel_id=REVIEW_CHANNEL, message_ts=posted["ts"]
        )
        return await queries.get_request(session, request_id=request.id)
