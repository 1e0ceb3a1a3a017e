"""/sns-review listeners: the command (and the App Home's "Ask for a review" button, the same path),
the request modal, and the reviewers' decisions; :func:`register` wires every review listener
(Slack I/O).

Modal submissions are checked against the store *before* the ack (one short transaction), so a
refused decision turns the modal into a "not recorded" view (mentions render there) and form
problems show inline, with nothing typed lost. Everything else that talks to Slack happens after
the ack. Approve opens a small modal with an optional comment; its submit button is the approval.
The requester's resubmit and publish are in :mod:`bot.review.followups`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.away.queries import delegators_of
from bot.config import ApprovalStep, is_user_id, is_usergroup_id
from bot.errors import BotError
from bot.keys import claim_key
from bot.review import approvers, delivery, followups
from bot.review.checks import check_can_decide
from bot.review.commands import decide, insert_request
from bot.review.edge import ReviewEdge, user_of
from bot.review.forms import parse_feedback_modal, parse_request_modal, validate_feedback, validate_request
from bot.review.ids import (
    ActionId,
    ApprovalMode,
    BlockId,
    CallbackId,
    Decision,
    DeliveryKind,
    ModalMeta,
    RequestRef,
    Subcommand,
)
from bot.review.listing import build_help, build_list
from bot.review.messages import ALL_DECISIONS, draft_error, preview_request
from bot.review.modals import build_approve_modal, build_feedback_modal, build_request_modal
from bot.review.policy import ResolvedStep, build_chain, invitees
from bot.review.queries import list_for
from bot.review.records import Decider, RequestSnapshot, StepView
from bot.review.refusals import ReviewNotAllowed
from bot.slack.locales import MODAL_WAIT
from bot.slack.outbox import Owed

if TYPE_CHECKING:
    from bot.runtime.deps import Deps
    from bot.slack.router import Router

log = logging.getLogger(__name__)

#: How long resolving user groups may take before a modal opens without them (3-second rule).
DIRECTORY_TIMEOUT = 1.2
#: How long, after a submission's ack, the bot waits for Slack to name the members of a user group
#: it did not know yet, before posting the request with the group itself as the approver.
GROUP_WAIT = 5.0


def _stand_ins(steps: Sequence[ResolvedStep] | Sequence[StepView]) -> list[str]:
    """User groups standing in for their members in ``steps`` (Slack had not named them yet)."""
    return list(dict.fromkeys(u for step in steps for u in step.approvers if is_usergroup_id(u)))


class ReviewListeners(ReviewEdge):
    # -- who decides, and who reviews ---------------------------------------------------------

    def _today(self) -> date:
        return self._deps.clock.now().astimezone(self._settings.tz).date()

    async def _is_manager(self, client: AsyncWebClient, user_id: str, *, before_ack: bool = False) -> bool:
        """A configured manager (user id, or member of a manager user group) or admin. Before an ack
        only the directory's cache is read (no Slack call); after it Slack may be asked briefly. A
        group whose members are not known (yet) is a "try again", never a guess either way."""
        if self._settings.is_manager(user_id) or self._settings.is_admin(user_id):
            return True
        directory = self._deps.directory
        if before_ack:
            answer = directory.is_manager_known(user_id)
        else:
            answer = await directory.is_manager_within(client, user_id, wait=DIRECTORY_TIMEOUT)
        if answer is None:
            log.warning("manager groups unknown for %s (Slack has not answered)", user_id)
            raise BotError("review.errors.roles_slow", block_id=BlockId.COMMENT)
        return answer

    async def _decider(self, session: AsyncSession, user_id: str, *, is_manager: bool) -> Decider:
        """The person deciding, with the away approvers who named them as delegate today."""
        return Decider(
            user_id=user_id,
            is_admin=self._settings.is_admin(user_id),
            is_manager=is_manager,
            delegators=await delegators_of(session, delegate=user_id, on=self._today()),
        )

    async def _expand(self, client: AsyncWebClient, ids: Sequence[str]) -> list[str]:
        """User ids and groups → user ids for a modal; a group Slack is slow to name is left out of
        the form (logged) and kept as a stand-in approver when the form is submitted."""
        return await self._deps.directory.expand(client, ids, wait=DIRECTORY_TIMEOUT)

    def _configured_steps(self, account_key: str | None) -> tuple[ApprovalStep, ...]:
        account = self._settings.account(account_key) if account_key else None
        if account is not None and account.approval:
            return account.approval
        return (ApprovalStep(approvers=self._settings.roles.managers, mode="any"),)

    async def _initial_reviewers(
        self, client: AsyncWebClient, account_key: str | None, requester: str
    ) -> list[str]:
        steps = self._configured_steps(account_key)
        return [u for u in await self._expand(client, steps[0].approvers) if u != requester]

    def _chain(self, *, account_key: str, requester: str) -> tuple[ResolvedStep, ...]:
        """The account's configured chain, whoever the requester picked (the policy is the floor),
        from the groups the directory already knows: no Slack call, it runs before the ack. A group
        it does not know stays in its step as itself (a stand-in); see :meth:`_resolve_stand_ins`."""
        directory = self._deps.directory
        configured = []
        for step in self._configured_steps(account_key):
            known = directory.expand_known(step.approvers)
            configured.append(ResolvedStep((*known.users, *known.unresolved), ApprovalMode(step.mode)))
        fallback = [
            *directory.expand_known(self._settings.roles.managers).users,
            *self._settings.roles.admins,
        ]
        return build_chain(configured=configured, requester=requester, fallback=fallback)

    async def _resolve_stand_ins(
        self, client: AsyncWebClient, request_id: int, groups: Sequence[str], *, wait: float = GROUP_WAIT
    ) -> bool:
        """After an ack: ask Slack for the members of user groups standing in as approvers of a request
        and put them in the groups' place; True when at least one group was replaced."""
        if not groups:
            return False
        directory, replaced = self._deps.directory, False
        fallback = [
            *directory.expand_known(self._settings.roles.managers).users,
            *self._settings.roles.admins,
        ]
        for group in groups:
            members = await directory.resolve(client, group, wait=wait)
            if members is None:
                log.warning(
                    "review %s: members of %s unknown; the group stays an approver", request_id, group
                )
                continue

            async def replace_group(
                session: AsyncSession, group: str = group, members: frozenset[str] = members
            ) -> bool:
                return await approvers.replace_group_approver(
                    session, request_id=request_id, group_id=group, members=members, fallback=fallback
                )

            replaced = await self._in_store(replace_group, write=True) or replaced
        return replaced

    # -- /sns-review ------------------------------------------------------------------------

    async def handle_review_command(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        command = body
        text = command.get("text") or ""
        word = text.strip().lower()
        if word == Subcommand.HELP:
            t = await self._deps.locales.for_user(command.get("user_id"))
            await respond(response_type="ephemeral", **build_help(self._settings, t).kwargs())
            return
        if word == Subcommand.LIST:
            await self._answer_list(command, respond)
            return
        requester = str(command.get("user_id") or "")
        await self._open_request_modal(
            client, trigger_id=command["trigger_id"], requester=requester, draft=text.strip("\n ")
        )

    async def handle_start_action(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """The App Home's "Ask for a review" button: the modal ``/sns-review`` opens, the same way."""
        await ack()
        await self._open_request_modal(
            client, trigger_id=body["trigger_id"], requester=user_of(body), draft=""
        )

    async def _open_request_modal(
        self, client: AsyncWebClient, *, trigger_id: str, requester: str, draft: str
    ) -> None:
        """The request modal with the first account's first-step reviewers preselected."""
        first = self._settings.accounts[0].key if self._settings.accounts else None
        reviewers = await self._initial_reviewers(client, first, requester)
        view = build_request_modal(
            settings=self._settings,
            t=await self._deps.locales.for_user(requester, wait=MODAL_WAIT),
            draft=draft,
            reviewers=reviewers,
            now=self._deps.clock.now(),
        )
        await client.views_open(trigger_id=trigger_id, view=view)

    async def _answer_list(self, command: dict[str, Any], respond: AsyncRespond) -> None:
        user_id = str(command.get("user_id") or "")
        result = await self._in_store(lambda session: list_for(session, user_id=user_id))
        message = build_list(result, settings=self._settings, t=await self._deps.locales.for_user(user_id))
        await respond(response_type="ephemeral", **message.kwargs())

    async def handle_account_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        """Another account was chosen in the request modal: refill reviewers and the length limit."""
        await ack()
        view = body.get("view") or {}
        action = (body.get("actions") or [{}])[0]
        account_key = (action.get("selected_option") or {}).get("value")
        if self._settings.account(account_key or "") is None:
            return
        form = parse_request_modal((view.get("state") or {}).get("values") or {})
        reviewers = await self._initial_reviewers(client, account_key, user_of(body))
        new_view = build_request_modal(
            settings=self._settings,
            t=await self._deps.locales.for_user(user_of(body)),
            draft=form.text,
            reviewers=reviewers,
            now=self._deps.clock.now(),
            account_key=account_key,
        )
        try:
            await client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=new_view)
        except SlackApiError as exc:
            # hash_conflict: the person changed the account again meanwhile; that update wins.
            log.info("request modal not refilled: %s", exc.response.get("error"))

    async def handle_request_submission(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        view: dict[str, Any] = body.get("view") or {}
        now, requester = self._deps.clock.now(), user_of(body)
        t = self._deps.locales.known(requester)  # before the ack: no Slack call
        form = parse_request_modal((view.get("state") or {}).get("values") or {})
        errors = validate_request(form, settings=self._settings, t=t, now=now, requester=requester)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        assert form.account_key is not None  # validated above
        account_key = form.account_key
        chain = self._chain(account_key=account_key, requester=requester)
        # A users select: a forged group id is not a pick (it would be mentioned, pinging the group).
        chosen = [u for u in form.reviewers if is_user_id(u)]
        invited = invitees(chosen=chosen, chain=chain, requester=requester)
        preview = preview_request(
            requester=requester,
            account_key=account_key,
            text=form.text,
            planned_at=form.planned_at,
            link_url=form.link_url,
            feedback_wanted=form.wanted,
            chain=chain,
            invitees=invited,
            now=now,
            due_at=form.due_at,
        )
        # A draft the review message cannot show whole is never sent to reviewers.
        too_long = draft_error(preview, settings=self._settings, t=t)
        if too_long:
            await ack(response_action="errors", errors=too_long)
            return

        async def create(session: AsyncSession) -> tuple[int, Owed] | None:
            # One modal, one request: a repeated delivery of the same submission creates nothing.
            if not await claim_key(session, key=f"review:view:{view.get('id')}:{view.get('hash')}", now=now):
                return None
            request_id = await insert_request(
                session,
                requester_id=requester,
                account_key=account_key,
                text=form.text,
                planned_at=form.planned_at,
                link_url=form.link_url,
                feedback_wanted=form.wanted,
                chain=chain,
                invitees=invited,
                now=now,
                due_at=form.due_at,
            )
            owed = await delivery.owe(
                session, kind=DeliveryKind.CREATED, payload={"request_id": request_id}, now=now
            )
            return request_id, owed

        try:
            created = await self._in_store(create, write=True, before_ack=True)
        except BotError as error:
            await self._refuse_submission(ack, error, block_id=BlockId.DRAFT, user_id=requester)
            return
        await ack()
        if created is None:
            log.info("request modal %s submitted twice; the second one is ignored", view.get("id"))
            return
        request_id, owed = created
        # Now Slack may be asked: name the members of groups that stood in, before anyone sees it.
        await self._resolve_stand_ins(client, request_id, _stand_ins(chain))
        self._deps.directory.refresh(client, self._deps.directory.configured_groups())
        await self._delivery.deliver_now(owed, tell=requester)

    # -- decisions --------------------------------------------------------------------------

    async def handle_decision_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        """Approve / Request changes / Reject / Comment: check the rules, then open the modal."""
        await ack()
        action = (body.get("actions") or [{}])[0]
        decision = Decision.from_action(str(action.get("action_id")))
        ref = RequestRef.decode(action.get("value"))
        actor = user_of(body)
        is_manager = await self._is_manager(client, actor)

        async def check(session: AsyncSession) -> RequestSnapshot:
            decider = await self._decider(session, actor, is_manager=is_manager)
            return await check_can_decide(session, ref=ref, decider=decider, decision=decision)

        resolved = False
        try:
            snapshot = await self._in_store(check)
        except ReviewNotAllowed:
            # A user group may stand in for its members (Slack had not named them when the request
            # was made): ask now, after the ack (briefly: the modal must open within 3 s; a fetch
            # that takes longer fills the cache for the next click), and check again.
            groups = await self._in_store(lambda s: approvers.stand_in_groups(s, request_id=ref.request_id))
            resolved = await self._resolve_stand_ins(client, ref.request_id, groups, wait=DIRECTORY_TIMEOUT)
            if not resolved:
                raise
            try:
                snapshot = await self._in_store(check)
            except ReviewNotAllowed:
                await self._delivery.refresh_message(ref.request_id)  # it still showed the group
                raise
        else:
            # Allowed anyway (a manager, an admin): still the moment to name a stand-in's members.
            groups = _stand_ins(snapshot.steps)
            if groups:
                resolved = await self._resolve_stand_ins(
                    client, ref.request_id, groups, wait=DIRECTORY_TIMEOUT
                )
                if resolved:
                    snapshot = await self._in_store(check)
        t = await self._deps.locales.for_user(actor, wait=MODAL_WAIT)
        if decision is Decision.APPROVE:
            modal = build_approve_modal(snapshot, settings=self._settings, t=t)
        else:
            modal = build_feedback_modal(snapshot, decision=decision, settings=self._settings, t=t)
        await client.views_open(trigger_id=body["trigger_id"], view=modal)
        if resolved:  # the channel message still showed the group; it now shows its members
            await self._delivery.refresh_message(ref.request_id)

    async def handle_decision_submission(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        view: dict[str, Any] = body.get("view") or {}
        now, actor = self._deps.clock.now(), user_of(body)
        t = self._deps.locales.known(actor)  # before the ack: no Slack call
        meta = ModalMeta.decode(view.get("private_metadata"))
        if meta.ref is None or meta.decision is None:
            raise BotError("review.errors.bad_reference")
        ref, decision = meta.ref, meta.decision
        feedback = parse_feedback_modal((view.get("state") or {}).get("values") or {})
        errors = validate_feedback(feedback, decision=decision, settings=self._settings, t=t)
        if errors:
            await ack(response_action="errors", errors=errors)
            return

        async def record(session: AsyncSession) -> Owed:
            decider = await self._decider(session, actor, is_manager=is_manager)
            result = await decide(
                session,
                ref=ref,
                decider=decider,
                decision=decision,
                feedback=feedback,
                now=now,
                seen_step=meta.step,
            )
            return await delivery.owe(
                session, kind=DeliveryKind.DECIDED, payload=delivery.decision_payload(result), now=now
            )

        try:
            is_manager = await self._is_manager(client, actor, before_ack=True)
            owed = await self._in_store(record, write=True, before_ack=True)
        except BotError as error:
            await self._refuse_submission(ack, error, block_id=BlockId.COMMENT, user_id=actor)
            if error.key == "review.errors.roles_slow":  # after the ack: ready for the next try
                self._deps.directory.refresh(client, self._deps.directory.configured_groups())
            return
        await ack()
        await self._delivery.deliver_now(owed, tell=actor)


def _command_opens_modal(body: dict[str, Any]) -> bool:
    """``/sns-review`` opens the request modal unless it asks for help or the list."""
    return str(body.get("text") or "").strip().lower() not in tuple(Subcommand)


def register(app: Router, deps: Deps) -> None:
    """Every review listener: the command, the Home's start button, the request modal, decisions
    (from the channel message and the App Home), resubmit and publish."""
    sender = delivery.ReviewDelivery(deps)
    sender.register()
    listeners = ReviewListeners(deps, sender)
    track = deps.listener
    app.command(deps.settings.slack.review_command)(
        track(listeners.handle_review_command, opens_modal=_command_opens_modal)
    )
    for start in (ActionId.START, ActionId.START_FROM_OLD_HOME):
        app.action(start.value)(track(listeners.handle_start_action, opens_modal=True))
    app.action(ActionId.ACCOUNT.value)(track(listeners.handle_account_action))
    for decision in ALL_DECISIONS:
        app.action(decision.action_id.value)(track(listeners.handle_decision_action, opens_modal=True))
    app.view(CallbackId.REQUEST.value)(track(listeners.handle_request_submission))
    app.view(CallbackId.FEEDBACK.value)(track(listeners.handle_decision_submission))
    app.view(CallbackId.APPROVE.value)(track(listeners.handle_decision_submission))
    followups.register(app, deps, sender)
