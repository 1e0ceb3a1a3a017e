"""What ``/sns-review list`` and ``/sns-review help`` answer, ephemerally, where the command was typed
(pure).
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.config import Settings
from bot.i18n import Translator
from bot.review.labels import account_label, permalink, when, who
from bot.review.records import RequestList, RequestSnapshot
from bot.review.text import excerpt
from bot.slack.blocks import Message, context, escape, fit_blocks, header, link, mrkdwn


def build_help(settings: Settings, t: Translator, *, not_understood: str | None = None) -> Message:
    cmd = settings.slack.review_command
    blocks: list[Block] = []
    if not_understood is not None:
        blocks.append(mrkdwn(t("common.errors.unknown_subcommand", text=escape(not_understood))))
    blocks += [header(t("review.help.title")), mrkdwn(t("review.help.body", cmd=cmd))]
    return Message(text=t("review.help.title"), blocks=blocks)


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
