"""Block Kit of the monthly review's action items: the "Add an action item" button and modal with the
parsing of its state, the item's own message, the lines a monthly digest opens with, and the owner's
App Home section (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.actions.ids import ActionId, AddTarget, BlockId, CallbackId
from bot.actions.records import WHAT_MAX, ItemView, NewItem, ReviewMemory, due_months
from bot.config import Settings
from bot.errors import BotError
from bot.i18n import Translator
from bot.periods import Period
from bot.slack.blocks import Message, context, escape, mrkdwn, plain, slack_date, truncate, user

#: Slack: modal titles and submit/close labels are at most 24 characters.
MODAL_TITLE_MAX = 24
#: Characters of an item shown in a digest or Home line.
LINE_MAX = 160


def month_label(t: Translator, label: str) -> str:
    year, month = label.split("-")
    return t("actions.month", year=int(year), month=int(month))


# ---------------------------------------------------------------------------------------------
# Adding an item
# ---------------------------------------------------------------------------------------------


def add_button(period: Period, t: Translator) -> ButtonElement:
    """On a monthly digest: anyone can add an action item agreed in its review."""
    return ButtonElement(action_id=ActionId.ADD, text=plain(t("actions.add.button")), value=period.label)


def build_add_modal(target: AddTarget, *, current: Period, t: Translator) -> View:
    """What, owner and due month (this month and the five after it; this month first)."""
    months = [Option(value=m.label, text=plain(month_label(t, m.label))) for m in due_months(current)]
    return View(
        type="modal",
        callback_id=CallbackId.ADD,
        private_metadata=target.encode(),
        title=plain(t("actions.add.title"), MODAL_TITLE_MAX),
        submit=plain(t("actions.add.submit"), MODAL_TITLE_MAX),
        close=plain(t("actions.add.close"), MODAL_TITLE_MAX),
        blocks=[
            context(t("actions.add.intro", period=month_label(t, target.period))),
            InputBlock(
                block_id=BlockId.WHAT,
                label=plain(t("actions.add.what")),
                hint=plain(t("actions.add.what_hint"), 2000),
                element=PlainTextInputElement(action_id=ActionId.WHAT, multiline=True, max_length=WHAT_MAX),
            ),
            InputBlock(
                block_id=BlockId.OWNER,
                label=plain(t("actions.add.owner")),
                element=UserSelectElement(
                    action_id=ActionId.OWNER, placeholder=plain(t("actions.add.owner_placeholder"))
                ),
            ),
            InputBlock(
                block_id=BlockId.DUE,
                label=plain(t("actions.add.due")),
                element=StaticSelectElement(action_id=ActionId.DUE, options=months, initial_option=months[0]),
            ),
        ],
    )


def _state(view: Mapping[str, Any], block: str, action: str) -> Mapping[str, Any]:
    values = (view.get("state") or {}).get("values") or {}
    value = (values.get(block) or {}).get(action) or {}
    return value if isinstance(value, Mapping) else {}


def parse_add_modal(view: Mapping[str, Any], *, current: Period) -> NewItem:
    """The submitted form, validated.

    Raises:
        BotError: with the block id of the input at fault (shown inline), or ``bad_target``.
    """
    target = AddTarget.decode(view.get("private_metadata"))
    what = _state(view, BlockId.WHAT, ActionId.WHAT).get("value")
    what = " ".join(what.split()) if isinstance(what, str) else ""
    if not what:
        raise BotError("actions.errors.what_missing", block_id=BlockId.WHAT)
    if len(what) > WHAT_MAX:
        raise BotError("actions.errors.what_too_long", block_id=BlockId.WHAT, max=WHAT_MAX)
    owner = _state(view, BlockId.OWNER, ActionId.OWNER).get("selected_user")
    if not isinstance(owner, str) or owner[:1] not in ("U", "W") or not owner[1:].isalnum():
        raise BotError("actions.errors.owner_missing", block_id=BlockId.OWNER)
    option = _state(view, BlockId.DUE, ActionId.DUE).get("selected_option") or {}
    due = option.get("value") if isinstance(option, Mapping) else None
    if due not in {m.label for m in due_months(current)}:
        raise BotError("actions.errors.bad_due", block_id=BlockId.DUE)
    return NewItem(target=target, what=what, owner_id=owner, due_month=str(due))


# ---------------------------------------------------------------------------------------------
# An item as a line, and as its own message
# ---------------------------------------------------------------------------------------------


def status_text(item: ItemView, *, month: Period, t: Translator) -> str:
    """``:white_check_mark: Done`` / ``:warning: Overdue (due Nov 2026)`` / ``:hourglass: Open …``."""
    due = month_label(t, item.due_month)
    if item.done:
        return t("actions.status.done", who=user(item.done_by or item.owner_id))
    if item.overdue(month):
        return t("actions.status.overdue", due=due)
    return t("actions.status.open", due=due)


def item_line(item: ItemView, *, month: Period, t: Translator) -> str:
    what = escape(truncate(item.what, LINE_MAX))
    return t("actions.line", what=what, owner=user(item.owner_id), status=status_text(item, month=month, t=t))


@dataclass(frozen=True, slots=True)
class MemoryLines:
    """What a digest section shows: a title, one line per item and a one-line summary."""

    title: str
    lines: tuple[str, ...]
    note: str


def memory_lines(memory: ReviewMemory, t: Translator) -> MemoryLines:
    """The review's memory as lines: last month's items, then the carried-over ones, then counts."""
    month = memory.period
    lines = [item_line(item, month=month, t=t) for item in memory.last]
    if memory.carried:
        lines.append(t("actions.digest.carried_title", count=len(memory.carried)))
        lines += [item_line(item, month=month, t=t) for item in memory.carried]
    note = t(
        "actions.digest.summary",
        done=memory.done_count,
        total=len(memory.last),
        overdue=memory.overdue_count,
        carried=len(memory.carried),
    )
    return MemoryLines(t("actions.digest.title"), tuple(lines), note)


def done_button(item: ItemView, t: Translator) -> ButtonElement:
    return ButtonElement(
        action_id=ActionId.DONE, text=plain(t("actions.done.button")), value=str(item.id), style="primary"
    )


def item_message(item: ItemView, *, month: Period, t: Translator) -> Message:
    """The item's message in the digest thread: what, owner, due month, and "Mark as done" while open."""
    head = t(
        "actions.message.head",
        who=user(item.created_by),
        what=escape(item.what),
        owner=user(item.owner_id),
        due=month_label(t, item.due_month),
    )
    blocks: list[Block] = [mrkdwn(head)]
    if item.done and item.done_at is not None:
        when = slack_date(item.done_at, item.done_at.date().isoformat(), "{date_short_pretty}")
        blocks.append(context(t("actions.message.done", who=user(item.done_by or item.owner_id), when=when)))
    else:
        blocks.append(context(status_text(item, month=month, t=t) + " · " + t("actions.message.owner_hint")))
        blocks.append(ActionsBlock(block_id=f"actions_item_{item.id}", elements=[done_button(item, t)]))
    return Message(text=t("actions.message.fallback", what=truncate(escape(item.what), 200)), blocks=blocks)


