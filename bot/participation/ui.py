"""Block Kit and text for participation (pure): the monthly digest's section, the weekly invitation
note, the nudge DM and its answer, and the App Home's part (composed by :mod:`bot.home.ui`)."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.i18n import Translator
from bot.participation.ids import ActionId, SectionMode
from bot.participation.records import HomePart, ManagerPart, ParticipationSummary
from bot.runtime.ports import RecentWins
from bot.slack import blocks as bk

#: Characters of a win shown in a nudge line.
WIN_MAX = 120
#: Wins a nudge shows ("last week's wins in two lines").
NUDGE_WINS = 2


def _num(value: float, decimals: int = 0) -> str:
    text = f"{value:,.{decimals}f}"
    return "0" if decimals == 0 and text == "-0" else text


def fmt_rate(value: float | None, t: Translator) -> str:
    return (
        t("participation.words.na") if value is None else t("participation.words.percent", value=_num(value))
    )


def fmt_hours(value: float | None, t: Translator) -> str:
    return (
        t("participation.words.na") if value is None else t("participation.words.hours", value=_num(value, 1))
    )


def _person_line(part: ManagerPart, t: Translator) -> str:
    return t(
        "participation.digest.person",
        who=bk.user(part.user_id),
        decisions=part.decisions,
        median=fmt_hours(part.median_decide_hours, t),
        comments=part.comments,
        reactions=part.reactions,
        replies=part.replies,
    )


def digest_section(
    summary: ParticipationSummary, *, mode: SectionMode, t: Translator
) -> tuple[str, tuple[str, ...]] | None:
    """The monthly digest's participation section as (title, lines); ``None`` when ``mode`` is off or
    nobody is configured as a manager.

    ``named`` thanks by name the managers who took part and only counts the others (nobody is shamed by
    name); ``counts`` shows totals only.
    """
    if mode is SectionMode.OFF or not summary.managers:
        return None
    took_part = len(summary.participants)
    lines = [
        t(
            "participation.digest.rate",
            rate=fmt_rate(summary.rate, t),
            count=took_part,
            total=len(summary.managers),
        ),
        t(
            "participation.digest.totals",
            decisions=summary.decisions,
            median=fmt_hours(summary.median_decide_hours, t),
            reactions=summary.reactions,
            replies=summary.replies,
        ),
    ]
    if mode is SectionMode.NAMED and took_part:
        lines.append(t("participation.digest.thanks"))
        lines += [_person_line(part, t) for part in summary.participants]
    if summary.silent:
        lines.append(t("participation.digest.others", count=summary.silent))
    if summary.unresolved_groups:
        lines.append(t("participation.digest.incomplete", count=summary.unresolved_groups))
    lines.append(
        t(
            "participation.digest.operators",
            requests=summary.requests,
            requesters=summary.requesters,
            wins=summary.wins,
        )
    )
    return t("participation.digest.title"), tuple(lines)


def weekly_note(*, reacted: int, total: int, t: Translator) -> str | None:
    """The weekly invitation's count: how many managers reacted to the bot's posts in the week."""
    if total <= 0:
        return None
    if reacted == 0:
        return t("participation.weekly.none", total=total)
    return t("participation.weekly.reacted", count=reacted, total=total)


# ---------------------------------------------------------------------------------------------
# The nudge
# ---------------------------------------------------------------------------------------------


def _win_line(what: str) -> str:
    return "• " + bk.escape(bk.truncate(" ".join(what.split()), WIN_MAX))


def nudge_message(*, user_id: str, wins: RecentWins, slot: str, t: Translator) -> bk.Message:
    """The kind nudge: last week's wins in two lines, one button to open them, "remind me next week"."""
    if wins.wins:
        lines = [_win_line(w.what) for w in wins.wins[:NUDGE_WINS]]
        if wins.total > NUDGE_WINS:
            lines.append(t("participation.nudge.more", count=wins.total - NUDGE_WINS))
        body = t("participation.nudge.wins_intro", count=wins.total) + "\n" + "\n".join(lines)
    else:
        body = t("participation.nudge.no_wins")
    buttons: list[ButtonElement] = []
    if wins.url:
        buttons.append(
            ButtonElement(
                action_id=ActionId.OPEN_WINS,
                text=bk.plain(t("participation.nudge.open")),
                url=wins.url,
                style="primary",
            )
        )
    buttons.append(
        ButtonElement(action_id=ActionId.SNOOZE, text=bk.plain(t("participation.nudge.snooze")), value=slot)
    )
    blocks: list[Block] = [
        bk.mrkdwn(t("participation.nudge.hello", who=bk.user(user_id))),
        bk.mrkdwn(body),
        ActionsBlock(block_id="participation_nudge", elements=buttons),
        bk.context(t("participation.nudge.footer")),
    ]
    return bk.Message(text=t("participation.nudge.fallback"), blocks=blocks)


def snoozed_message(*, day: date, t: Translator) -> bk.Message:
    text = t("participation.nudge.snoozed", date=t("participation.words.date", month=day.month, day=day.day))
    return bk.Message(text=text, blocks=[bk.mrkdwn(text)])


# ---------------------------------------------------------------------------------------------
# App Home
# ---------------------------------------------------------------------------------------------


def home_section(part: HomePart, t: Translator) -> list[Block]:
    """A manager's part this month next to the team's rate, and their nudge switch."""
    mine = part.mine
    if mine.took_part:
        own = t(
            "participation.home.mine",
            decisions=mine.decisions,
            comments=mine.comments,
            reactions=mine.reactions,
            replies=mine.replies,
        )
    else:
        own = t("participation.home.mine_none")
    team = t(
        "participation.home.team",
        rate=fmt_rate(part.team_rate, t),
        count=part.team_took_part,
        total=part.team_size,
    )
    blocks: list[Block] = [
        bk.mrkdwn(t("participation.home.title", month=part.period.label) + "\n" + own + "\n" + team)
    ]
    if not part.feature_on:
        blocks.append(bk.context(t("participation.home.feature_off")))
        return blocks
    if part.nudges_on:
        text, action, label = (
            "participation.home.nudges_on",
            ActionId.NUDGES_OFF,
            "participation.home.turn_off",
        )
    else:
        text, action, label = (
            "participation.home.nudges_off",
            ActionId.NUDGES_ON,
            "participation.home.turn_on",
        )
    button = ButtonElement(action_id=action, text=bk.plain(t(label)), value=action.value)
    blocks.append(bk.mrkdwn(t(text), block_id="participation_nudges", accessory=button))
    return blocks
