"""The /sns-review modals: request, resubmit, the decision modals (approve; request changes, reject and
comment with structured feedback), mark as published, and the "not recorded" view (pure).

What they hold comes back through :mod:`bot.review.forms`, which reads the same block and action ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DateTimePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
    StaticSelectElement,
    UrlInputElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.config import AccountSettings, Settings
from bot.i18n import Translator
from bot.review.ids import ActionId, BlockId, CallbackId, Decision, ModalMeta, reviewers_block_id
from bot.review.labels import account_label, reason_label, who
from bot.review.messages import draft_blocks
from bot.review.records import RequestSnapshot
from bot.review.text import excerpt
from bot.slack.blocks import context, escape, link, mrkdwn, plain, truncate

#: Slack: a plain_text_input holds at most 3,000 characters (longer prefills are cut, with a notice).
INPUT_MAX = 3000
#: Slack: checkboxes take at most 10 options; more reasons switch to a multi-select.
CHECKBOXES_MAX = 10
#: Slack: modal titles, submit and close labels are at most 24 characters.
MODAL_TITLE_MAX = 24


def _modal(
    title: str, *, callback_id: str, blocks: Sequence[Block], meta: ModalMeta, submit: str, t: Translator
) -> View:
    return View(
        type="modal",
        callback_id=callback_id,
        title=plain(title, MODAL_TITLE_MAX),
        submit=plain(submit, MODAL_TITLE_MAX),
        close=plain(t("review.modal.cancel"), MODAL_TITLE_MAX),
        private_metadata=meta.encode(),
        blocks=list(blocks),
    )


def _text_input(
    block_id: str,
    action_id: str,
    *,
    label: str,
    initial: str | None = None,
    multiline: bool = True,
    optional: bool = True,
    placeholder: str | None = None,
    hint: str | None = None,
    max_length: int = INPUT_MAX,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=plain(label, 2000),
        optional=optional,
        hint=plain(hint, 2000) if hint else None,
        element=PlainTextInputElement(
            action_id=action_id,
            multiline=multiline,
            initial_value=initial or None,
            max_length=max_length,
            placeholder=plain(placeholder, 150) if placeholder else None,
        ),
    )


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def default_planned_at(now: datetime, *, tz: ZoneInfo) -> datetime:
    """The planned time a new form starts with: tomorrow 10:00 local."""
    local = now.astimezone(tz) + timedelta(days=1)
    return local.replace(hour=10, minute=0, second=0, microsecond=0).astimezone(UTC)


def _due_input(t: Translator, *, initial: datetime | None) -> InputBlock:
    """The optional due time of the review (empty: the planned publish time)."""
    return InputBlock(
        block_id=BlockId.DUE,
        label=plain(t("review.modal.due")),
        optional=True,
        hint=plain(t("review.modal.due_hint"), 2000),
        element=DateTimePickerElement(
            action_id=ActionId.DUE, initial_date_time=_epoch(initial) if initial is not None else None
        ),
    )


def _limit_text(account: AccountSettings, t: Translator) -> str:
    if account.max_length is None:
        return t("review.length.limit_none")
    if account.platform == "x":
        return t("review.length.limit_weighted", limit=f"{account.max_length:,}")
    return t("review.length.limit_plain", limit=f"{account.max_length:,}")


def _limits_hint(settings: Settings, t: Translator, account_key: str | None = None) -> str:
    """The chosen account's length limit (every account's when none is chosen yet)."""
    chosen = settings.account(account_key) if account_key else None
    accounts = [chosen] if chosen else list(settings.accounts)
    return t("review.modal.limits", limits=" / ".join(f"{a.name}: {_limit_text(a, t)}" for a in accounts))


def build_request_modal(
    *,
    settings: Settings,
    t: Translator,
    draft: str,
    reviewers: Sequence[str],
    now: datetime,
    account_key: str | None = None,
) -> View:
    """The ``/sns-review`` form. ``draft`` longer than a text input holds is cut, with a notice."""
    tz = settings.tz
    options = [
        Option(value=a.key, text=plain(truncate(account_label(a, a.key), 75))) for a in settings.accounts
    ]
    initial = next((o for o in options if o.value == account_key), options[0] if options else None)
    chosen = initial.value if initial is not None else None
    blocks: list[Block] = [context(t("review.modal.intro"))]
    if len(draft) > INPUT_MAX:
        blocks.append(
            context(t("review.modal.prefill_cut", length=f"{len(draft):,}", limit=f"{INPUT_MAX:,}"))
        )
    blocks += [
        InputBlock(
            block_id=BlockId.ACCOUNT,
            label=plain(t("review.modal.account")),
            # Choosing another account refills the reviewers and the length limit (views.update).
            dispatch_action=True,
            element=StaticSelectElement(action_id=ActionId.ACCOUNT, options=options, initial_option=initial),
        ),
        _text_input(
            BlockId.DRAFT,
            ActionId.DRAFT,
            label=t("review.modal.draft"),
            initial=draft[:INPUT_MAX],
            optional=False,
            placeholder=t("review.modal.draft_placeholder"),
            hint=_limits_hint(settings, t, chosen),
        ),
        InputBlock(
            block_id=BlockId.PLANNED,
            label=plain(t("review.modal.planned")),
            hint=plain(t("review.modal.planned_hint"), 2000),
            element=DateTimePickerElement(
                action_id=ActionId.PLANNED, initial_date_time=_epoch(default_planned_at(now, tz=tz))
            ),
        ),
        _due_input(t, initial=None),
        InputBlock(
            block_id=BlockId.LINK,
            label=plain(t("review.modal.link")),
            optional=True,
            hint=plain(t("review.modal.link_hint"), 2000),
            element=UrlInputElement(action_id=ActionId.LINK),
        ),
        InputBlock(
            block_id=reviewers_block_id(chosen or ""),
            label=plain(t("review.modal.reviewers")),
            hint=plain(t("review.modal.reviewers_hint"), 2000),
            element=UserMultiSelectElement(
                action_id=ActionId.REVIEWERS,
                initial_users=list(reviewers) or None,
                placeholder=plain(t("review.modal.reviewers_placeholder"), 150),
            ),
        ),
        _text_input(
            BlockId.WANTED,
            ActionId.WANTED,
            label=t("review.modal.wanted"),
            placeholder=t("review.modal.wanted_placeholder"),
            max_length=1000,
        ),
    ]
    return _modal(
        t("review.modal.title"),
        callback_id=CallbackId.REQUEST,
        blocks=blocks,
        meta=ModalMeta(),
        submit=t("review.modal.submit"),
        t=t,
    )


def build_resubmit_modal(request: RequestSnapshot, *, settings: Settings, t: Translator) -> View:
    """The form for a new revision, prefilled with the last text (account and reviewers stay)."""
    account = settings.account(request.account_key)
    blocks: list[Block] = [
        context(
            t(
                "review.resubmit.intro",
                account=escape(account_label(account, request.account_key)),
                revision=request.revision + 1,
            )
        ),
        _text_input(
            BlockId.DRAFT,
            ActionId.DRAFT,
            label=t("review.modal.draft"),
            initial=request.text[:INPUT_MAX],
            optional=False,
            hint=_limits_hint(settings, t, request.account_key),
        ),
        InputBlock(
            block_id=BlockId.PLANNED,
            label=plain(t("review.modal.planned")),
            hint=plain(t("review.modal.planned_hint"), 2000),
            element=DateTimePickerElement(
                action_id=ActionId.PLANNED,
                initial_date_time=_epoch(request.planned_at) if request.planned_at else None,
            ),
        ),
        # A due time of its own stays; one that followed the planned time follows it again.
        _due_input(t, initial=request.due_at if request.due_at != request.planned_at else None),
        InputBlock(
            block_id=BlockId.LINK,
            label=plain(t("review.modal.link")),
            optional=True,
            element=UrlInputElement(action_id=ActionId.LINK, initial_value=request.link_url or None),
        ),
        _text_input(
            BlockId.WANTED,
            ActionId.WANTED,
            label=t("review.resubmit.note"),
            placeholder=t("review.resubmit.note_placeholder"),
            max_length=1000,
        ),
    ]
    return _modal(
        t("review.resubmit.title"),
        callback_id=CallbackId.RESUBMIT,
        blocks=blocks,
        meta=ModalMeta(ref=request.ref),
        submit=t("review.resubmit.submit"),
        t=t,
    )


def _request_summary(request: RequestSnapshot, *, settings: Settings, t: Translator) -> Block:
    """One line about the request (the publish form: the requester knows their own draft)."""
    account = settings.account(request.account_key)
    return context(
        t(
            "review.feedback.about",
            requester=who(request.requester_id),
            account=escape(account_label(account, request.account_key)),
            revision=request.revision,
            excerpt=escape(excerpt(request.text, 120)),
        )
    )


def _decision_summary(request: RequestSnapshot, *, settings: Settings, t: Translator) -> list[Block]:
    """What a decision modal shows of the request: who, which account, revision and step, and the
    *whole* draft with its link (issue 13 item 5: reviewers see everything they approve)."""
    account = settings.account(request.account_key)
    blocks: list[Block] = [
        context(
            t(
                "review.feedback.about_step",
                requester=who(request.requester_id),
                account=escape(account_label(account, request.account_key)),
                revision=request.revision,
                step=request.current_step + 1,
                steps=max(len(request.steps), 1),
            )
        ),
        *draft_blocks(request.text),
    ]
    if request.link_url:
        blocks.append(context(t("review.message.link", link=link(request.link_url, request.link_url))))
    return blocks


def _decision_meta(request: RequestSnapshot, decision: Decision) -> ModalMeta:
    """A decision modal's metadata: the request as shown and, but for comments, the step it shows."""
    step = None if decision is Decision.COMMENT else request.current_step
    return ModalMeta(ref=request.ref, decision=decision, step=step)


