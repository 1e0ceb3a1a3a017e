"""Block Kit for away mode's section of the App Home: the last away day and the delegate, each with
its picker and clear button (pure). The Home composes it (:func:`bot.home.ui.build_home`); the
clicks reach :mod:`bot.away.listeners`."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DatePickerElement, UserSelectElement

from bot.away.ids import ActionId, BlockId
from bot.i18n import Translator
from bot.slack.blocks import mrkdwn, plain, user


def build_home_section(*, away_until: date | None, delegate_id: str | None, t: Translator) -> list[Block]:
    """Away mode on a manager's Home: until when they are away, then who decides for them meanwhile.

    Args:
        away_until: their last away day when it is today or later (:func:`bot.away.queries.away_until`).
        delegate_id: who they named, away or not (:func:`bot.away.queries.delegate_of`).
        t: the workspace's translator.
    """
    if away_until is not None:
        day = t("away.date", year=away_until.year, month=away_until.month, day=away_until.day)
        text = t("away.on", date=day)
    else:
        text = t("away.off")
    picker = DatePickerElement(
        action_id=ActionId.AWAY_UNTIL,
        initial_date=away_until.isoformat() if away_until else None,
        placeholder=plain(t("away.pick"), 150),
    )
    blocks: list[Block] = [mrkdwn(t("away.title") + "\n" + text, block_id=BlockId.AWAY, accessory=picker)]
    if away_until is not None:
        back = ButtonElement(action_id=ActionId.AWAY_CLEAR, text=plain(t("away.back")), value="clear")
        blocks.append(ActionsBlock(block_id=BlockId.AWAY_ACTIONS, elements=[back]))
    return blocks + _delegate(away_until=away_until, delegate_id=delegate_id, t=t)


def _delegate(*, away_until: date | None, delegate_id: str | None, t: Translator) -> list[Block]:
    """Next to away mode: who decides for this user while they are away (a configured manager)."""
    if delegate_id:
        key = "away.delegate.active" if away_until is not None else "away.delegate.set"
        text = t(key, user=user(delegate_id))
    else:
        text = t("away.delegate.none")
    picker = UserSelectElement(
        action_id=ActionId.DELEGATE,
        initial_user=delegate_id or None,
        placeholder=plain(t("away.delegate.pick"), 150),
    )
    blocks: list[Block] = [
        mrkdwn(t("away.delegate.title") + "\n" + text, block_id=BlockId.DELEGATE, accessory=picker)
    ]
    if delegate_id:
        clear = ButtonElement(
            action_id=ActionId.DELEGATE_CLEAR, text=plain(t("away.delegate.clear")), value="clear"
        )
        blocks.append(ActionsBlock(block_id=BlockId.DELEGATE_ACTIONS, elements=[clear]))
    return blocks
