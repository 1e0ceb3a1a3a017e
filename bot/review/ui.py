"""Block Kit for /sns-review: the request, feedback, approve and publish modals, the review message and
its thread replies, DMs, reminders and the list, plus ``parse_*``/``validate_*`` of modal state (pure).

Every piece of user text (drafts, feedback, notes, URLs as labels) goes through ``escape``/``quote``,
so ``<!channel>``, ``<@U…>`` or ``<https://…|label>`` in a draft shows literally and pings nobody.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
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

from bot.config import AccountSettings, Settings, is_usergroup_id
from bot.i18n import Translator
from bot.review.ids import ActionId, BlockId, CallbackId, Decision, ModalMeta, Status
from bot.review.policy import ResolvedStep
from bot.review.publishing import check_published_at
from bot.review.records import (
    DecisionResult,
    Feedback,
    PublishForm,
    PublishResult,
    RequestForm,
    RequestList,
    RequestSnapshot,
    ResubmitResult,
    StepView,
)
from bot.review.text import DiffLine, check_length, excerpt, line_diff
from bot.slack.blocks import (
    MESSAGE_BLOCKS_MAX,
    MESSAGE_TEXT_BUDGET,
    Message,
    block_text_length,
    context,
    divider,
    escape,
    fields,
    fit_blocks,
    header,
    link,
    mrkdwn,
    plain,
    quote_sections,
    slack_date,
    truncate,
)

#: Slack: a plain_text_input holds at most 3,000 characters (longer prefills are cut, with a notice).
INPUT_MAX = 3000
#: Slack: checkboxes take at most 10 options; more reasons switch to a multi-select.
CHECKBOXES_MAX = 10
#: Slack: modal titles, submit and close labels are at most 24 characters.
MODAL_TITLE_MAX = 24
#: Lines of a draft diff shown in the thread (longer diffs end with "… and N more").
DIFF_LINES_MAX = 60

_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def who(user_id: str | None) -> str:
    """A mention for a Slack user id (or a user group standing in for its members as an approver,
    see :mod:`bot.review.approvers`); anything else is shown escaped (never a ping)."""
    if user_id and _ID_RE.match(user_id):
        return f"<@{user_id}>"
    if user_id and is_usergroup_id(user_id):
        return f"<!subteam^{user_id}>"
    return escape(user_id or "?")


def who_list(user_ids: Sequence[str], t: Translator) -> str:
    return ", ".join(who(u) for u in user_ids) if user_ids else t("common.words.none")


def local_time(moment: datetime, *, tz: ZoneInfo, t: Translator) -> str:
    """``moment`` as local text in the catalog's format (plain text: modals and fallbacks)."""
    local = moment.astimezone(tz)
    weekdays = t("review.format.weekdays").split(",")
    return t(
        "review.format.datetime",
        year=local.year,
        month=local.month,
        day=local.day,
        weekday=weekdays[local.weekday()],
        hh=f"{local.hour:02d}",
        mm=f"{local.minute:02d}",
    )


def when(moment: datetime | None, *, tz: ZoneInfo, t: Translator) -> str:
    """A ``<!date>`` token (each reader sees their own zone) with a local fallback."""
    if moment is None:
        return t("review.message.not_set")
    return slack_date(moment, local_time(moment, tz=tz, t=t))


def permalink(channel_id: str | None, ts: str | None) -> str | None:
    """A link to a message without an API call (Slack redirects it into the workspace)."""
    if not channel_id or not ts:
        return None
    return f"https://slack.com/archives/{channel_id}/p{ts.replace('.', '')}"


def account_label(account: AccountSettings | None, key: str) -> str:
    if account is None:
        return key
    return f"{account.name} ({account.handle})" if account.handle else account.name


def reason_label(key: str, *, settings: Settings, t: Translator) -> str:
    custom = settings.review.custom_reasons.get(key)
    if custom is not None:
        return custom.get(t.locale)
    if t.has(f"review.reasons.{key}"):
        return t(f"review.reasons.{key}")
    return key


def length_text(text: str, account: AccountSettings | None, t: Translator) -> str:
    """ "123 / 280 (X weighted count)" or "123 characters (no limit)"."""
    platform = account.platform if account else "other"
    limit = account.max_length if account else None
    check = check_length(text, platform=platform, limit=limit)
    if check.limit is None:
        return t("review.length.no_limit", length=f"{check.length:,}")
    key = "review.length.weighted" if check.weighted else "review.length.plain"
    line = t(key, length=f"{check.length:,}", limit=f"{check.limit:,}")
    return t("review.length.over", text=line) if check.over else line


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


