"""Builders for realistic Slack-to-bot payloads: slash commands, interactivity, Events API envelopes (pure).

Shapes follow /work/shared/slack/README.md §1. Pass `response_url=slack.response_url("name")` so that
`respond()` lands in the fake; the default points at a closed port, so a forgotten URL fails loudly.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from typing import Any

TEAM_ID = "T0001"
TEAM_DOMAIN = "acme"
API_APP_ID = "A0APP0001"
BOT_USER_ID = "U0BOT0001"
BOT_ID = "B0BOT0001"
VERIFICATION_TOKEN = "gIkuvaNzQIHg97ATvDxqgjtO"
USER_ID = "U0ALICE01"
CHANNEL_ID = "C0DIGEST1"
UNSET_RESPONSE_URL = "http://127.0.0.1:9/response/unset"
ACTION_TS = "1767225610.123456"

_trigger_counter = itertools.count(1)


def trigger_id() -> str:
    """A fresh, realistic trigger id (unique within the test run)."""
    return f"1234567890.111111111.{next(_trigger_counter):032x}"


def _user(user_id: str) -> dict[str, str]:
    name = user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": TEAM_ID}


def _team() -> dict[str, str]:
    return {"id": TEAM_ID, "domain": TEAM_DOMAIN}


def slash_command(
    command: str,
    text: str = "",
    *,
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
    channel_name: str = "general",
    response_url: str = UNSET_RESPONSE_URL,
) -> dict[str, str]:
    """Form fields of a slash command, ready for `SlackSender.command`."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id(),
    }


def bot_message(*, text: str, ts: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A message as the bot posted it, as Slack echoes it inside interactivity payloads."""
    return {
        "type": "message",
        "subtype": "bot_message",
        "text": text,
        "ts": ts,
        "bot_id": BOT_ID,
        "user": BOT_USER_ID,
        "blocks": blocks or [],
    }


def block_action(
    action_id: str,
    value: str | None = None,
    *,
    user_id: str = USER_ID,
    block_id: str = "block",
    channel_id: str = CHANNEL_ID,
    message: Mapping[str, Any] | None = None,
    container: Mapping[str, Any] | None = None,
    response_url: str = UNSET_RESPONSE_URL,
    view: Mapping[str, Any] | None = None,
    action: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A `block_actions` payload for a click in a message, or in a modal/Home tab when `view` is given.

    `action` adds or overrides keys of `actions[0]`, e.g.
    `{"type": "static_select", "selected_option": {"text": {...}, "value": "weekly"}}`.
    """
    act: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": "button",
        "action_ts": ACTION_TS,
    }
    if value is not None:
        act["value"] = value
    act.update(action or {})
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id(),
        "team": _team(),
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [act],
    }
    if view is not None:
        # Slack: clicks inside a view carry the view and no response_url / message / channel.
        payload["container"] = dict(container or {"type": "view", "view_id": view.get("id", "V0MODAL01")})
        payload["view"] = copy.deepcopy(dict(view))
        payload["state"] = copy.deepcopy(view.get("state", {"values": {}}))
        return payload
    msg = dict(message) if message is not None else bot_message(text="message", ts="1767225601.000200")
    payload["container"] = dict(
        container
        or {"type": "message", "message_ts": msg["ts"], "channel_id": channel_id, "is_ephemeral": False}
    )
    payload["channel"] = {"id": channel_id, "name": "general"}
    payload["message"] = copy.deepcopy(msg)
    payload["response_url"] = response_url
    return payload


def text_input(value: str | None, *, kind: str = "plain_text_input") -> dict[str, Any]:
    """State value of a text input; `None` is how Slack sends an empty optional input."""
    return {"type": kind, "value": value}


def selected_option(value: str, text: str | None = None, *, kind: str = "static_select") -> dict[str, Any]:
    """State value of a static/external select."""
    option = {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}
    return {"type": kind, "selected_option": option}


