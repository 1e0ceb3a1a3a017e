"""What the review loop owes Slack after a change is stored: the request message (posted or updated),
the thread reply and the requester's DM — delivered right after the ack, and by the outbox sweep
when Slack failed past its retries (Slack I/O).

Each change writes one outbox item in its own transaction (:func:`owe`); the deliveries below are
safe to repeat: the message is re-rendered from the store, thread posts carry a key derived from
the item (found, not posted again, after an ambiguous failure), and the steps done are recorded.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import MutableSet
from dataclasses import asdict, replace
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import db
from bot.away.queries import away_until_by_user, delegates_while_away
from bot.config import is_usergroup_id
from bot.review.asks import build_ask_dm, to_ask
from bot.review.commands import attach_message
from bot.review.ids import Decision, DeliveryKind, Outcome, Status
from bot.review.messages import build_review_message
from bot.review.notices import (
    build_created_dm,
    build_decision_dm,
    build_decision_reply,
    build_published_reply,
    build_resubmit_reply,
)
from bot.review.queries import get_request
from bot.review.records import DecisionResult, Feedback, PublishResult, RequestSnapshot, ResubmitResult
from bot.slack import outbox
from bot.slack.blocks import Message
from bot.slack.posting import post_once

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

#: Who is away today (last away day) and who decides for them (App Home), for the request message.
Away = tuple[dict[str, date], dict[str, str]]


class _Done(StrEnum):
    """The steps of a delivery already done (kept with the outbox item between attempts); ``…?``:
    tried, and it may have been posted (the next attempt looks for it first)."""

    MESSAGE = "message"
    MESSAGE_TRIED = "message?"
    THREAD = "thread"
    THREAD_TRIED = "thread?"
    DM = "dm"


#: Slack errors after which the request message is posted again (it was deleted or cannot be edited).
_MESSAGE_GONE = ("message_not_found", "channel_not_found", "cant_update_message")


async def owe(
    session: AsyncSession, *, kind: DeliveryKind, payload: dict[str, Any], now: datetime
) -> outbox.Owed:
    """Owe the Slack side of a change in the change's own transaction; returns the item, which the
    listener delivers right after its ack."""
    key = f"{kind.value}:{payload.get('request_id')}:{uuid.uuid4().hex}"
    return await outbox.enqueue(session, kind=kind.value, key=key, payload={**payload, "key": key}, now=now)


def decision_payload(result: DecisionResult) -> dict[str, Any]:
    """The outbox payload of a decision (:meth:`ReviewDelivery.deliver_decided` reads it back)."""
    return {
        "request_id": result.request.id,
        "decision": result.decision.value,
        "actor_id": result.actor_id,
        "feedback": {**asdict(result.feedback), "reasons": list(result.feedback.reasons)},
        "outcome": result.outcome.value,
        "at": result.at.isoformat(),
        "step": result.step,
        "on_behalf_of": list(result.on_behalf_of),
    }


def resubmit_payload(result: ResubmitResult) -> dict[str, Any]:
    """The outbox payload of a new revision."""
    return {
        "request_id": result.request.id,
        "previous_text": result.previous_text,
        "at": result.at.isoformat(),
    }


def publish_payload(result: PublishResult) -> dict[str, Any]:
    """The outbox payload of "marked as published"."""
    return {
        "request_id": result.request.id,
        "url": result.url,
        "published_at": result.published_at.isoformat(),
    }


def _refresh_homes(deps: Deps, snapshot: RequestSnapshot) -> None:
    """The requester's and every approver's Home show this request; republish them (coalesced). A
    user group standing in for its members (bot.review.approvers) has no Home."""
    people = (u for step in snapshot.steps for u in step.approvers if not is_usergroup_id(u))
    deps.home.refresh({snapshot.requester_id, *people})


class ReviewDelivery:
    """The Slack side of stored review changes (also used by the listeners for their first try)."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def register(self) -> None:
        box = self._deps.outbox
        box.register(DeliveryKind.CREATED, self.deliver_created)
        box.register(DeliveryKind.DECIDED, self.deliver_decided)
        box.register(DeliveryKind.RESUBMITTED, self.deliver_resubmitted)
        box.register(DeliveryKind.PUBLISHED, self.deliver_published)

    # -- reading ------------------------------------------------------------------------------

    async def _with_away(self, request_id: int) -> tuple[RequestSnapshot, Away]:
        """The request as it is now, who is away today and who decides for them: what its channel
        message shows."""
        today = self._deps.clock.now().astimezone(self._deps.settings.tz).date()

        async def read(session: AsyncSession) -> tuple[RequestSnapshot, Away]:
            snapshot = await get_request(session, request_id=request_id)
            away = await away_until_by_user(session, on=today), await delegates_while_away(session, on=today)
            return snapshot, away

        async def unit() -> tuple[RequestSnapshot, Away]:
            async with db.unit_of_work(self._deps.sessions) as session:
                return await read(session)

        return await db.with_retry(unit)

    def _review_message(self, snapshot: RequestSnapshot, away: Away) -> Message:
        away_until, delegates = away
        return build_review_message(
            snapshot, settings=self._deps.settings, t=self._deps.t, away=away_until, delegates=delegates
        )

    # -- the request message ------------------------------------------------------------------

    async def post_message(
        self, snapshot: RequestSnapshot, away: Away, *, key: str | None = None, retry: bool = False
    ) -> RequestSnapshot:
        """Post the request message to the review channel exactly once and store where it went."""
        deps = self._deps
        _refresh_homes(deps, snapshot)
        message = self._review_message(snapshot, away)
        channel = deps.settings.review.channel
        posted = await post_once(deps.slack, channel=channel, message=message, key=key, look_first=retry)

        async def unit() -> None:
            async with db.unit_of_work(deps.sessions, write=True) as session:
                await attach_message(
                    session, request_id=snapshot.id, channel_id=posted.channel, message_ts=posted.ts
                )

        await db.with_retry(unit)
        return replace(snapshot, channel_id=posted.channel, message_ts=posted.ts)

    async def refresh_message(
        self, request_id: int, *, key: str | None = None, retry: bool = False
    ) -> RequestSnapshot:
        """Re-render the channel message from the store as it is *now* (the latest of several quick
        decisions wins); a deleted message is posted again and its new ts stored."""
        snapshot, away = await self._with_away(request_id)
        _refresh_homes(self._deps, snapshot)
        message = self._review_message(snapshot, away)
        if snapshot.channel_id and snapshot.message_ts:
            try:
                await self._deps.slack.chat_update(
                    channel=snapshot.channel_id, ts=snapshot.message_ts, **message.kwargs()
                )
                return snapshot
            except SlackApiError as exc:
                if exc.response.get("error") not in _MESSAGE_GONE:
                    raise
                log.warning(
                    "review %s: message %s is gone (%s); posting it again",
                    request_id,
                    snapshot.message_ts,
                    exc.response.get("error"),
                )
        return await self.post_message(snapshot, away, key=key and f"{key}:message", retry=retry)

    async def _thread(
        self, snapshot: RequestSnapshot, message: Message, *, key: str, done: MutableSet[str]
    ) -> None:
        """Reply in the request's thread once (``done`` remembers an attempt that may have posted)."""
        if _Done.THREAD in done:
            return
        retry = _Done.THREAD_TRIED in done or outbox.MAYBE_DONE in done
        done.add(_Done.THREAD_TRIED)
        channel = snapshot.channel_id or self._deps.settings.review.channel
        await post_once(
            self._deps.slack,
            channel=channel,
            message=message,
            thread_ts=snapshot.message_ts,
            key=f"{key}:thread",
            look_first=retry,
        )
        done.add(_Done.THREAD)

    async def _dm(self, user_id: str, message: Message, *, done: MutableSet[str]) -> None:
        """A DM at least once (reading a DM back needs im:history, which the app does not ask for)."""
        if _Done.DM in done:
            return
        await self._deps.slack.chat_postMessage(channel=user_id, **message.kwargs())
        done.add(_Done.DM)

    async def _ask(
        self, snapshot: RequestSnapshot, *, done: MutableSet[str], away: Away | None = None
    ) -> None:
        """With ``[review] dm_approvers``: DM each approver the request now waits on (its current step
        and revision; an away approver's delegate instead of them), once per delivery, in that
        approver's language. An approver Slack will never reach (``user_not_found``…) is logged and
        skipped; anything else is retried by the outbox. ``away``: as the caller read it with the
        request (else it is read here)."""
        deps = self._deps
        if not deps.settings.review.dm_approvers or snapshot.status is not Status.PENDING:
            return
        if away is None:
            _, away = await self._with_away(snapshot.id)
        away_until, delegates = away
        for user, on_behalf_of in to_ask(snapshot, away=away_until, delegates=delegates).items():
            mark = f"ask:{user}"
            if mark in done:
                continue
            t = await deps.locales.for_user(user)
            message = build_ask_dm(snapshot, settings=deps.settings, t=t, on_behalf_of=on_behalf_of)
            try:
                await deps.slack.chat_postMessage(channel=user, **message.kwargs())
            except SlackApiError as exc:
                if exc.response.get("error") not in outbox.PERMANENT:
                    raise
                log.warning(
                    "review %s: could not ask %s by DM: %s", snapshot.id, user, exc.response.get("error")
                )
            done.add(mark)

    async def _message(self, request_id: int, *, key: str, done: MutableSet[str]) -> RequestSnapshot:
        retry = _Done.MESSAGE_TRIED in done or outbox.MAYBE_DONE in done
        done.add(_Done.MESSAGE_TRIED)
        snapshot = await self.refresh_message(request_id, key=key, retry=retry)
        done.add(_Done.MESSAGE)
        return snapshot

    # -- deliveries (outbox kinds) --------------------------------------------------------------

    async def deliver_created(self, payload: dict[str, Any], done: MutableSet[str]) -> None:
        deps, key = self._deps, str(payload["key"])
        snapshot, away = await self._with_away(int(payload["request_id"]))
        if snapshot.message_ts is None:
            retry = _Done.MESSAGE_TRIED in done or outbox.MAYBE_DONE in done
            done.add(_Done.MESSAGE_TRIED)
            try:
                snapshot = await self.post_message(snapshot, away, key=f"{key}:message", retry=retry)
            except SlackApiError as exc:
                error = str(exc.response.get("error"))
                if error not in outbox.PERMANENT:
                    raise
                # The channel is gone or the bot is not in it: tell the requester, once.
                log.error(
                    "review %s: could not post to %s: %s", snapshot.id, deps.settings.review.channel, error
                )
                t = await deps.locales.for_user(snapshot.requester_id)
                await deps.slack.chat_postMessage(
                    channel=snapshot.requester_id, text=t("review.errors.channel_failed", error=error)
                )
                return
        done.add(_Done.MESSAGE)
        if _Done.DM not in done:
            t = await deps.locales.for_user(snapshot.requester_id)  # a DM: the requester's language
            await self._dm(
                snapshot.requester_id, build_created_dm(snapshot, settings=deps.settings, t=t), done=done
            )
        await self._ask(snapshot, done=done, away=away)
        # A manager whom a first review reaches is introduced to the bot once (bot.welcome).
        step = snapshot.step
        deps.welcome.greet([*(step.approvers if step else ()), *snapshot.invitees], via="review")

    async def deliver_decided(self, payload: dict[str, Any], done: MutableSet[str]) -> None:
        deps, key = self._deps, str(payload["key"])
        request_id = int(payload["request_id"])
        outcome = Outcome(payload["outcome"])
        if outcome is not Outcome.COMMENTED and _Done.MESSAGE not in done:
            snapshot = await self._message(request_id, key=key, done=done)
        else:
            snapshot, _away = await self._with_away(request_id)
        feedback = payload["feedback"]
        result = DecisionResult(
            request=snapshot,
            decision=Decision(payload["decision"]),
            actor_id=str(payload["actor_id"]),
            feedback=Feedback(
                what_works=feedback.get("what_works", ""),
                what_to_change=feedback.get("what_to_change", ""),
                comment=feedback.get("comment", ""),
                reasons=tuple(feedback.get("reasons") or ()),
            ),
            outcome=outcome,
            at=datetime.fromisoformat(payload["at"]),
            step=int(payload.get("step") or 0),
            on_behalf_of=tuple(str(u) for u in payload.get("on_behalf_of") or ()),
        )
        settings, t = deps.settings, deps.t  # the thread: the channel's language
        await self._thread(snapshot, build_decision_reply(result, settings=settings, t=t), key=key, done=done)
        if _Done.DM not in done:
            mine = await deps.locales.for_user(snapshot.requester_id)  # the DM: the requester's
            await self._dm(
                snapshot.requester_id, build_decision_dm(result, settings=settings, t=mine), done=done
            )
        if outcome is Outcome.ADVANCED:  # the next step's approvers are asked now
            await self._ask(snapshot, done=done)
            # The review reaches them for the first time: a manager among them is introduced once.
            step = snapshot.step
            deps.welcome.greet(step.approvers if step else (), via="review")

    async def deliver_resubmitted(self, payload: dict[str, Any], done: MutableSet[str]) -> None:
        key = str(payload["key"])
        snapshot = await self._message(int(payload["request_id"]), key=key, done=done)
        result = ResubmitResult(
            snapshot, str(payload["previous_text"]), datetime.fromisoformat(payload["at"])
        )
        await self._thread(snapshot, build_resubmit_reply(result, t=self._deps.t), key=key, done=done)
        await self._ask(snapshot, done=done)  # a new revision starts again at the first step

    async def deliver_published(self, payload: dict[str, Any], done: MutableSet[str]) -> None:
        key = str(payload["key"])
        snapshot = await self._message(int(payload["request_id"]), key=key, done=done)
        result = PublishResult(snapshot, str(payload["url"]), datetime.fromisoformat(payload["published_at"]))
        reply = build_published_reply(result, settings=self._deps.settings, t=self._deps.t)
        await self._thread(snapshot, reply, key=key, done=done)

    # -- after the ack --------------------------------------------------------------------------

    async def deliver_now(self, owed: outbox.Owed, *, tell: str | None = None) -> None:
        """Deliver ``key`` right after the ack; when Slack fails past its retries, tell ``tell``
        (the person who acted) that the change is saved and Slack will catch up."""
        if await self._deps.outbox.deliver(owed) or tell is None:
            return
        try:
            t = await self._deps.locales.for_user(tell)
            await self._deps.slack.chat_postMessage(channel=tell, text=t("review.delivery.saved_later"))
        except outbox.FAILURES as exc:  # Slack is still away; the sweep delivers the rest
            log.warning("could not tell %s that Slack will be updated later: %r", tell, exc)
