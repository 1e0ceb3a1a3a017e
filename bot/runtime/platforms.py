"""The port to the platform APIs (X, Instagram, YouTube): what a collector is asked and answers, and how
it fails (pure types; the clients live in :mod:`bot.platforms`, the KPI slice calls them).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from bot.errors import BotError
from bot.i18n import Translator
from bot.metrics import AccountCounts, Metrics


@dataclass(frozen=True, slots=True)
class PostRef:
    """A published post to collect: the platform's id of it and the configured account it belongs to."""

    external_id: str
    account_key: str


@dataclass(frozen=True, slots=True)
class AccountRef:
    """A configured account; ``platform_user_id`` is the X user id / IG user id / YouTube channel id."""

    key: str
    platform_user_id: str | None


class PlatformErrorKind(StrEnum):
    RATE_LIMITED = "rate_limited"
    AUTH = "auth"
    QUOTA = "quota"
    SERVER = "server"
    BAD_RESPONSE = "bad_response"
    NOT_FOUND = "not_found"
    NETWORK = "network"


#: Kinds that concern one post or one response; any other kind would fail the next request too.
_LOCAL_KINDS = frozenset({PlatformErrorKind.BAD_RESPONSE, PlatformErrorKind.NOT_FOUND})


class PlatformError(BotError):
    """A platform API call that failed, with a catalog message (``platforms.errors.<kind>``).

    Args:
        kind: what went wrong, coarse enough to decide what to do next.
        platform: ``x`` | ``instagram`` | ``youtube``.
        detail: technical detail for logs (status, path, the platform's own message). Built only
            from redacted URLs and scrubbed text, so it never holds a token.
        retry_after: seconds after which the call may succeed again, when the platform said so.
        code: the platform's own error code or reason (``"190"``, ``"quotaExceeded"``), if any.
    """

    def __init__(
        self,
        kind: PlatformErrorKind,
        *,
        platform: str,
        detail: str = "",
        retry_after: float | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(f"platforms.errors.{kind}", platform=platform, detail=detail)
        self.kind = kind
        self.platform = platform
        self.detail = detail
        self.retry_after = retry_after
        self.code = code

    @property
    def stops_collection(self) -> bool:
        """True when further calls in this run would fail the same way (token, quota, outage)."""
        return self.kind not in _LOCAL_KINDS

    def render(self, t: Translator) -> str:
        name_key = f"platforms.names.{self.platform}"
        name = t(name_key) if t.has(name_key) else self.platform
        text = t(self.key, platform=name, detail=self.detail)
        if self.retry_after is not None:
            minutes = max(1, math.ceil(self.retry_after / 60))
            text = f"{text} {t('platforms.errors.retry_after', minutes=minutes)}"
        return text

    def __str__(self) -> str:
        return f"{self.platform} {self.kind}: {self.detail}"

    def __repr__(self) -> str:
        return (
            f"PlatformError(kind={self.kind.value!r}, platform={self.platform!r}, "
            f"retry_after={self.retry_after!r}, code={self.code!r}, detail={self.detail!r})"
        )


@dataclass(frozen=True, slots=True)
class CollectResult:
    """What one collection run got.

    Attributes:
        metrics: external_id -> metrics, for every post the platform reported on.
        missing: ids the platform returned no metrics for (deleted, private, no insights).
        errors: failed calls and unreadable responses. An id in neither ``metrics`` nor
            ``missing`` was not collected because of one of these errors.
    """

    metrics: dict[str, Metrics] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    errors: list[PlatformError] = field(default_factory=list)

    @classmethod
    def combine(cls, parts: Iterable[CollectResult]) -> CollectResult:
        out = cls()
        for part in parts:
            out.metrics.update(part.metrics)
            out.missing.extend(part.missing)
            out.errors.extend(part.errors)
        return out


@dataclass(frozen=True, slots=True)
class DiscoveredPost:
    """A post the platform listed for an account (X timeline, Instagram media, YouTube uploads).

    Attributes:
        external_id: the platform's id (status id, IG media id, video id).
        published_at: aware UTC time.
        url: the post's permalink (how a review's "Mark as published" URL is matched to it).
        metrics: what the listing itself reports (X: public metrics; Instagram: likes, comments;
            YouTube: none, its statistics come from ``videos.list``).
    """

    external_id: str
    published_at: datetime
    url: str
    text: str = ""
    metrics: Metrics = Metrics()


@dataclass(slots=True)
class DiscoverResult:
    """An account's recent posts as far as the listing went, and why it stopped early, if it did.

    Attributes:
        measured: the listing carries every metric ``fetch_post_metrics`` would (X's timeline
            does), so those posts need no second call in the same run.
    """

    posts: list[DiscoveredPost] = field(default_factory=list)
    errors: list[PlatformError] = field(default_factory=list)
    measured: bool = False


@runtime_checkable
class PlatformClient(Protocol):
    platform: str

    async def fetch_post_metrics(self, posts: Sequence[PostRef]) -> CollectResult:
        """Metrics of ``posts``; per-batch failures are reported in the result, never raised."""
        ...

    async def fetch_account(self, account: AccountRef) -> AccountCounts:
        """Follower count of ``account``. Raises ``PlatformError``."""
        ...

    async def discover_posts(self, account: AccountRef, *, since: datetime) -> DiscoverResult:
        """``account``'s posts published since ``since``, newest first, within the platform's rate
        limits and quota (a limit reached ends the listing with an error); never raises."""
        ...


@runtime_checkable
class UserLookup(Protocol):
    """A client that can find an account's user id from its handle (X: the timeline and follower
    count are addressed by user id, which people rarely know; their handle they do)."""

    async def lookup_user_id(self, handle: str) -> str:
        """The platform's user id of ``handle`` (``@`` optional). Raises ``PlatformError``
        (``NOT_FOUND`` when the platform knows no such account)."""
        ...