# ---------------------------------------------------------------------------------------------
# Help
# ---------------------------------------------------------------------------------------------


def build_help(settings: Settings, t: Translator, *, not_understood: str | None = None) -> Message:
    cmd = settings.slack.review_command
    blocks: list[Block] = []
    if not_understood is not None:
        blocks.append(mrkdwn(t("common.errors.unknown_subcommand", text=escape(not_understood))))
    blocks += [header(t("review.help.title")), mrkdwn(t("review.help.body", cmd=cmd))]
    return Message(text=t("review.help.title"), blocks=blocks)


# ---------------------------------------------------------------------------------------------
# Request and resubmit modals
# ---------------------------------------------------------------------------------------------


def default_planned_at(now: datetime, *, tz: ZoneInfo) -> datetime:
    """The planned time a new form starts with: tomorrow 10:00 local."""
    local = now.astimezone(tz) + timedelta(days=1)
    return local.replace(hour=10, minute=0, second=0, microsecond=0).astimezone(UTC)


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


def reviewers_block_id(account_key: str) -> str:
    """One reviewers block per account: Slack keeps what was typed into an input whose block id stays
    the same across ``views.update``, so switching the account needs a new id to refill reviewers."""
    return f"{BlockId.REVIEWERS}.{account_key}"


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


def _state(values: Mapping[str, Any], block: str, action: str) -> Mapping[str, Any]:
    item = values.get(block, {})
    value = item.get(action, {}) if isinstance(item, Mapping) else {}
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    """A multi-select's choices; anything but a list (a broken client) counts as nothing chosen."""
    return value if isinstance(value, list) else []


def _typed(value: object) -> str:
    """What was typed; NUL goes (no keyboard types it, and PostgreSQL text cannot store it)."""
    return value.replace("\x00", "") if isinstance(value, str) else ""


def _text(values: Mapping[str, Any], block: str, action: str) -> str:
    return _typed(_state(values, block, action).get("value")).strip()


def _timestamp(values: Mapping[str, Any], block: str, action: str) -> datetime | None:
    raw = _state(values, block, action).get("selected_date_time")
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC) if raw is not None else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def parse_request_modal(values: Mapping[str, Any]) -> RequestForm:
    """Read the request or resubmit modal's ``state.values`` (missing inputs become empty)."""
    account = _state(values, BlockId.ACCOUNT, ActionId.ACCOUNT).get("selected_option") or {}
    reviewers_block = next((b for b in values if str(b).startswith(f"{BlockId.REVIEWERS}.")), "")
    users = _list(_state(values, reviewers_block, ActionId.REVIEWERS).get("selected_users"))
    # A draft keeps its own line breaks and inner spacing; only the outer blank lines go.
    raw_draft = _typed(_state(values, BlockId.DRAFT, ActionId.DRAFT).get("value"))
    return RequestForm(
        account_key=account.get("value") if isinstance(account, Mapping) else None,
        text=raw_draft.strip("\n "),
        planned_at=_timestamp(values, BlockId.PLANNED, ActionId.PLANNED),
        link_url=_text(values, BlockId.LINK, ActionId.LINK) or None,
        reviewers=tuple(u for u in users if isinstance(u, str)),
        wanted=_text(values, BlockId.WANTED, ActionId.WANTED),
        reviewers_block=reviewers_block,
    )


def _bad_url(url: str) -> bool:
    return not re.match(r"^https?://[^\s/]+\.[^\s]+$", url) or len(url) > 2000


