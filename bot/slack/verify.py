"""Proof that a request came from Slack, checked strictly before anything reads it, and the hosts a
``response_url`` may point at (pure, but for the wall clock it is given).

Why our own check and not only Bolt's: slack_sdk's ``SignatureVerifier.is_valid`` *raises* for
timestamps ``int()`` cannot read (over Python's 4,300-digit limit, or not a number) and for
signatures ``hmac.compare_digest`` refuses (non-ASCII); Bolt then hands the unverified request to
its error handler, which answers the body's ``user.id`` and ``response_url``. It also reads what
``int()`` accepts (``" 1767225600 "``, ``"1_767_225_600"``, full-width digits) and takes the first
of repeated headers. Here a request is proven only when each header occurs once, in Slack's exact
form, and its HMAC matches; nothing in between raises.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
#: Slack's replay window: a request signed more than 5 minutes from now (either way) is refused.
WINDOW_SECONDS = 300
#: Unix seconds have 10 digits until the year 2286; anything longer is not a Slack timestamp.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
#: ``v0=`` and the lowercase hex of an HMAC-SHA256, exactly as Slack writes it.
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
#: The host of Slack's ``response_url``s (``/commands/…``, ``/actions/…``, ``/app/…``).
SLACK_HOOKS_HOST = "hooks.slack.com"


def _single(values: Iterable[str]) -> str | None:
    found = list(values)
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """Verifies Slack's request signature; ``now`` is the wall clock (signatures are about real time)."""

    secret: str | None
    now: Callable[[], float] = time.time

    def headers_plausible(self, timestamp: Iterable[str], signature: Iterable[str]) -> bool:
        """Whether the two headers (all their occurrences) could belong to a fresh Slack request.

        Checked before the body is read: a request failing here costs no body read and no HMAC.
        """
        ts, sig = _single(timestamp), _single(signature)
        if not self.secret or ts is None or sig is None:
            return False
        if not (_TIMESTAMP.fullmatch(ts) and _SIGNATURE.fullmatch(sig)):
            return False
        return abs(self.now() - int(ts)) <= WINDOW_SECONDS

    def verify(self, *, timestamp: Iterable[str], signature: Iterable[str], body: bytes) -> bool:
        """Whether the request is proven to come from Slack: plausible headers and a matching HMAC."""
        timestamps, signatures = list(timestamp), list(signature)
        if not self.headers_plausible(timestamps, signatures):
            return False
        assert self.secret is not None  # headers_plausible refuses without one
        base = b"v0:" + timestamps[0].encode("ascii") + b":" + body
        expected = "v0=" + hmac.new(self.secret.encode(), base, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode("ascii"), signatures[0].encode("ascii"))


def response_url_allowed(url: object, *, api_url: str) -> bool:
    """Whether ``url`` is a Slack ``response_url`` the bot may POST to: ``https://hooks.slack.com/…``,
    or the host of the configured Web API (``SLACK_API_URL``, which tests point at a fake Slack).

    Anything else (another host, a port, credentials in the URL, another scheme) is refused, so a
    body can never make the bot send a request elsewhere.
    """
    if not isinstance(url, str) or len(url) > 2000:
        return False
    try:
        target = urlsplit(url)
        api = urlsplit(api_url)
        if target.username is not None or target.password is not None:
            return False
        if target.scheme == "https" and target.hostname == SLACK_HOOKS_HOST and target.port is None:
            return True
        return (
            bool(target.hostname)
            and (target.scheme, target.hostname, target.port) == (api.scheme, api.hostname, api.port)
            and target.scheme in ("http", "https")
        )
    except ValueError:  # a port that is not a number, a bad IPv6 literal
        return False
