"""Block Kit for the App Home (pure).

The Home must fit Slack's 100 blocks whatever the data: each list shows its oldest few items and
counts the rest ("…and N more"), and :func:`build_home` caps the total as a last resort. Approve /
Request changes buttons carry the review feature's action ids and ``RequestRef`` value, so the
review listeners treat a click here like one on the channel message; likewise "record a KPI value"
carries the KPI feature's action id (the modal is the KPI feature's), the away mode section is
built by :mod:`bot.away.ui`, whose listeners handle its pickers, and "Share a win" and "Send me a
digest preview" carry the digest feature's action ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
)
from slack_sdk.models.views import View

from bot.actions import ui as actions_ui
from bot.away import ui as away_ui
from bot.config import Settings
from bot.digest.ids import ActionId as DigestActionId
from bot.home.ids import BlockId
from bot.home.records import (
    AdminData,
    CollectorState,
    DigestLink,
    DigestState,
    HomeData,
    ItemPage,
    ReviewItem,
)
from bot.i18n import Translator
from bot.kpi import run_errors
from bot.kpi.glossary_ui import glossary_button
from bot.kpi.ids import ActionId as KpiActionId
from bot.kpi.rules import recordable_kpis
from bot.kpi.status import KpiStatus
from bot.kpi.ui import month_label, status_line
from bot.language import ui as language_ui
from bot.participation import ui as participation_ui
from bot.review import messages as review_messages
from bot.review.ids import ActionId as ReviewActionId
from bot.review.ids import Decision, RequestRef
from bot.slack.blocks import (
    VIEW_BLOCKS_MAX,
    context,
    divider,
    escape,
    header,
    link,
    mrkdwn,
    plain,
    slack_date,
    truncate,
    user,
)
from bot.slack.locales import Choice
from bot.welcome.ui import reopen_button

#: Characters of a draft shown on a Home line.
EXCERPT_MAX = 140
#: KPIs shown at a glance; more are counted and left to ``/sns-kpi``.
KPIS_SHOWN = 15
#: Slack: modal titles and button labels of modals are at most 24 characters.
MODAL_TITLE_MAX = 24

_STATUS_EMOJI = {
    "pending": ":hourglass_flowing_sand:",
    "changes_requested": ":pencil2:",
    "approved": ":white_check_mark:",
}
_DIGEST_EMOJI = {
    "posted": ":white_check_mark:",
    "failed": ":x:",
    "missed": ":warning:",
    "claimed": ":hourglass_flowing_sand:",
    "skipped": ":heavy_minus_sign:",
    "never": ":white_circle:",
    "off": ":no_entry_sign:",
}
_COLLECTOR_EMOJI = {
    "ok": ":white_check_mark:",
    "partial": ":warning:",
    "failed": ":x:",
    "running": ":hourglass:",
}


def message_url(channel_id: str, ts: str) -> str:
    """A link to a message without an API call (Slack redirects it into the reader's workspace)."""
    return f"https://slack.com/archives/{channel_id}/p{ts.replace('.', '')}"


def _excerpt(text: str) -> str:
    one_line = " ".join(text.split())
    return escape(truncate(one_line, EXCERPT_MAX))


def _local(moment: Any, settings: Settings) -> str:
    return str(moment.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M"))


def _when(moment: Any, settings: Settings) -> str:
    return slack_date(moment, _local(moment, settings))


def _account(settings: Settings, key: str) -> str:
    account = settings.account(key)
    return escape(account.name if account else key)


# ---------------------------------------------------------------------------------------------
# Reviews
# ---------------------------------------------------------------------------------------------


def decision_buttons(item: ReviewItem, t: Translator) -> ActionsBlock:
    """Approve / Request changes, built by the review feature (its action ids and button value)."""
    return review_messages.decision_buttons(
        RequestRef(item.id, item.revision, item.version),
        t,
        # Slack: block ids must be unique within a view.
        block_id=f"home_review_{item.id}",
        decisions=(Decision.APPROVE, Decision.REQUEST_CHANGES),
    )


def _thread_link(item: ReviewItem, t: Translator) -> str:
    if not item.channel_id or not item.message_ts:
        return ""
    return " · " + link(message_url(item.channel_id, item.message_ts), t("home.reviews.open_thread"))


def _waiting_item(item: ReviewItem, *, settings: Settings, t: Translator) -> list[Block]:
    planned = _when(item.planned_at, settings) if item.planned_at else t("home.reviews.no_planned")
    head = t(
        "home.reviews.waiting_line",
        who=user(item.requester_id),
        account=_account(settings, item.account_key),
        planned=planned,
    )
    if item.due_at is not None and item.due_at != item.planned_at:
        head += t("home.reviews.due", due=_when(item.due_at, settings))
    since = t("home.reviews.waiting_since", since=_when(item.waiting_since, settings)) + _thread_link(item, t)
    text = f"{head}\n&gt; {_excerpt(item.text)}\n{since}"
    return [mrkdwn(text), decision_buttons(item, t)]


def _mine_item(item: ReviewItem, *, settings: Settings, t: Translator) -> Block:
    emoji = _STATUS_EMOJI.get(item.status, ":grey_question:")
    status = t(f"home.mine.status_{item.status}") if item.status in _STATUS_EMOJI else escape(item.status)
    head = t("home.mine.line", emoji=emoji, status=status, account=_account(settings, item.account_key))
    if item.status == "pending" and item.due_at is not None and item.due_at != item.planned_at:
        head += t("home.reviews.due", due=_when(item.due_at, settings))
    return mrkdwn(f"{head}{_thread_link(item, t)}\n&gt; {_excerpt(item.text)}")


def _more(page: ItemPage, *, settings: Settings, t: Translator) -> list[Block]:
    if page.more <= 0:
        return []
    return [context(t("home.more_reviews", count=page.more, cmd=settings.slack.review_command))]


def _reviews(data: HomeData, *, settings: Settings, t: Translator) -> list[Block]:
    blocks: list[Block] = [mrkdwn(t("home.reviews.title", count=data.waiting.total))]
    if not data.waiting.total:
        blocks.append(context(t("home.reviews.none")))
    for item in data.waiting.items:
        blocks += _waiting_item(item, settings=settings, t=t)
    blocks += _more(data.waiting, settings=settings, t=t)
    blocks += [divider(), mrkdwn(t("home.mine.title", count=data.mine.total))]
    if not data.mine.total:
        blocks.append(context(t("home.mine.none", cmd=settings.slack.review_command)))
    blocks += [_mine_item(item, settings=settings, t=t) for item in data.mine.items]
    blocks += _more(data.mine, settings=settings, t=t)
    return blocks


# ---------------------------------------------------------------------------------------------
# KPIs and digests
# ---------------------------------------------------------------------------------------------


def pace_signal(status: KpiStatus, t: Translator) -> str:
    """Green when the value is where it should be by now, red when behind, white when unknown."""
    if status.on_track is None:
        return t("home.kpis.no_signal")
    return t("home.kpis.on_track") if status.on_track else t("home.kpis.behind")


def _kpis(data: HomeData, *, settings: Settings, t: Translator) -> list[Block]:
    title = t("home.kpis.title", month=month_label(t, data.month), elapsed=f"{data.elapsed * 100:.0f}")
    blocks: list[Block] = [mrkdwn(title)]
    if not data.kpis:
        blocks.append(context(t("home.kpis.none")))
        return blocks
    for status in data.kpis[:KPIS_SHOWN]:
        blocks.append(
            mrkdwn(
                f"{status_line(status, t)}\n{pace_signal(status, t)}",
                accessory=glossary_button(status.kpi.key, t),
            )
        )
    hidden = len(data.kpis) - KPIS_SHOWN
    footer = t("home.kpis.footer", cmd=settings.slack.kpi_command)
    if hidden > 0:
        footer = t("common.words.and_more", count=hidden) + " · " + footer
    blocks.append(context(footer))
    return blocks


def _digest_line(item: DigestLink, t: Translator) -> str:
    kind = (
        t(f"home.digests.kind_{item.kind}")
        if item.kind in ("weekly", "monthly", "quarterly")
        else escape(item.kind)
    )
    return t(
        "home.digests.line",
        kind=kind,
        period=escape(item.period),
        link=link(message_url(item.channel_id, item.message_ts), t("home.digests.open")),
    )


def _digests(links: Sequence[DigestLink], t: Translator) -> list[Block]:
    if not links:
        return [mrkdwn(t("home.digests.title")), context(t("home.digests.none"))]
    return [mrkdwn(t("home.digests.title") + "\n" + "\n".join(_digest_line(d, t) for d in links[:10]))]


# ---------------------------------------------------------------------------------------------
# Admin
# ---------------------------------------------------------------------------------------------


def _digest_state_line(state: DigestState, *, settings: Settings, t: Translator) -> str:
    kind = t(f"home.digests.kind_{state.kind}")
    if state.status == "off":
        return t("home.admin.digest_off", kind=kind)
    channels = t.join(f"<#{c}>" for c in state.channels)
    last = t(f"home.admin.status_{state.status}")
    if state.period:
        last = t("home.admin.last", period=escape(state.period), status=last)
    if state.last_at is not None:
        last += f" ({_when(state.last_at, settings)})"
    line = t(
        "home.admin.digest_line",
        emoji=_DIGEST_EMOJI.get(state.status, ":grey_question:"),
        kind=kind,
        channels=channels,
        last=last,
        next=_when(state.next_at, settings) if state.next_at else t("common.words.none"),
    )
    if state.error:
        line += "\n" + t("home.admin.error", error=escape(truncate(state.error, 300)))
    return line


def _collector_line(run: CollectorState, *, settings: Settings, t: Translator) -> str:
    """The data-freshness line of one platform: "X: updated 06:30 · 42 posts (3 new) · OK"."""
    status = t(f"home.admin.collector_{run.status}") if run.status in _COLLECTOR_EMOJI else escape(run.status)
    name_key = f"platforms.names.{run.platform}"
    line = t(
        "home.admin.collector_line",
        emoji=_COLLECTOR_EMOJI.get(run.status, ":grey_question:"),
        platform=t(name_key) if t.has(name_key) else escape(run.platform),
        status=status,
        at=_when(run.finished_at or run.started_at, settings),
        posts=run.posts_seen,
        new=run.posts_new,
    )
    if run.error:
        shown = run_errors.render(run.error, t)
        line += "\n" + t("home.admin.error", error=escape(truncate(shown, 300)))
    return line


def _admin(admin: AdminData, *, settings: Settings, t: Translator) -> list[Block]:
    digests = "\n".join(_digest_state_line(d, settings=settings, t=t) for d in admin.digests)
    if admin.collectors:
        collectors = "\n".join(_collector_line(c, settings=settings, t=t) for c in admin.collectors[:20])
    else:
        collectors = t("home.admin.no_collectors")
    preview = ButtonElement(
        action_id=DigestActionId.HOME_PREVIEW, text=plain(t("home.admin.preview")), value="weekly"
    )
    return [
        header(t("home.admin.title")),
        mrkdwn(t("home.admin.digests_title") + "\n" + digests),
        mrkdwn(t("home.admin.collectors_title") + "\n" + collectors),
        ActionsBlock(block_id=BlockId.ADMIN_ACTIONS, elements=[preview]),
    ]


# ---------------------------------------------------------------------------------------------
# The Home
# ---------------------------------------------------------------------------------------------


def _actions(data: HomeData, *, settings: Settings, t: Translator) -> ActionsBlock:
    buttons = [
        ButtonElement(
            action_id=ReviewActionId.START,
            text=plain(t("home.buttons.start_review")),
            value="review",
            style="primary",
        )
    ]
    if data.can_record and recordable_kpis(settings):
        buttons.append(
            ButtonElement(action_id=KpiActionId.RECORD, text=plain(t("home.buttons.record_kpi")), value="kpi")
        )
    buttons.append(
        ButtonElement(
            action_id=DigestActionId.HOME_SHARE_WIN, text=plain(t("home.buttons.share_win")), value="win"
        )
    )
    if data.is_manager:  # the introduction a manager got once, opened again (bot.welcome)
        buttons.append(reopen_button(t))
    return ActionsBlock(block_id=BlockId.ACTIONS, elements=buttons)


def _role(data: HomeData, t: Translator) -> str:
    if data.is_admin:
        return t("home.roles.admin")
    return t("home.roles.manager") if data.is_manager else t("home.roles.operator")


def build_home(data: HomeData, *, settings: Settings, t: Translator, language: Choice | None = None) -> View:
    """The user's Home tab: what waits on them first, then their requests, the KPIs and the digests;
    with ``language`` (their pick, :mod:`bot.slack.locales`), the language selector last."""
    today = data.now.astimezone(settings.tz).date()
    as_of = t(
        "home.as_of",
        date=t("home.date", year=today.year, month=today.month, day=today.day),
        role=_role(data, t),
    )
    blocks: list[Block] = [
        header(t("home.title")),
        context(as_of),
        _actions(data, settings=settings, t=t),
        divider(),
    ]
    blocks += _reviews(data, settings=settings, t=t)
    # Action items are judged against the month that ended (the one the last digest reviewed).
    reviewed = data.month.previous()
    if mine := actions_ui.home_section(data.actions, data.actions_total, month=reviewed, t=t):
        blocks += [divider(), *mine]
    blocks += [divider(), *_kpis(data, settings=settings, t=t)]
    blocks += [divider(), *_digests(data.digests, t)]
    if data.is_manager:
        away = away_ui.build_home_section(away_until=data.away_until, delegate_id=data.delegate_id, t=t)
        blocks += [divider(), *away]
    if data.participation is not None:
        blocks += [divider(), *participation_ui.home_section(data.participation, t)]
    if data.admin is not None:
        blocks += [divider(), *_admin(data.admin, settings=settings, t=t)]
    if language is not None:
        blocks += [
            divider(),
            *language_ui.build_home_section(choice=language, team_locale=settings.locale, t=t),
        ]
    return View(type="home", blocks=cap_blocks(blocks, more=t("home.cut")))


def cap_blocks(blocks: Sequence[Block], *, more: str, limit: int = VIEW_BLOCKS_MAX) -> list[Block]:
    """At most ``limit`` blocks; when cut, the last one says so (a safety net: lists are paged)."""
    if len(blocks) <= limit:
        return list(blocks)
    return [*blocks[: limit - 1], context(more)]


# ---------------------------------------------------------------------------------------------
# Modals
# ---------------------------------------------------------------------------------------------


def _values(view: Mapping[str, Any]) -> Mapping[str, Any]:
    values = view.get("state", {}).get("values", {})
    return values if isinstance(values, Mapping) else {}


def _typed(values: Mapping[str, Any], block: str, action: str) -> str | None:
    value = values.get(block, {}).get(action, {}).get("value")
    return value.strip() if isinstance(value, str) and value.strip() else None