def validate_request(
    form: RequestForm,
    *,
    settings: Settings,
    t: Translator,
    now: datetime,
    requester: str,
    account_key: str | None = None,
    check_reviewers: bool = True,
) -> dict[str, str]:
    """Inline errors (block id → message) for a request or resubmit form; empty when it is fine.

    ``account_key`` is the fixed account of a resubmission (its form has no account input).
    """
    errors: dict[str, str] = {}
    key = account_key or form.account_key
    account = settings.account(key) if key else None
    if account is None:
        errors[BlockId.ACCOUNT] = t("review.modal.errors.unknown_account")
    if not form.text.strip():
        errors[BlockId.DRAFT] = t("review.modal.errors.draft_empty")
    elif account is not None:
        check = check_length(form.text, platform=account.platform, limit=account.max_length)
        if check.over:
            message = (
                "review.modal.errors.too_long_weighted" if check.weighted else "review.modal.errors.too_long"
            )
            errors[BlockId.DRAFT] = t(
                message,
                account=account.name,
                length=f"{check.length:,}",
                limit=f"{check.limit:,}",
                over=f"{check.length - (check.limit or 0):,}",
            )
    if form.planned_at is None:
        errors[BlockId.PLANNED] = t("review.modal.errors.planned_missing")
    elif form.planned_at < now - timedelta(minutes=5):
        errors[BlockId.PLANNED] = t("review.modal.errors.planned_past")
    if form.link_url is not None and _bad_url(form.link_url):
        errors[BlockId.LINK] = t("review.modal.errors.bad_url")
    if check_reviewers and not [u for u in form.reviewers if u != requester]:
        key = "review.modal.errors.only_self" if form.reviewers else "review.modal.errors.no_reviewers"
        errors[form.reviewers_block or reviewers_block_id(form.account_key or "")] = t(key)
    return errors


# ---------------------------------------------------------------------------------------------
# Feedback, approve and publish modals
# ---------------------------------------------------------------------------------------------


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


def draft_blocks(text: str) -> list[Block]:
    """The whole draft as quoted sections (one per 3,000 characters, as Slack counts them)."""
    return [mrkdwn(section) for section in quote_sections(text)]


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


def parse_feedback_modal(values: Mapping[str, Any]) -> Feedback:
    selected = _list(_state(values, BlockId.REASONS, ActionId.REASONS).get("selected_options"))
    reasons = tuple(
        o["value"] for o in selected if isinstance(o, Mapping) and isinstance(o.get("value"), str)
    )
    return Feedback(
        what_works=_text(values, BlockId.WHAT_WORKS, ActionId.WHAT_WORKS),
        what_to_change=_text(values, BlockId.WHAT_TO_CHANGE, ActionId.WHAT_TO_CHANGE),
        comment=_text(values, BlockId.COMMENT, ActionId.FEEDBACK_COMMENT),
        reasons=tuple(dict.fromkeys(reasons)),
    )


def validate_feedback(
    feedback: Feedback, *, decision: Decision, settings: Settings, t: Translator
) -> dict[str, str]:
    errors: dict[str, str] = {}
    unknown = [r for r in feedback.reasons if r not in settings.review.reasons]
    if unknown:
        errors[BlockId.REASONS] = t("review.feedback.errors.unknown_reason")
    elif decision.needs_reasons and not feedback.reasons:
        errors[BlockId.REASONS] = t("review.feedback.errors.reasons_required")
    if decision is Decision.COMMENT and not (
        feedback.what_works or feedback.what_to_change or feedback.comment
    ):
        errors[BlockId.COMMENT] = t("review.feedback.errors.comment_empty")
    return errors


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


def parse_publish_modal(values: Mapping[str, Any]) -> PublishForm:
    return PublishForm(
        url=_text(values, BlockId.POST_URL, ActionId.POST_URL),
        published_at=_timestamp(values, BlockId.PUBLISHED_AT, ActionId.PUBLISHED_AT),
    )


def validate_publish(
    form: PublishForm, *, t: Translator, now: datetime, window: timedelta = timedelta(days=30)
) -> dict[str, str]:
    """Inline errors of the publish form; the URL's platform is checked with the request's account
    (:func:`bot.review.publishing.check_post_url`)."""
    errors: dict[str, str] = {}
    if _bad_url(form.url):
        errors[BlockId.POST_URL] = t("review.modal.errors.bad_url")
    if form.published_at is None:
        errors[BlockId.PUBLISHED_AT] = t("review.publish.errors.time_missing")
    elif key := check_published_at(form.published_at, now=now, window=window):
        errors[BlockId.PUBLISHED_AT] = t(key, days=window.days)
    return errors


# ---------------------------------------------------------------------------------------------
# The review message in the channel
# ---------------------------------------------------------------------------------------------


