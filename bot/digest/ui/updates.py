"""Updating a posted digest from Slack: the admin's "update the posted digest" buttons under a preview,
and the answer saying what each channel got (pure Block Kit)."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ConfirmObject

from bot.digest.ids import ActionId
from bot.i18n import Translator
from bot.slack.blocks import Message, context, mrkdwn, plain


def encode_target(kind: str, period: str) -> str:
    return f"{kind}:{period}"


def decode_target(value: object) -> tuple[str, str] | None:
    """``(kind, period)`` of a button value; ``None`` for anything malformed."""
    if not isinstance(value, str) or value.count(":") != 1:
        return None
    kind, period = value.split(":")
    return (kind, period) if kind in ("weekly", "monthly") and period else None


def build_update_offer(posted: Sequence[tuple[str, str]], *, t: Translator) -> Message | None:
    """Under the admin's preview: one button per posted digest that late data may correct."""
    if not posted:
        return None
    buttons = [
        ButtonElement(
            text=plain(t("digest_updates.button", kind=t(f"digest.kinds.{kind}"), period=period)),
            action_id=ActionId.UPDATE_POSTED,
            value=encode_target(kind, period),
            confirm=ConfirmObject(
                title=plain(t("digest_updates.confirm_title"), 100),
                text=t("digest_updates.confirm_text", kind=t(f"digest.kinds.{kind}"), period=period),
                confirm=plain(t("digest_updates.confirm_yes"), 30),
                deny=plain(t("digest_updates.confirm_no"), 30),
            ),
        )
        for kind, period in posted[:5]
    ]
    text = t("digest_updates.offer")
    blocks: list[Block] = [mrkdwn(text), ActionsBlock(block_id="digest_update_offer", elements=buttons)]
    return Message(text=text, blocks=blocks)


def build_update_result(lines: Sequence[str], *, t: Translator) -> Message:
    text = "\n".join(lines) or t("digest_updates.nothing")
    return Message(text=text, blocks=[mrkdwn(text), context(t("digest_updates.result_hint"))])