def _reasons_input(*, settings: Settings, t: Translator, required: bool) -> InputBlock:
    options = [
        Option(value=key, text=plain(reason_label(key, settings=settings, t=t)))
        for key in settings.review.reasons
    ]
    element: CheckboxesElement | StaticMultiSelectElement
    if len(options) <= CHECKBOXES_MAX:
        element = CheckboxesElement(action_id=ActionId.REASONS, options=options)
    else:
        element = StaticMultiSelectElement(
            action_id=ActionId.REASONS,
            options=options,
            placeholder=plain(t("review.feedback.reasons_placeholder")),
        )
    return InputBlock(
        block_id=BlockId.REASONS,
        label=plain(t("review.feedback.reasons_required" if required else "review.feedback.reasons")),
        optional=not required,
        element=element,
    )


def build_feedback_modal(
    request: RequestSnapshot, *, decision: Decision, settings: Settings, t: Translator
) -> View:
    """Structured feedback for Request changes, Reject or Comment (reasons required for the first two)."""
    blocks: list[Block] = [
        context(t(f"review.feedback.intro.{decision.value}")),
        *_decision_summary(request, settings=settings, t=t),
    ]
    if decision.needs_reasons:
        blocks.append(_reasons_input(settings=settings, t=t, required=True))
    blocks += [
        _text_input(
            BlockId.WHAT_WORKS,
            ActionId.WHAT_WORKS,
            label=t("review.feedback.what_works"),
            placeholder=t("review.feedback.what_works_placeholder"),
        ),
        _text_input(
            BlockId.WHAT_TO_CHANGE,
            ActionId.WHAT_TO_CHANGE,
            label=t("review.feedback.what_to_change"),
            placeholder=t("review.feedback.what_to_change_placeholder"),
        ),
        _text_input(
            BlockId.COMMENT,
            ActionId.FEEDBACK_COMMENT,
            label=t("review.feedback.comment"),
        ),
    ]
    if not decision.needs_reasons:
        blocks.append(_reasons_input(settings=settings, t=t, required=False))
    return _modal(
        t(f"review.feedback.title.{decision.value}"),
        callback_id=CallbackId.FEEDBACK,
        blocks=blocks,
        meta=_decision_meta(request, decision),
        submit=t(f"review.feedback.submit.{decision.value}"),
        t=t,
    )