def _decision_buttons(request: RequestSnapshot, t: Translator) -> ActionsBlock:
    value = request.ref.encode()
    return ActionsBlock(
        block_id=BlockId.ACTIONS,
        elements=[
            ButtonElement(
                action_id=ActionId.APPROVE,
                text=plain(t("review.buttons.approve")),
                value=value,
                style="primary",
            ),
            ButtonElement(
                action_id=ActionId.REQUEST_CHANGES,
                text=plain(t("review.buttons.request_changes")),
                value=value,
            ),
            ButtonElement(
                action_id=ActionId.REJECT,
                text=plain(t("review.buttons.reject")),
                value=value,
                style="danger",
                confirm=ConfirmObject(
                    title=plain(t("review.confirm_reject.title"), 100),
                    text=plain(t("review.confirm_reject.text"), 300),
                    confirm=plain(t("review.confirm_reject.confirm"), 30),
                    deny=plain(t("review.confirm_reject.deny"), 30),
                    style="danger",
                ),
            ),
            ButtonElement(action_id=ActionId.COMMENT, text=plain(t("review.buttons.comment")), value=value),
        ],
    )


def resubmit_button(request: RequestSnapshot, t: Translator) -> ButtonElement:
    return ButtonElement(
        action_id=ActionId.RESUBMIT,
        text=plain(t("review.buttons.resubmit")),
        value=request.ref.encode(),
        style="primary",
    )


def publish_button(request: RequestSnapshot, t: Translator) -> ButtonElement:
    return ButtonElement(
        action_id=ActionId.PUBLISH,
        text=plain(t("review.buttons.publish")),
        value=request.ref.encode(),
        style="primary",
    )


def status_line(request: RequestSnapshot, *, settings: Settings, t: Translator) -> str:
    """One line saying where the request stands: who decided what and when, or who it waits on."""
    tz = settings.tz
    last = request.last_decision
    if request.status is Status.PENDING:
        step = request.step
        waiting = who_list(step.waiting_on if step else (), t)
        line = t(
            "review.status.pending",
            step=request.current_step + 1,
            steps=max(len(request.steps), 1),
            mode=t(f"review.status.mode_{step.mode if step else 'any'}"),
            waiting=waiting,
        )
        if step and step.approved_by:
            line += "\n" + t("review.status.approved_so_far", users=who_list(step.approved_by, t))
        return line
    actor = who(last.actor_id) if last else t("common.words.none")
    at = when(last.at if last else request.decided_at, tz=tz, t=t)
    if request.status is Status.PUBLISHED:
        url = request.post_url
        post = link(url, t("review.status.post_link")) if url else t("common.words.none")
        return t("review.status.published", at=when(request.published_at, tz=tz, t=t), post=post)
    line = t(f"review.status.{request.status.value}", who=actor, at=at)
    if last and last.reasons:
        labels = ", ".join(reason_label(r, settings=settings, t=t) for r in last.reasons)
        line += "\n" + t("review.status.reasons", reasons=escape(labels))
    return line


#: Room a review message keeps, when its draft is checked at submit, for what is added after it
#: is posted: the decision and its reasons (a base), and per approver of its largest step a
#: mention under "approved so far" and an "away until …, delegate …" entry.
GROWTH_TEXT_BASE = 600
GROWTH_TEXT_PER_APPROVER = 60
#: Blocks added later (the away line; a decided message has fewer, not more).
GROWTH_BLOCKS = 1


