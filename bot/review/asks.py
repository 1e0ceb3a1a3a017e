"""The DM that asks an approver for a decision when a request reaches their step (pure): who asks, for
which account, by when, the draft, what feedback is wanted, a link to the request and the decision
buttons; rendered in the approver's own language (the caller passes it, bot.slack.locales)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from slack_sdk.models.blocks import Block

from bot.config import Settings, is_usergroup_id
from bot.i18n import Translator
from bot.review.ids import Decision
from bot.review.labels import account_label, permalink, when, who
from bot.review.messages import decision_buttons
from bot.review.records import RequestSnapshot
from bot.slack.blocks import Message, context, escape, link, mrkdwn, truncate

#: Characters of the draft quoted in the DM (the whole draft is one click away).
DRAFT_MAX = 600
#: The buttons the DM offers, as the App Home does; Reject and Comment stay on the channel message.
ASK_DECISIONS = (Decision.APPROVE, Decision.REQUEST_CHANGES)


def to_ask(
    request: RequestSnapshot,
    *,
    away: Collection[str] = (),
    delegates: Mapping[str, str] | None = None,
) -> dict[str, str | None]:
    """Who to ask, as people, each with the away approver they are asked for (``None``: for
    themselves): the current step's approvers still waiting, an away one replaced by the delegate
    they named on the App Home (as reminders are, ``bot.away.policy.route_reminder``). A user group
    standing in for its members (Slack had not named them yet) has no DM; the requester never decides
    their own request; an away approver without a delegate (or whose delegate is away) is not asked."""
    step = request.step
    if step is None:
        return {}
    asked: dict[str, str | None] = {}
    for user in step.waiting_on:
        if is_usergroup_id(user) or user == request.requester_id:
            continue
        if user not in away:
            asked[user] = None
            continue
        stand_in = (delegates or {}).get(user)
        if stand_in and stand_in not in away and stand_in != request.requester_id:
            asked.setdefault(stand_in, user)
    return asked


def build_ask_dm(
    request: RequestSnapshot, *, settings: Settings, t: Translator, on_behalf_of: str | None = None
) -> Message:
    """The approver's DM asking for a decision on ``request`` (its current step and revision);
    ``on_behalf_of``: the away approver a delegate is asked for."""
    account = escape(account_label(settings.account(request.account_key), request.account_key))
    title = t("review_ask.title", requester=who(request.requester_id), account=account)
    lines = [f"*{title}*"]
    if on_behalf_of:
        lines.append(t("review_ask.on_behalf", user=who(on_behalf_of)))
    lines.append(t("review_ask.planned", at=when(request.planned_at, tz=settings.tz, t=t)))
    if request.feedback_wanted:
        lines.append(t("review_ask.wanted", text=escape(request.feedback_wanted)))
    quoted = "\n".join("&gt; " + line for line in escape(truncate(request.text, DRAFT_MAX)).splitlines())
    blocks: list[Block] = [mrkdwn("\n".join(lines)), mrkdwn(quoted or "&gt;")]
    url = permalink(request.channel_id, request.message_ts)
    hints: Sequence[str] = (
        (t("review_ask.hint"), link(url, t("review_ask.open"))) if url else (t("review_ask.hint"),)
    )
    blocks.append(context(*hints))
    blocks.append(decision_buttons(request.ref, t, decisions=ASK_DECISIONS))
    return Message(text=t("review_ask.fallback", account=account), blocks=blocks)
