"""The manager introduction as Block Kit: what the bot will ask, useful feedback in two minutes (with an
example), and the KPIs the team shares with their "why" — as a DM and as the App Home's modal (pure)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ButtonElement
from slack_sdk.models.views import View

from bot.config import Settings
from bot.i18n import Translator
from bot.kpi.glossary_ui import glossary_button
from bot.slack.blocks import Message, context, divider, escape, header, mrkdwn, plain
from bot.welcome.ids import ActionId, CallbackId

#: KPIs listed with their own block (and glossary button); more are named in one line.
KPIS_SHOWN = 10
#: Slack: modal titles and close labels are at most 24 characters.
MODAL_TITLE_MAX = 24


def _kpis(settings: Settings, t: Translator, *, buttons: bool) -> list[Block]:
    if not settings.kpis:
        return [mrkdwn(t("welcome.kpis.none"))]
    blocks: list[Block] = [mrkdwn(t("welcome.kpis.title"))]
    for kpi in settings.kpis[:KPIS_SHOWN]:
        line = t("welcome.kpis.line", name=escape(kpi.name.get(t.locale)), why=escape(kpi.why.get(t.locale)))
        blocks.append(mrkdwn(line, accessory=glossary_button(kpi.key, t) if buttons else None))
    rest = settings.kpis[KPIS_SHOWN:]
    if rest:
        names = t.join(escape(k.name.get(t.locale)) for k in rest)
        blocks.append(context(t("welcome.kpis.more", names=names)))
    blocks.append(context(t("welcome.kpis.help", cmd=settings.slack.kpi_command)))
    return blocks


def _body(settings: Settings, t: Translator, *, buttons: bool) -> list[Block]:
    asks = t(
        "welcome.asks.body",
        channel=f"<#{settings.review.channel}>" if settings.review.channel else t("welcome.asks.no_channel"),
        cmd=settings.slack.review_command,
    )
    return [
        mrkdwn(t("welcome.intro")),
        mrkdwn(f"*{t('welcome.asks.title')}*\n{asks}"),
        divider(),
        mrkdwn(f"*{t('welcome.feedback.title')}*\n{t('welcome.feedback.body')}"),
        mrkdwn(t("welcome.feedback.example")),
        divider(),
        *_kpis(settings, t, buttons=buttons),
    ]


def build_welcome(settings: Settings, t: Translator) -> Message:
    """The one-time DM (each KPI with its "What does this mean?" button)."""
    blocks: list[Block] = [header(t("welcome.title"))]
    blocks += _body(settings, t, buttons=True)
    blocks.append(context(t("welcome.reopen_hint")))
    return Message(text=t("welcome.fallback"), blocks=blocks)


def build_modal(settings: Settings, t: Translator) -> View:
    """The same introduction, re-opened from the App Home."""
    return View(
        type="modal",
        callback_id=CallbackId.MODAL,
        title=plain(t("welcome.modal_title"), MODAL_TITLE_MAX),
        close=plain(t("welcome.close"), MODAL_TITLE_MAX),
        blocks=_body(settings, t, buttons=True),
    )


def reopen_button(t: Translator) -> ButtonElement:
    """The App Home's "How this bot works for managers" button."""
    return ButtonElement(action_id=ActionId.REOPEN, text=plain(t("welcome.reopen_button")), value="welcome")
