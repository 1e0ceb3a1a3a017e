"""`sns-bot manifest` prints a manifest Slack accepts, matching the config and the mode."""

from __future__ import annotations

from bot.manifest import BOT_EVENTS, WIN_SHORTCUT_CALLBACK_ID, build_manifest, to_yaml
from tests.conftest import make_settings


def _parse_yaml(text: str) -> object:
    """The YAML we print is JSON-compatible scalars in block style; check it with a tiny parser."""
    import json

    root: dict = {}
    stack: list[tuple[int, object]] = [(-1, root)]
    pending_key: list[tuple[int, dict, str]] = []
    for raw in text.splitlines():
        indent = len(raw) - len(raw.lstrip(" "))
        line = raw.strip()
        while stack and stack[-1][0] >= indent and len(stack) > 1:
            stack.pop()
        parent = stack[-1][1]
        if line.startswith("- "):
            item = line[2:]
            if isinstance(parent, dict):  # first list item under a key: replace the placeholder
                indent_key, container, key = pending_key.pop()
                container[key] = []
                parent = container[key]
                stack.append((indent_key, parent))
            if ": " in item:
                k, v = item.split(": ", 1)
                obj = {k: json.loads(v)}
                parent.append(obj)
                stack.append((indent, obj))
            else:
                parent.append(json.loads(item))
            continue
        if line.endswith(":"):
            key = line[:-1]
            parent[key] = {}
            pending_key.append((indent, parent, key))
            stack.append((indent, parent[key]))
        else:
            k, v = line.split(": ", 1)
            parent[k] = json.loads(v) if v not in ("true", "false") else v == "true"
    return root


def test_http_mode_manifest_has_request_urls_and_everything_the_bot_listens_to() -> None:
    settings = make_settings(change=lambda raw: raw.update(server={"public_url": "https://bot.acme.co.jp/"}))
    manifest = build_manifest(settings, socket_mode=False)
    url = "https://bot.acme.co.jp/slack/events"
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == ["/sns-review", "/sns-kpi"]
    assert all(c["url"] == url for c in commands)
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["event_subscriptions"] == {"bot_events": list(BOT_EVENTS), "request_url": url}
    assert manifest["settings"]["interactivity"] == {"is_enabled": True, "request_url": url}
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["shortcuts"][0]["callback_id"] == WIN_SHORTCUT_CALLBACK_ID
    assert manifest["features"]["shortcuts"][0]["type"] == "message"
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    for scope in ("commands", "chat:write", "im:write", "files:write", "usergroups:read"):
        assert scope in scopes
    # Import from Slack: files dropped into the bot's DM (both events of one upload, files.info and
    # the download, people can write in the DM); nothing asked that nothing uses.
    assert {"files:read", "im:history"} <= set(scopes)
    assert {"message.im", "file_shared"} <= set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False
    assert "reactions:write" not in scopes
    # Participation (issue 16): reactions on the bot's posts and replies in its threads; the history
    # scopes were already held (finding the bot's own posts after an ambiguous failure; a nudge DM
    # retried looks in the DM, im:history), nothing that reads other conversations is added.
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"reaction_added", "reaction_removed", "message.channels", "message.groups"} <= events
    assert {"reactions:read", "channels:history", "groups:history"} <= set(scopes)
    assert not {"mpim:history", "reactions:write", "channels:read", "groups:read"} & set(scopes)
    assert len(scopes) == len(set(scopes))
    assert _parse_yaml(to_yaml(manifest)) == manifest


def test_socket_mode_manifest_has_no_request_urls() -> None:
    settings = make_settings(env={"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_APP_TOKEN": "xapp-1-2-abc"})
    manifest = build_manifest(settings)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "url" not in manifest["features"]["slash_commands"][0]
    assert "request_url" not in manifest["settings"]["interactivity"]
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    # Slack's limits: name ≤ 35, description ≤ 140, shortcut name ≤ 24… (checked on what we print)
    assert len(manifest["display_information"]["name"]) <= 35
    assert len(manifest["display_information"]["description"]) <= 140
    assert len(manifest["features"]["shortcuts"][0]["name"]) <= 24
    assert _parse_yaml(to_yaml(manifest)) == manifest


def test_custom_command_names_come_from_config() -> None:
    settings = make_settings(
        change=lambda raw: raw.update(
            slack={"review_command": "/sns-review-dev", "kpi_command": "/sns-kpi-dev"}
        )
    )
    commands = build_manifest(settings, socket_mode=True)["features"]["slash_commands"]
    assert [c["command"] for c in commands] == ["/sns-review-dev", "/sns-kpi-dev"]


#: Each scope and event the manifest asks for, and what in bot/ uses it (a Web API call, a listener).
_USES = {
    "commands": ["app.command("],
    "chat:write": ["chat_postMessage", "chat_update"],
    # Digests and reviews post into configured public channels the bot was not invited to.
    "chat:write.public": ["chat_postMessage"],
    "im:write": ["conversations_open"],
    "files:write": ["files_upload_v2"],
    "channels:history": ["conversations_history"],
    "groups:history": ["conversations_history"],
    "usergroups:read": ["usergroups_users_list"],
    "users:read": ["users_info"],
    "reactions:read": ['"reaction_added"'],
    "files:read": ["files_info", "url_private_download"],
    "im:history": ['event("message")', '"im"'],
    "app_home_opened": ['"app_home_opened"'],
    "reaction_added": ['"reaction_added"'],
    "reaction_removed": ['"reaction_removed"'],
    "message.channels": ['event("message")', "parent_user_id"],
    "message.groups": ['event("message")', "parent_user_id"],
    "message.im": ['event("message")', '"im"'],
    "file_shared": ['event("file_shared")'],
}


def test_every_scope_and_event_is_used_by_the_code() -> None:
    """Exactly the scopes and events something uses: a new one needs a use here, and a use that
    goes away shows up as a scope nothing needs (as ``reactions:write`` was)."""
    from pathlib import Path

    manifest = build_manifest(make_settings(), socket_mode=False)
    asked = [
        *manifest["oauth_config"]["scopes"]["bot"],
        *manifest["settings"]["event_subscriptions"]["bot_events"],
    ]
    assert set(asked) == set(_USES)
    root = Path(__file__).parents[1] / "bot"
    code = "\n".join(
        p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.py")) if p.name != "manifest.py"
    )
    for name, markers in _USES.items():
        missing = [marker for marker in markers if marker not in code]
        assert not missing, (name, missing)