def build_approve_modal(request: RequestSnapshot, *, settings: Settings, t: Translator) -> View:
    """Approve with an optional comment (the submit button is the approval)."""
    blocks: list[Block] = [
        context(t("review.feedback.intro.approve")),
        *_decision_summary(request, settings=settings, t=t),
        _text_input(
            BlockId.WHAT_WORKS,
            ActionId.WHAT_WORKS,
            label=t("review.feedback.what_works"),
            placeholder=t("review.feedback.what_works_placeholder"),
        ),
        _text_input(BlockId.COMMENT, ActionId.FEEDBACK_COMMENT, label=t("review.feedback.comment")),
    ]
    return _modal(
        t("review.feedback.title.approve"),
        callback_id=CallbackId.APPROVE,
        blocks=blocks,
        meta=_decision_meta(request, Decision.APPROVE),
        submit=t("review.feedback.submit.approve"),
        t=t,
    )


def build_publish_modal(
    request: RequestSnapshot, *, settings: Settings, t: Translator, now: datetime
) -> View:
    blocks: list[Block] = [
        context(t("review.publish.intro")),
        _request_summary(request, settings=settings, t=t),
        InputBlock(
            block_id=BlockId.POST_URL,
            label=plain(t("review.publish.url")),
            hint=plain(t("review.publish.url_hint"), 2000),
            element=UrlInputElement(action_id=ActionId.POST_URL),
        ),
        InputBlock(
            block_id=BlockId.PUBLISHED_AT,
            label=plain(t("review.publish.published_at")),
            element=DateTimePickerElement(action_id=ActionId.PUBLISHED_AT, initial_date_time=_epoch(now)),
        ),
    ]
    return _modal(
        t("review.publish.title"),
        callback_id=CallbackId.PUBLISH,
        blocks=blocks,
        meta=ModalMeta(ref=request.ref),
        submit=t("review.publish.submit"),
        t=t,
    )


def build_refusal_view(text: str, *, t: Translator) -> View:
    """What a submitted modal turns into when the store refused it (mrkdwn, so mentions render)."""
    return View(
        type="modal",
        title=plain(t("review.errors.not_recorded_title"), MODAL_TITLE_MAX),
        close=plain(t("review.errors.close"), MODAL_TITLE_MAX),
        blocks=[mrkdwn(text)],
    )
