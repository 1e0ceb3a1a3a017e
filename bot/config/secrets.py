"""Secrets (pure): they only ever come from the environment, wrapped in :class:`Secret` so no repr, log
line or traceback shows them; database URLs are shown with their password masked."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.config.reader import Reader

_PLACEHOLDER_RE = re.compile(r"(your|change.?me|placeholder|example|xxxx|<|…|\.\.\.)", re.IGNORECASE)

# ``scheme://user:password@host``: everything between the user's colon and the last ``@`` of the
# URL is the password, however it is (or is not) percent-encoded.
_URL_PASSWORD_RE = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)[^\s'\"]*@", re.IGNORECASE)


class Secret:
    """A secret string whose repr and str never show the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class Secrets:
    slack_bot_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_app_token: Secret | None = None
    x_bearer_token: Secret | None = None
    instagram_access_token: Secret | None = None
    youtube_api_key: Secret | None = None


def mask_database_url(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` in it replaced by asterisks."""
    return _URL_PASSWORD_RE.sub(r"\1**********@", text)


def database_password_forms(url: str) -> tuple[str, ...]:
    """The password of ``url`` as written there and percent-decoded (empty without a password)."""
    from urllib.parse import unquote

    match = re.match(r"^[a-z][a-z0-9+.-]*://[^:/@\s]*:(.*)@[^@]*$", url, re.IGNORECASE | re.DOTALL)
    if match is None or not match.group(1):
        return ()
    written = match.group(1)
    return tuple(dict.fromkeys((written, unquote(written))))


def _env_secret(r: Reader, environ: Mapping[str, str], name: str) -> Secret | None:
    value = environ.get(name, "").strip()
    if not value:
        return None
    if _PLACEHOLDER_RE.search(value):
        r.add(f"${name}", "placeholder_secret")
    return Secret(value)


def read_secrets(r: Reader, environ: Mapping[str, str]) -> Secrets:
    """Every secret from ``environ``; placeholders and Slack tokens of the wrong kind are problems."""
    secrets = Secrets(
        slack_bot_token=_env_secret(r, environ, "SLACK_BOT_TOKEN"),
        slack_signing_secret=_env_secret(r, environ, "SLACK_SIGNING_SECRET"),
        slack_app_token=_env_secret(r, environ, "SLACK_APP_TOKEN"),
        x_bearer_token=_env_secret(r, environ, "X_BEARER_TOKEN"),
        instagram_access_token=_env_secret(r, environ, "INSTAGRAM_ACCESS_TOKEN"),
        youtube_api_key=_env_secret(r, environ, "YOUTUBE_API_KEY"),
    )
    if secrets.slack_bot_token and not secrets.slack_bot_token.get().startswith("xoxb-"):
        r.add("$SLACK_BOT_TOKEN", "bad_token_prefix", prefix="xoxb-")
    if secrets.slack_app_token and not secrets.slack_app_token.get().startswith("xapp-"):
        r.add("$SLACK_APP_TOKEN", "bad_token_prefix", prefix="xapp-")
    return secrets