def home_section(items: Sequence[ItemView], total: int, *, month: Period, t: Translator) -> list[Block]:
    """The owner's open items on their App Home, each with "Mark as done" (empty: no section)."""
    if not total:
        return []
    blocks: list[Block] = [mrkdwn(t("actions.home.title", count=total))]
    for item in items:
        # Slack: block ids must be unique within a view.
        blocks.append(
            mrkdwn(
                item_line(item, month=month, t=t),
                block_id=f"home_action_{item.id}",
                accessory=done_button(item, t),
            )
        )
    if total > len(items):
        blocks.append(context(t("common.words.and_more", count=total - len(items))))
    return blocks


# ---------------------------------------------------------------------------------------------
# The questions that open the monthly digest's thread
# ---------------------------------------------------------------------------------------------

#: The catalog's questions when ``[digest.monthly] questions`` is not set.
DEFAULT_QUESTIONS = (
    "actions.questions.default_1",
    "actions.questions.default_2",
    "actions.questions.default_3",
)


def questions(settings: Settings, t: Translator) -> list[str]:
    """The configured questions in ``t``'s language, else the catalog's three; ``[]`` asks none."""
    configured = settings.digest.monthly.questions
    if configured is None:
        return [t(key) for key in DEFAULT_QUESTIONS]
    return [q.get(t.locale) for q in configured]


def questions_message(settings: Settings, t: Translator) -> Message | None:
    """The first reply in the monthly digest's thread: the review's questions (``None``: none set)."""
    asked = questions(settings, t)
    if not asked:
        return None
    lines = [t("actions.questions.line", number=i, question=escape(q)) for i, q in enumerate(asked, start=1)]
    text = t("actions.questions.intro") + "\n" + "\n".join(lines)
    return Message(text=text, blocks=[mrkdwn(text), context(t("actions.questions.outro"))])
