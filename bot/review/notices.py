"""What the bot says about a request besides its channel message: the thread replies (feedback, new
revision, published), the requester's DMs, reminders in the thread and escalations (pure).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from slack_sdk.models.blocks import ActionsBlock, Block

from bot.config import Settings
from bot.i18n import Translator
from bot.review.ids import BlockId, Outcome, Status
from bot.review.labels import account_label, away_line, permalink, reason_label, when, who, who_list
from bot.review.messages import publish_button, resubmit_button
from bot.review.records import DecisionResult, Feedback, PublishResult, RequestSnapshot, ResubmitResult
from bot.review.text import DiffLine, DiffOp, excerpt, line_diff
from bot.slack.blocks import Message, context, escape, link, mrkdwn, truncate

#: Lines of a draft diff shown in the thread (longer diffs end with "… and N more").
DIFF_LINES_MAX = 60


def _feedback_lines(feedback: Feedback, *, settings: Settings, t: Translator) -> list[str]:
    lines: list[str] = []
    if feedback.reasons:
        labels = t.join(reason_label(r, settings=settings, t=t) for r in feedback.reasons)
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
    if result.outcome in (Outcome.ADVANCED, Outcome.STEP_APPROVED) and request.step is not None:
        lines.append(t("review.outcome.now_waiting", users=who_list(request.step.waiting_on, t)))
    if result.outcome == Outcome.CHANGES_REQUESTED:
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
        body.append(DiffOp.GAP.value if line.op == DiffOp.GAP else f"{line.op} {text}")
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
        blocks.append(context(away_line(away, t, delegates=delegates)))
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