def _review_parts(
    request: RequestSnapshot,
    *,
    settings: Settings,
    t: Translator,
    away: Mapping[str, date] | None,
    delegates: Mapping[str, str] | None,
) -> tuple[list[Block], list[Block], list[Block]]:
    """The review message in three parts: what comes before the draft, the draft, what follows."""
    tz = settings.tz
    account = settings.account(request.account_key)
    label = account_label(account, request.account_key)
    head: list[Block] = [
        header(t("review.message.header", account=label)),
        fields(
            [
                t("review.message.requester", who=who(request.requester_id)),
                t("review.message.account", account=escape(label)),
                t("review.message.planned", at=when(request.planned_at, tz=tz, t=t)),
                t("review.message.due", at=when(request.due_at, tz=tz, t=t)),
                t("review.message.revision", revision=request.revision),
                t("review.message.length", length=length_text(request.text, account, t)),
            ]
        ),
    ]
    if request.feedback_wanted:
        head.append(mrkdwn(t("review.message.wanted", text=escape(truncate(request.feedback_wanted, 1000)))))
    tail: list[Block] = []
    if request.link_url:
        tail.append(context(t("review.message.link", link=link(request.link_url, request.link_url))))
    tail.append(divider())
    tail.append(mrkdwn(status_line(request, settings=settings, t=t)))
    if request.invitees and request.status in (Status.PENDING, Status.CHANGES_REQUESTED):
        tail.append(context(t("review.message.invitees", users=who_list(request.invitees, t))))
    if request.status is Status.PENDING:
        tail.append(_decision_buttons(request, t))
        groups = dict.fromkeys(u for step in request.steps for u in step.approvers if is_usergroup_id(u))
        if groups:  # Slack has not named their members yet: said, never left out silently
            tail.append(context(t("review.message.group_unknown", groups=", ".join(map(who, groups)))))
        step_away = {u: d for u, d in (away or {}).items() if request.step and u in request.step.approvers}
        if step_away:
            tail.append(context(_away_line(step_away, t, delegates=delegates)))
    elif request.status is Status.CHANGES_REQUESTED:
        tail.append(ActionsBlock(block_id=BlockId.ACTIONS, elements=[resubmit_button(request, t)]))
    elif request.status is Status.APPROVED:
        tail.append(ActionsBlock(block_id=BlockId.ACTIONS, elements=[publish_button(request, t)]))
    return head, draft_blocks(request.text), tail


def _size(rendered: Sequence[dict[str, Any]]) -> int:
    return sum(block_text_length(block) for block in rendered)


def build_review_message(
    request: RequestSnapshot,
    *,
    settings: Settings,
    t: Translator,
    away: Mapping[str, date] | None = None,
    delegates: Mapping[str, str] | None = None,
) -> Message:
    """The request as posted in the review channel, in any state (buttons only while they apply),
    with the *whole* draft over as many sections as it takes (drafts are checked at submit by
    :func:`draft_overflow`, so they fit with room to spare).

    Args:
        away: users away (App Home) with their last away day; the current step's approvers among
            them are named under the buttons, so the requester knows who will not answer soon.
        delegates: away approvers → the delegate who decides for them (named with them).
    """
    label = account_label(settings.account(request.account_key), request.account_key)
    fallback = t(
        "review.message.fallback",
        account=label,
        requester=who(request.requester_id),
        status=t(f"review.status_word.{request.status.value}"),
    )
    head, draft, tail = _review_parts(request, settings=settings, t=t, away=away, delegates=delegates)
    rendered_head = [b.to_dict() for b in head]
    rendered_draft = [b.to_dict() for b in draft]
    rendered_tail = [b.to_dict() for b in tail]
    whole = [*rendered_head, *rendered_draft, *rendered_tail]
    if len(whole) <= MESSAGE_BLOCKS_MAX and _size(whole) <= MESSAGE_TEXT_BUDGET:
        return Message(text=fallback, blocks=whole)
    # Only a draft stored before drafts were checked at submit gets here: show what fits and say
    # plainly that the rest is not shown (never a silent cut), keeping the buttons.
    notice = context(t("review.message.draft_cut", length=f"{len(request.text):,}")).to_dict()
    room = MESSAGE_TEXT_BUDGET - _size([*rendered_head, *rendered_tail, notice])
    count_room = MESSAGE_BLOCKS_MAX - len(rendered_head) - len(rendered_tail) - 1
    shown: list[dict[str, Any]] = []
    for block in rendered_draft:
        if len(shown) >= count_room or block_text_length(block) > room:
            break
        shown.append(block)
        room -= block_text_length(block)
    return Message(text=fallback, blocks=[*rendered_head, *shown, notice, *rendered_tail])


def draft_overflow(request: RequestSnapshot, *, settings: Settings, t: Translator) -> int:
    """By how many characters ``request``'s review message would be too long to show its whole draft,
    keeping room for what is added later (:data:`GROWTH_TEXT_BASE`…); 0 when it fits.

    The request and resubmit forms refuse a draft with an overflow (issue 13 item 5): a draft that
    cannot be shown whole is never sent to reviewers.
    """
    head, draft, tail = _review_parts(request, settings=settings, t=t, away=None, delegates=None)
    rendered = [b.to_dict() for b in (*head, *draft, *tail)]
    largest = max((len(step.approvers) for step in request.steps), default=1)
    reserve = GROWTH_TEXT_BASE + GROWTH_TEXT_PER_APPROVER * largest
    over = _size(rendered) + reserve - MESSAGE_TEXT_BUDGET
    if len(rendered) + GROWTH_BLOCKS > MESSAGE_BLOCKS_MAX:
        over = max(over, 1)
    return max(over, 0)


