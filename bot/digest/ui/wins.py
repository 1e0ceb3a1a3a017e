"""The "share a win" modals and their ``parse_*`` (pure): the win itself (what happened, the KPI it
moved), opened by the message shortcut, and, from the App Home, a first step asking which message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import Block, InputBlock, Option, PlainTextInputElement, StaticSelectElement
from slack_sdk.models.views import View

from bot.config import Settings
from bot.digest.ids import ActionId, BlockId, CallbackId, WinTarget
from bot.digest.ui.document import excerpt
from bot.i18n import Translator
from bot.slack import blocks as bk

#: Slack: modal titles and button labels ≤ 24 characters.
MODAL_TITLE_MAX = 24


def build_win_modal(*, target: WinTarget, message_text: str, settings: Settings, t: Translator) -> View:
    """The small modal the message shortcut opens: what happened, and optionally the KPI it moved."""
    blocks: list[Block] = []
    shown = excerpt(message_text, 280)
    if shown:
        blocks.append(bk.context(t("digest.win_modal.message", text=bk.escape(shown))))
    blocks.append(
        InputBlock(
            block_id=BlockId.WIN_WHAT,
            label=bk.plain(t("digest.win_modal.what_label")),
            element=PlainTextInputElement(
                action_id=ActionId.WIN_WHAT,
                multiline=True,
                max_length=1000,
                placeholder=bk.plain(t("digest.win_modal.what_placeholder"), 150),
            ),
        )
    )
    if settings.kpis:
        options = [Option(value=k.key, text=bk.plain(k.name.get(t.locale))) for k in settings.kpis[:100]]
        blocks.append(
            InputBlock(
                block_id=BlockId.WIN_KPI,
                label=bk.plain(t("digest.win_modal.kpi_label")),
                optional=True,
                element=StaticSelectElement(
                    action_id=ActionId.WIN_KPI,
                    placeholder=bk.plain(t("digest.win_modal.kpi_placeholder"), 150),
                    options=options,
                ),
            )
        )
    return View(
        type="modal",
        callback_id=CallbackId.WIN_MODAL,
        title=bk.plain(t("digest.win_modal.title"), MODAL_TITLE_MAX),
        submit=bk.plain(t("digest.win_modal.submit"), MODAL_TITLE_MAX),
        close=bk.plain(t("digest.win_modal.close"), MODAL_TITLE_MAX),
        private_metadata=target.encode(),
        blocks=blocks,
    )


@dataclass(frozen=True, slots=True)
class WinInput:
    what: str
    kpi_key: str | None


def parse_win_modal(view: Mapping[str, Any], *, settings: Settings) -> tuple[WinInput | None, dict[str, str]]:
    """The submitted win, or catalog keys of problems by block id (shown inline in the modal)."""
    values = view.get("state", {}).get("values", {})
    typed = values.get(BlockId.WIN_WHAT, {}).get(ActionId.WIN_WHAT, {}).get("value")
    # NUL goes: no keyboard types it, and PostgreSQL text cannot store it.
    what = typed.replace("\x00", "").strip() if isinstance(typed, str) else ""
    selected = values.get(BlockId.WIN_KPI, {}).get(ActionId.WIN_KPI, {}).get("selected_option") or {}
    kpi_key = selected.get("value") or None
    problems: dict[str, str] = {}
    if not what:
        problems[BlockId.WIN_WHAT] = "digest.errors.win_empty"
    if kpi_key is not None and settings.kpi_def(kpi_key) is None:
        problems[BlockId.WIN_KPI] = "digest.errors.unknown_kpi"
    if problems:
        return None, problems
    return WinInput(what=what[:1000], kpi_key=kpi_key), {}


def build_win_saved_view(*, next_digest: str, t: Translator) -> View:
    """What the modal turns into after a win is submitted."""
    return View(
        type="modal",
        title=bk.plain(t("digest.win_modal.title"), MODAL_TITLE_MAX),
        close=bk.plain(t("digest.win_modal.done"), MODAL_TITLE_MAX),
        blocks=[bk.mrkdwn(t("digest.win_modal.saved", when=next_digest))],
    )


def build_win_link_modal(*, t: Translator) -> View:
    """Step one of sharing a win from the Home: which message (the shortcut knows it; the Home does not)."""
    return View(
        type="modal",
        callback_id=CallbackId.WIN_LINK_MODAL,
        title=bk.plain(t("home.win.title"), MODAL_TITLE_MAX),
        submit=bk.plain(t("home.win.next"), MODAL_TITLE_MAX),
        close=bk.plain(t("home.modal_close"), MODAL_TITLE_MAX),
        blocks=[
            bk.context(t("home.win.intro")),
            InputBlock(
                block_id=BlockId.WIN_LINK,
                label=bk.plain(t("home.win.link")),
                hint=bk.plain(t("home.win.link_hint"), 2000),
                element=PlainTextInputElement(
                    action_id=ActionId.WIN_LINK,
                    max_length=500,
                    placeholder=bk.plain(t("home.win.link_placeholder"), 150),
                ),
            ),
        ],
    )


def parse_win_link_modal(view: Mapping[str, Any]) -> str:
    """The link as typed (stripped; ``""`` when none)."""
    values = view.get("state", {}).get("values", {})
    if not isinstance(values, Mapping):
        return ""
    typed = values.get(BlockId.WIN_LINK, {}).get(ActionId.WIN_LINK, {}).get("value")
    return typed.strip() if isinstance(typed, str) else ""
