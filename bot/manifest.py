"""The Slack app manifest that matches a config (pure): commands, shortcut, Home tab, events, scopes."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.i18n import translator

#: Callback id of the "Share as SNS win" message shortcut (also used by the digest feature).
WIN_SHORTCUT_CALLBACK_ID = "digest.share_win"

BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "files:write",
    "channels:history",
    "groups:history",
    "usergroups:read",
    "users:read",
    # Participation (bot.participation): reactions on the bot's own posts.
    "reactions:read",
    # Import from Slack: export files dropped into the bot's DM (files.info and the download; the
    # DM's messages, which carry the files). A nudge DM retried after an ambiguous failure also looks
    # in the DM for its earlier post (bot.participation.delivery).
    "files:read",
    "im:history",
)
#: ``reaction_*``: reactions on the bot's posts (scope ``reactions:read``). ``message.channels`` /
#: ``message.groups``: thread replies on the bot's posts; they need ``channels:history`` /
#: ``groups:history``, which the bot already holds to find its own digests after an ambiguous post.
#: Slack has no subscription for "replies in my threads" only, so every message of a channel the bot
#: was invited to arrives, and all but replies whose ``parent_user_id`` is the bot are dropped unread.
#: ``message.im``/``file_shared``: the two events of one file dropped into the bot's DM.
BOT_EVENTS = (
    "app_home_opened",
    "reaction_added",
    "reaction_removed",
    "message.channels",
    "message.groups",
    "message.im",
    "file_shared",
)


def build_manifest(settings: Settings, *, socket_mode: bool | None = None) -> dict[str, Any]:
    """The manifest as a dict; request URLs in HTTP mode, ``socket_mode_enabled`` otherwise.

    Args:
        socket_mode: force a mode; default: Socket Mode when ``SLACK_APP_TOKEN`` is set.
    """
    socket = settings.socket_mode if socket_mode is None else socket_mode
    t = translator(settings.locale)
    url = (settings.server.public_url or "https://bot.example.com") + settings.server.path

    def command(name: str, key: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "command": name,
            "description": t(f"manifest.{key}.description"),
            "usage_hint": t(f"manifest.{key}.usage_hint"),
            "should_escape": False,
        }
        if not socket:
            out["url"] = url
        return out

    settings_block: dict[str, Any] = {
        "event_subscriptions": {"bot_events": list(BOT_EVENTS)},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "socket_mode_enabled": socket,
        "token_rotation_enabled": False,
    }
    if not socket:
        settings_block["event_subscriptions"]["request_url"] = url
        settings_block["interactivity"]["request_url"] = url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": settings.slack.app_name[:35],
            "description": t("manifest.description")[:140],
            "background_color": "#1d4ed8",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                # People drop export files into the bot's DM: they must be able to write there.
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": _display_name(settings.slack.app_name), "always_online": True},
            "shortcuts": [
                {
                    "name": t("manifest.win_shortcut.name"),
                    "type": "message",
                    "callback_id": WIN_SHORTCUT_CALLBACK_ID,
                    "description": t("manifest.win_shortcut.description"),
                }
            ],
            "slash_commands": [
                command(settings.slack.review_command, "review_command"),
                command(settings.slack.kpi_command, "kpi_command"),
            ],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": settings_block,
    }


def _display_name(app_name: str) -> str:
    # Slack: display names are lower-case letters, digits, '-', '_' and '.', 80 characters at most.
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in app_name.lower()).strip("-")
    return (cleaned or "sns-team-bot")[:80]


def to_yaml(manifest: dict[str, Any]) -> str:
    """Manifest YAML without a YAML library: the manifest holds only dicts, lists, str and bool."""
    lines: list[str] = []
    _emit(manifest, 0, lines)
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    import json

    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid YAML scalar


def _emit(value: Any, indent: int, lines: list[str]) -> None:
    pad = "  " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:")
                _emit(item, indent + 1, lines)
            elif isinstance(item, dict | list):
                lines.append(f"{pad}{key}: {'{}' if isinstance(item, dict) else '[]'}")
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                first = True
                sub: list[str] = []
                _emit(item, indent + 1, sub)
                for line in sub:
                    if first:
                        lines.append(f"{pad}- {line.lstrip()}")
                        first = False
                    else:
                        lines.append(line)
            else:
                lines.append(f"{pad}- {_scalar(item)}")