def selected_date(value: str) -> dict[str, Any]:
    """State value of a datepicker (`YYYY-MM-DD`)."""
    return {"type": "datepicker", "selected_date": value}


def selected_user(user_id: str) -> dict[str, Any]:
    """State value of a users_select."""
    return {"type": "users_select", "selected_user": user_id}


def selected_conversation(channel_id: str) -> dict[str, Any]:
    """State value of a conversations_select."""
    return {"type": "conversations_select", "selected_conversation": channel_id}


def view_submission(
    callback_id: str,
    values: Mapping[str, Mapping[str, Mapping[str, Any]]],
    *,
    private_metadata: str = "",
    user_id: str = USER_ID,
    view_id: str = "V0MODAL01",
    blocks: list[dict[str, Any]] | None = None,
    title: str = "Modal",
) -> dict[str, Any]:
    """A `view_submission` payload; `values` is `state.values`: block_id -> action_id -> state value."""
    view = {
        "id": view_id,
        "team_id": TEAM_ID,
        "type": "modal",
        "blocks": copy.deepcopy(blocks or []),
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "state": {"values": copy.deepcopy({k: dict(v) for k, v in values.items()})},
        "hash": "1767225620.Ab3dEf9h",
        "title": {"type": "plain_text", "text": title, "emoji": True},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
        "submit": {"type": "plain_text", "text": "Save", "emoji": True},
        "previous_view_id": None,
        "root_view_id": view_id,
        "app_id": API_APP_ID,
        "external_id": "",
        "app_installed_team_id": TEAM_ID,
        "bot_id": BOT_ID,
    }
    return {
        "type": "view_submission",
        "team": _team(),
        "user": _user(user_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id(),
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def message_shortcut(
    callback_id: str,
    message: Mapping[str, Any],
    *,
    channel: str = CHANNEL_ID,
    user_id: str = USER_ID,
    response_url: str = UNSET_RESPONSE_URL,
) -> dict[str, Any]:
    """A message shortcut (`type: message_action`) on `message`."""
    return {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": ACTION_TS,
        "team": _team(),
        "user": _user(user_id),
        "channel": {"id": channel, "name": "general"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id(),
        "message_ts": message["ts"],
        "message": copy.deepcopy(dict(message)),
        "response_url": response_url,
    }


def global_shortcut(callback_id: str, *, user_id: str = USER_ID) -> dict[str, Any]:
    """A global shortcut (`type: shortcut`); it has no channel and no response_url."""
    return {
        "type": "shortcut",
        "token": VERIFICATION_TOKEN,
        "action_ts": ACTION_TS,
        "team": _team(),
        "user": _user(user_id),
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id(),
    }


def event(
    inner: Mapping[str, Any], *, event_id: str = "Ev0EVENT0001", event_time: int = 1767225640
) -> dict[str, Any]:
    """An `event_callback` envelope around `inner` (see `app_home_opened`, `app_mention`)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "context_enterprise_id": None,
        "api_app_id": API_APP_ID,
        "event": copy.deepcopy(dict(inner)),
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def app_home_opened(
    *, user_id: str = USER_ID, tab: str = "home", event_ts: str = "1767225640.000400"
) -> dict[str, Any]:
    """The inner `app_home_opened` event."""
    return {
        "type": "app_home_opened",
        "user": user_id,
        "channel": "D0ALICEIM",
        "tab": tab,
        "event_ts": event_ts,
    }


def app_mention(
    text: str, *, user_id: str = USER_ID, channel: str = CHANNEL_ID, ts: str = "1767225630.000300"
) -> dict[str, Any]:
    """The inner `app_mention` event; `text` usually starts with `<@U0BOT0001>`."""
    return {
        "type": "app_mention",
        "text": text,
        "user": user_id,
        "ts": ts,
        "team": TEAM_ID,
        "channel": channel,
        "event_ts": ts,
    }


def url_verification(
    challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
) -> dict[str, Any]:
    """The Events API URL-verification handshake (it must be signed too)."""
    return {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
