"""The request's message in the review channel: its layout in every state, its buttons, and whether a
draft fits it whole (pure).

The decision buttons are built here only; the App Home shows Approve / Request changes through
:func:`decision_buttons` too, so a click there reaches the same review listener.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ConfirmObject

from bot.config import Settings, is_usergroup_id
from bot.i18n import Translator
from bot.review.ids import ActionId, BlockId, Decision, RequestRef, Status
from bot.review.labels import account_label, away_line, length_text, reason_label, when, who, who_list
from bot.review.policy import ResolvedStep
from bot.review.records import RequestSnapshot, StepView, first_state
from bot.slack.blocks import (
    MESSAGE_BLOCKS_MAX,
    MESSAGE_TEXT_BUDGET,
    Message,
    block_text_length,
    context,
    divider,
    escape,
    fields,
    header,
    link,
    mrkdwn,
    plain,
    quote_sections,
    truncate,
)

#: Every decision, in the order the channel message shows its buttons.
ALL_DECISIONS = (Decision.APPROVE, Decision.REQUEST_CHANGES, Decision.REJECT, Decision.COMMENT)
_BUTTON_STYLES = {Decision.APPROVE: "primary", Decision.REJECT: "danger"}


def draft_blocks(text: str) -> list[Block]:
    """The whole draft as quoted sections (one per 3,000 characters, as Slack counts them)."""
    return [mrkdwn(section) for section in quote_sections(text)]


def _decision_button(decision: Decision, value: str, t: Translator) -> ButtonElement:
    confirm = None
    if decision is Decision.REJECT:
        confirm = ConfirmObject(
            title=plain(t("review.confirm_reject.title"), 100),
            text=plain(t("review.confirm_reject.text"), 300),
            confirm=plain(t("review.confirm_reject.confirm"), 30),
            deny=plain(t("review.confirm_reject.deny"), 30),
            style="danger",
        )
    return ButtonElement(
        action_id=decision.action_id,
        text=plain(t(f"review.buttons.{decision.value}")),
        value=value,
        style=_BUTTON_STYLES.get(decision),
        confirm=confirm,
    )


def decision_buttons(
    ref: RequestRef,
    t: Translator,
    *,
    block_id: str = BlockId.ACTIONS,
    decisions: Sequence[Decision] = ALL_DECISIONS,
) -> ActionsBlock:
    """The buttons reviewers decide with (Reject asks for confirmation), carrying ``ref`` as their
    value: all four on the channel message; the App Home shows Approve and Request changes.

    Args:
        block_id: the App Home lists several requests, and Slack wants block ids unique in a view.
    """
    value = ref.encode()
    return ActionsBlock(block_id=block_id, elements=[_decision_button(d, value, t) for d in decisions])


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
        labels = t.join(reason_label(r, settings=settings, t=t) for r in last.reasons)
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
        tail.append(decision_buttons(request.ref, t))
        groups = dict.fromkeys(u for step in request.steps for u in step.approvers if is_usergroup_id(u))
        if groups:  # Slack has not named their members yet: said, never left out silently
            tail.append(context(t("review.message.group_unknown", groups=t.join(map(who, groups)))))
        step_away = {u: d for u, d in (away or {}).items() if request.step and u in request.step.approvers}
        if step_away:
            tail.append(context(away_line(step_away, t, delegates=delegates)))
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
    due_at: datetime | None = None,
) -> RequestSnapshot:
    """A new request as its review message will first show it (not stored), for :func:`draft_overflow`."""
    return RequestSnapshot(
        id=0,
        requester_id=requester,
        account_key=account_key,
        text=text,
        link_url=link_url,
        feedback_wanted=feedback_wanted,
        channel_id=None,
        message_ts=None,
        decided_at=None,
        published_at=None,
        steps=tuple(StepView(number, step.approvers, step.mode) for number, step in enumerate(chain)),
        invitees=tuple(invitees),
        **first_state(planned_at=planned_at, now=now, due_at=due_at),
    )


def draft_error(request: RequestSnapshot, *, settings: Settings, t: Translator) -> dict[str, str]:
    """The request form's inline error when the draft could not be shown whole (else empty)."""
    over = draft_overflow(request, settings=settings, t=t)
    if not over:
        return {}
    return {BlockId.DRAFT: t("review.modal.errors.too_long_to_show", over=f"{over:,}")}