def preview_request(
    *,
    requester: str,
    account_key: str,
    text: str,
    planned_at: datetime | None,
    link_url: str | None,
    feedback_wanted: str,
    chain: Sequence[ResolvedStep],
    invitees: Sequence[str],
    now: datetime,
) -> RequestSnapshot:
    """A new request as its review message will first show it (not stored), for :func:`draft_overflow`."""
    return RequestSnapshot(
        id=0,
        requester_id=requester,
        account_key=account_key,
        status=Status.PENDING,
        current_step=0,
        revision=1,
        version=1,
        text=text,
        planned_at=planned_at,
        due_at=planned_at,
        link_url=link_url,
        feedback_wanted=feedback_wanted,
        channel_id=None,
        message_ts=None,
        created_at=now,
        waiting_since=now,
        decided_at=None,
        published_at=None,
        steps=tuple(StepView(number, step.approvers, step.mode) for number, step in enumerate(chain)),
        invitees=tuple(invitees),
    )


def draft_error(request: RequestSnapshot, *, settings: Settings, t: Translator) -> dict[str, str]:
    """The request form's inline error when the draft could not be shown whole (else empty)."""
    over = draft_overflow(request, settings=settings, t=t)
    if not over:
        return {}
    return {BlockId.DRAFT: t("review.modal.errors.too_long_to_show", over=f"{over:,}")}


# ---------------------------------------------------------------------------------------------
# Thread replies and DMs
# ---------------------------------------------------------------------------------------------


def _feedback_lines(feedback: Feedback, *, settings: Settings, t: Translator) -> list[str]:
    lines: list[str] = []
    if feedback.reasons:
        labels = ", ".join(reason_label(r, settings=settings, t=t) for r in feedback.reasons)
        lines.append(t("review.feedback.line.reasons", text=escape(labels)))
    if feedback.what_works:
        lines.append(t("review.feedback.line.what_works", text=escape(truncate(feedback.what_works, 900))))
    if feedback.what_to_change:
        lines.append(
            t("review.feedback.line.what_to_change", text=escape(truncate(feedback.what_to_change, 900)))
        )
    if feedback.comment:
        lines.append(t("review.feedback.line.comment", text=escape(truncate(feedback.comment, 900))))
    return lines


def _decision_headline(result: DecisionResult, *, t: Translator) -> str:
    request = result.request
    params = {
        "who": who(result.actor_id),
        "revision": request.revision,
        "step": result.step + 1,
        "steps": max(len(request.steps), 1),
    }
    line = t(f"review.outcome.{result.outcome}", **params)
    if result.on_behalf_of:
        line += " " + t("review.outcome.on_behalf", users=who_list(result.on_behalf_of, t))
    return line


def build_decision_reply(result: DecisionResult, *, settings: Settings, t: Translator) -> Message:
    """The feedback posted in the request's thread."""
    lines = [_decision_headline(result, t=t), *_feedback_lines(result.feedback, settings=settings, t=t)]
    request = result.request
    if result.outcome in ("advanced", "step_approved") and request.step is not None:
        lines.append(t("review.outcome.now_waiting", users=who_list(request.step.waiting_on, t)))
    if result.outcome == "changes_requested":
        lines.append(t("review.outcome.requester_next", who=who(request.requester_id)))
    blocks: list[Block] = [mrkdwn("\n".join(lines))]
    return Message(text=_decision_headline(result, t=t), blocks=blocks)


def build_decision_dm(result: DecisionResult, *, settings: Settings, t: Translator) -> Message:
    """The requester's DM: the feedback, a link to the request, and what they can do next."""
    request = result.request
    account = settings.account(request.account_key)
    title = t(f"review.dm.{result.outcome}", account=account_label(account, request.account_key))
    blocks: list[Block] = [mrkdwn(f"*{escape(title)}*")]
    lines = [_decision_headline(result, t=t), *_feedback_lines(result.feedback, settings=settings, t=t)]
    blocks.append(mrkdwn("\n".join(lines)))
    blocks.append(context(t("review.dm.draft", excerpt=escape(excerpt(request.text, 120)))))
    url = permalink(request.channel_id, request.message_ts)
    if url:
        blocks.append(context(link(url, t("review.dm.open_request"))))
    if request.status is Status.CHANGES_REQUESTED:
        blocks.append(context(t("review.dm.resubmit_hint")))
        blocks.append(ActionsBlock(block_id=BlockId.ACTIONS, elements=[resubmit_button(request, t)]))
    elif request.status is Status.APPROVED:
        blocks.append(context(t("review.dm.publish_hint")))
        blocks.append(ActionsBlock(block_id=BlockId.ACTIONS, elements=[publish_button(request, t)]))
    return Message(text=title, blocks=blocks)


