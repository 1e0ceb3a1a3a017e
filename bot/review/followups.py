"""The requester's follow-ups, from the channel message or their DM: resubmit after changes were
requested, and mark as published once approved (Slack I/O).

As with a decision, the submission is checked against the store before its ack; a refusal turns
the modal into the explanation and form problems show inline.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import BotError
from bot.kpi.measure import measure_published_post
from bot.review import delivery
from bot.review.checks import check_requester
from bot.review.commands import publish, resubmit
from bot.review.edge import ReviewEdge, user_of
from bot.review.forms import parse_publish_modal, parse_request_modal, validate_publish, validate_request
from bot.review.ids import ActionId, BlockId, CallbackId, DeliveryKind, ModalMeta, RequestRef, Status
from bot.review.messages import draft_error
from bot.review.modals import build_publish_modal, build_resubmit_modal
from bot.review.publishing import check_post_url
from bot.review.queries import get_request
from bot.slack.locales import MODAL_WAIT
from bot.slack.outbox import Owed

if TYPE_CHECKING:
    from bot.runtime.deps import Deps
    from bot.slack.router import Router


class FollowUpListeners(ReviewEdge):
    # -- resubmit ---------------------------------------------------------------------------

    async def handle_resubmit_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        ref = RequestRef.decode((body.get("actions") or [{}])[0].get("value"))
        actor = user_of(body)
        snapshot = await self._in_store(
            lambda s: check_requester(s, ref=ref, actor_id=actor, expected=Status.CHANGES_REQUESTED)
        )
        t = await self._deps.locales.for_user(actor, wait=MODAL_WAIT)
        modal = build_resubmit_modal(snapshot, settings=self._settings, t=t)
        await client.views_open(trigger_id=body["trigger_id"], view=modal)

    async def handle_resubmit_submission(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        view: dict[str, Any] = body.get("view") or {}
        now, actor = self._deps.clock.now(), user_of(body)
        t = self._deps.locales.known(actor)  # before the ack: no Slack call
        ref = _submitted_ref(view)
        form = parse_request_modal((view.get("state") or {}).get("values") or {})

        async def check_and_resubmit(session: AsyncSession) -> dict[str, str] | Owed:
            """Inline errors of the form, or the key of the delivery owed for the new revision."""
            before = await check_requester(
                session, ref=ref, actor_id=actor, expected=Status.CHANGES_REQUESTED
            )
            errors = validate_request(
                form,
                settings=self._settings,
                t=t,
                now=now,
                requester=actor,
                account_key=before.account_key,
                check_reviewers=False,
            )
            if errors:
                return errors
            preview = replace(
                before,
                text=form.text,
                planned_at=form.planned_at,
                due_at=form.due,
                link_url=form.link_url,
                feedback_wanted=form.wanted or before.feedback_wanted,
                revision=before.revision + 1,
                status=Status.PENDING,
                current_step=0,
                steps=tuple(replace(step, approved_by=()) for step in before.steps),
            )
            too_long = draft_error(preview, settings=self._settings, t=t)
            if too_long:
                return too_long
            result = await resubmit(
                session,
                ref=ref,
                actor_id=actor,
                text=form.text,
                planned_at=form.planned_at,
                link_url=form.link_url,
                note=form.wanted,
                now=now,
                due_at=form.due_at,
            )
            payload = delivery.resubmit_payload(result)
            return await delivery.owe(session, kind=DeliveryKind.RESUBMITTED, payload=payload, now=now)

        try:
            result = await self._in_store(check_and_resubmit, write=True, before_ack=True)
        except BotError as error:
            await self._refuse_submission(ack, error, block_id=BlockId.DRAFT, user_id=actor)
            return
        if isinstance(result, dict):
            await ack(response_action="errors", errors=result)
            return
        await ack()
        await self._delivery.deliver_now(result, tell=actor)

    # -- publish ----------------------------------------------------------------------------

    async def handle_publish_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        ref = RequestRef.decode((body.get("actions") or [{}])[0].get("value"))
        actor = user_of(body)
        snapshot = await self._in_store(
            lambda s: check_requester(
                s, ref=ref, actor_id=actor, expected=Status.APPROVED, is_admin=self._settings.is_admin(actor)
            )
        )
        t = await self._deps.locales.for_user(actor, wait=MODAL_WAIT)
        modal = build_publish_modal(snapshot, settings=self._settings, t=t, now=self._deps.clock.now())
        await client.views_open(trigger_id=body["trigger_id"], view=modal)

    async def handle_publish_submission(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        view: dict[str, Any] = body.get("view") or {}
        now, actor = self._deps.clock.now(), user_of(body)
        t = self._deps.locales.known(actor)  # before the ack: no Slack call
        ref = _submitted_ref(view)
        form = parse_publish_modal((view.get("state") or {}).get("values") or {})
        window = timedelta(days=self._settings.review.publish_window_days)
        errors = validate_publish(form, t=t, now=now, window=window)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        assert form.published_at is not None  # validated above
        published_at = form.published_at

        async def record(session: AsyncSession) -> Owed:
            snapshot = await get_request(session, request_id=ref.request_id)
            account = self._settings.account(snapshot.account_key)
            if account is None:
                raise BotError("review.modal.errors.unknown_account", block_id=BlockId.POST_URL)
            check_post_url(account.platform, form.url, platform_name=t(f"platforms.names.{account.platform}"))
            result = await publish(
                session,
                ref=ref,
                actor_id=actor,
                is_admin=self._settings.is_admin(actor),
                account=account,
                url=form.url,
                published_at=published_at,
                now=now,
            )
            payload = delivery.publish_payload(result)
            return await delivery.owe(session, kind=DeliveryKind.PUBLISHED, payload=payload, now=now)

        try:
            owed = await self._in_store(record, write=True, before_ack=True)
        except BotError as error:
            await self._refuse_submission(ack, error, block_id=BlockId.POST_URL, user_id=actor)
            return
        await ack()
        await self._delivery.deliver_now(owed, tell=actor)
        # The post's metrics at once (and its id, for an Instagram URL), when the platform has a token.
        await measure_published_post(
            sessions=self._deps.sessions,
            settings=self._settings,
            platforms=self._deps.platforms,
            review_request_id=ref.request_id,
            now=self._deps.clock.now(),
        )


def register(app: Router, deps: Deps, sender: delivery.ReviewDelivery) -> None:
    """Resubmit and publish, action and submission (part of :func:`bot.review.listeners.register`)."""
    listeners = FollowUpListeners(deps, sender)
    track = deps.listener
    app.action(ActionId.RESUBMIT.value)(track(listeners.handle_resubmit_action, opens_modal=True))
    app.action(ActionId.PUBLISH.value)(track(listeners.handle_publish_action, opens_modal=True))
    app.view(CallbackId.RESUBMIT.value)(track(listeners.handle_resubmit_submission))
    app.view(CallbackId.PUBLISH.value)(track(listeners.handle_publish_submission))


def _submitted_ref(view: dict[str, Any]) -> RequestRef:
    """The request a resubmit or publish modal was opened for (its ``private_metadata``).

    Raises:
        BotError: ``review.errors.bad_reference`` when the modal does not name one.
    """
    meta = ModalMeta.decode(view.get("private_metadata"))
    if meta.ref is None:
        raise BotError("review.errors.bad_reference")
    return meta.ref
