"""Block Kit for the App Home's language section: what the person reads in, and a selector Auto (their
Slack language) / 日本語 / English (pure). The Home composes it (:func:`bot.home.ui.build_home`); the
choice reaches :mod:`bot.language.listeners`."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, Option, StaticSelectElement

from bot.i18n import Translator
from bot.language.ids import ActionId, BlockId
from bot.slack.blocks import mrkdwn, plain
from bot.slack.locales import Choice


def choice_label(choice: Choice, t: Translator) -> str:
    """``Auto`` in the reader's language; a language by its own name (日本語, English) for anyone."""
    return t(f"language.choices.{choice.value}")


def build_home_section(*, choice: Choice, team_locale: str, t: Translator) -> list[Block]:
    """The language section of anyone's Home.

    Args:
        choice: what this person picked (``AUTO``: follow their Slack locale).
        team_locale: the configured ``locale``, the language of channel posts.
        t: the translator of this person's language (the one the Home is drawn in).
    """
    options = [Option(value=c.value, text=plain(choice_label(c, t))) for c in Choice]
    selector = StaticSelectElement(
        action_id=ActionId.CHOOSE,
        placeholder=plain(t("language.pick"), 150),
        options=options,
        initial_option=options[list(Choice).index(choice)],
    )
    team = t(f"language.choices.{team_locale}")
    text = t("language.title") + "\n" + t("language.explain", team=team)
    return [mrkdwn(text, block_id=BlockId.LANGUAGE, accessory=selector)]