def build_created_dm(request: RequestSnapshot, *, settings: Settings, t: Translator) -> Message:
    """Tells the requester where their request went (the modal has closed)."""
    account = settings.account(request.account_key)
    url = permalink(request.channel_id, request.message_ts)
    step = request.step
    text = t(
        "review.dm.created",
        account=escape(account_label(account, request.account_key)),
        reviewers=who_list(step.approvers if step else (), t),
    )
    blocks: list[Block] = [mrkdwn(text)]
    if url:
        blocks.append(context(link(url, t("review.dm.open_request"))))
    return Message(text=t("review.dm.created_fallback"), blocks=blocks)


def _diff_block(lines: Sequence[DiffLine], t: Translator) -> str:
    shown = list(lines[:DIFF_LINES_MAX])
    body = []
    for line in shown:
        # A ``` inside the draft would close the code block early; a zero-width space defuses it.
        text = escape(line.text).replace("```", "`\u200b`\u200b`")
        body.append("…" if line.op == "…" else f"{line.op} {text}")
    if len(lines) > DIFF_LINES_MAX:
        body.append(t("common.words.and_more", count=len(lines) - DIFF_LINES_MAX))
    return "```\n" + truncate("\n".join(body), 2600) + "\n```"


def build_resubmit_reply(result: ResubmitResult, *, t: Translator) -> Message:
    """The thread reply for a new revision: who, which revision, and a readable line diff."""
    request = result.request
    step = request.step
    headline = t("review.resubmit.reply", who=who(request.requester_id), revision=request.revision)
    diff = line_diff(result.previous_text, request.text)
    blocks: list[Block] = [mrkdwn(headline)]
    if diff:
        blocks.append(mrkdwn(t("review.resubmit.what_changed") + "\n" + _diff_block(diff, t)))
    else:
        blocks.append(mrkdwn(t("review.resubmit.same_text")))
    if request.feedback_wanted:
        blocks.append(
            mrkdwn(t("review.resubmit.note_line", text=escape(truncate(request.feedback_wanted, 900))))
        )
    blocks.append(
        context(t("review.outcome.now_waiting", users=who_list(step.waiting_on if step else (), t)))
    )
    return Message(text=t("review.resubmit.reply_fallback", revision=request.revision), blocks=blocks)


def build_published_reply(result: PublishResult, *, settings: Settings, t: Translator) -> Message:
    request = result.request
    text = t(
        "review.publish.reply",
        who=who(request.requester_id),
        at=when(result.published_at, tz=settings.tz, t=t),
        post=link(result.url, result.url),
    )
    return Message(text=t("review.publish.reply_fallback"), blocks=[mrkdwn(text)])


def _away_line(away: Mapping[str, date], t: Translator, *, delegates: Mapping[str, str] | None = None) -> str:
    def entry(user: str, until: date) -> str:
        delegate = (delegates or {}).get(user)
        day = f"{until.month}/{until.day}"
        if delegate:
            return t("review.reminder.away_user_delegate", user=who(user), until=day, delegate=who(delegate))
        return t("review.reminder.away_user", user=who(user), until=day)

    return t("review.reminder.away", users=", ".join(entry(user, until) for user, until in away.items()))


def build_reminder(
    request: RequestSnapshot,
    *,
    number: int,
    settings: Settings,
    t: Translator,
    to: Sequence[str] | None = None,
    away: Mapping[str, date] | None = None,
    delegates: Mapping[str, str] | None = None,
) -> Message:
    """The reminder in the request's thread.

    Args:
        to: who is reminded (default: the current step's approvers who have not acted); the
            App Home's away mode routes around approvers who are away.
        away: approvers skipped because they are away, with their last away day.
        delegates: away approvers → their delegate (reminded instead of them).
    """
    step = request.step
    text = t(
        "review.reminder.text",
        users=who_list(to if to is not None else (step.waiting_on if step else ()), t),
        since=when(request.waiting_since, tz=settings.tz, t=t),
        due=when(request.due_at, tz=settings.tz, t=t),
        number=number,
    )
    blocks: list[Block] = [mrkdwn(text)]
    if away:
        blocks.append(context(_away_line(away, t, delegates=delegates)))
    return Message(text=t("review.reminder.fallback"), blocks=blocks)


