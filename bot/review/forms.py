"""Reading and checking what the review modals hold: ``parse_*`` of ``view.state.values`` and
``validate_*`` into inline errors (block id → message) (pure).

Anything a client sends is read defensively: a missing input is empty, a malformed one counts as
nothing chosen, and NUL characters go.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config import Settings
from bot.i18n import Translator
from bot.review.ids import ActionId, BlockId, Decision, reviewers_block_id
from bot.review.publishing import check_published_at
from bot.review.records import Feedback, PublishForm, RequestForm
from bot.review.text import check_length


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
        due_at=_timestamp(values, BlockId.DUE, ActionId.DUE),
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
    if form.due_at is not None:
        if form.due_at < now - timedelta(minutes=5):
            errors[BlockId.DUE] = t("review.modal.errors.due_past")
        elif form.planned_at is not None and form.due_at > form.planned_at:
            errors[BlockId.DUE] = t("review.modal.errors.due_after_planned")
    if form.link_url is not None and _bad_url(form.link_url):
        errors[BlockId.LINK] = t("review.modal.errors.bad_url")
    if check_reviewers and not [u for u in form.reviewers if u != requester]:
        key = "review.modal.errors.only_self" if form.reviewers else "review.modal.errors.no_reviewers"
        errors[form.reviewers_block or reviewers_block_id(form.account_key or "")] = t(key)
    return errors


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
