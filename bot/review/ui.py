"""Block Kit for /sns-review (pure)."""

from __future__ import annotations

from bot.config import Settings
from bot.i18n import Translator
from bot.slack.blocks import Message, escape, header, mrkdwn


def build_help(settings: Settings, t: Translator, *, not_understood: str | None = None) -> Message:
    cmd = settings.slack.review_command
    blocks = []
    if not_understood is not None:
        blocks.append(mrkdwn(t("common.errors.unknown_subcommand", text=escape(not_understood))))
    blocks += [header(t("review.help.title")), mrkdwn(t("review.help.body", cmd=cmd))]
    return Message(text=t("review.help.title"), blocks=blocks)