def build_escalation(request: RequestSnapshot, *, settings: Settings, t: Translator) -> Message:
    step = request.step
    account = settings.account(request.account_key)
    url = permalink(request.channel_id, request.message_ts)
    text = t(
        "review.escalation.text",
        requester=who(request.requester_id),
        account=escape(account_label(account, request.account_key)),
        users=who_list(step.waiting_on if step else (), t),
        since=when(request.waiting_since, tz=settings.tz, t=t),
        due=when(request.due_at, tz=settings.tz, t=t),
    )
    blocks: list[Block] = [mrkdwn(text), context(escape(excerpt(request.text, 150)))]
    if url:
        blocks.append(context(link(url, t("review.dm.open_request"))))
    return Message(text=t("review.escalation.fallback"), blocks=blocks)


def build_refusal_view(text: str, *, t: Translator) -> View:
    """What a submitted modal turns into when the store refused it (mrkdwn, so mentions render)."""
    return View(
        type="modal",
        title=plain(t("review.errors.not_recorded_title"), MODAL_TITLE_MAX),
        close=plain(t("review.errors.close"), MODAL_TITLE_MAX),
        blocks=[mrkdwn(text)],
    )


# ---------------------------------------------------------------------------------------------
# /sns-review list
# ---------------------------------------------------------------------------------------------


def _list_line(request: RequestSnapshot, *, settings: Settings, t: Translator, mine: bool) -> str:
    account = settings.account(request.account_key)
    url = permalink(request.channel_id, request.message_ts)
    title = excerpt(request.text, 60) or t("review.list.untitled")
    head = link(url, title) if url else escape(title)
    status = t(f"review.status_word.{request.status.value}")
    detail = t(
        "review.list.mine_detail" if mine else "review.list.waiting_detail",
        account=escape(account_label(account, request.account_key)),
        status=status,
        requester=who(request.requester_id),
        since=when(request.waiting_since, tz=settings.tz, t=t),
        due=when(request.due_at, tz=settings.tz, t=t),
    )
    return f"• {head}\n   {detail}"


def build_list(result: RequestList, *, settings: Settings, t: Translator) -> Message:
    blocks: list[Block] = [header(t("review.list.title"))]
    blocks.append(mrkdwn(f"*{t('review.list.mine', count=result.mine_count)}*"))
    if result.mine:
        blocks += [mrkdwn(_list_line(r, settings=settings, t=t, mine=True)) for r in result.mine]
        if result.mine_count > len(result.mine):
            blocks.append(context(t("review.list.mine_more", count=result.mine_count - len(result.mine))))
    else:
        blocks.append(context(t("review.list.mine_none", cmd=settings.slack.review_command)))
    blocks.append(mrkdwn(f"*{t('review.list.waiting', count=result.waiting_count)}*"))
    if result.waiting:
        blocks += [mrkdwn(_list_line(r, settings=settings, t=t, mine=False)) for r in result.waiting]
        if result.waiting_count > len(result.waiting):
            more = result.waiting_count - len(result.waiting)
            blocks.append(context(t("review.list.waiting_more", count=more)))
    else:
        blocks.append(context(t("review.list.waiting_none")))
    return Message(
        text=t("review.list.fallback", mine=result.mine_count, waiting=result.waiting_count),
        blocks=fit_blocks(blocks, more=t("review.list.more")),
    )


__all__ = [
    "build_approve_modal",
    "build_created_dm",
    "build_decision_dm",
    "build_decision_reply",
    "build_escalation",
    "build_feedback_modal",
    "build_help",
    "build_list",
    "build_publish_modal",
    "build_published_reply",
    "build_refusal_view",
    "build_reminder",
    "build_request_modal",
    "build_resubmit_modal",
    "build_resubmit_reply",
    "build_review_message",
    "parse_feedback_modal",
    "parse_publish_modal",
    "parse_request_modal",
    "validate_feedback",
    "validate_publish",
    "validate_request",
]
