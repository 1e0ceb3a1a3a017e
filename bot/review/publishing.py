"""What "mark as published" accepts: a post URL on the account's platform and a time inside the
window (pure).

The URL becomes the post's identity in the KPI store, and collectors and exports match posts by
it, so a link to another site (a draft in a document, a shortener, a typo'd domain) would be a post
that never gets metrics. The time sets which week and month the post counts in; a slip of the date
picker into another year would move it out of every digest.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.errors import BotError
from bot.review.ids import BlockId

#: The hosts a post of each platform lives on (subdomains included: www., m., mobile., vm.…).
#: ``other`` takes any https URL.
POST_DOMAINS: Mapping[str, tuple[str, ...]] = {
    "x": ("x.com", "twitter.com"),
    "instagram": ("instagram.com",),
    "threads": ("threads.net", "threads.com"),
    "youtube": ("youtube.com", "youtu.be"),
    "tiktok": ("tiktok.com",),
    "linkedin": ("linkedin.com", "lnkd.in"),
    "facebook": ("facebook.com", "fb.com", "fb.watch"),
    "note": ("note.com",),
}

#: How far ahead of the bot's clock a publish time may be (another device's clock, a form filled
#: in a minute after the post went live).
FUTURE_SLACK = timedelta(minutes=10)


def check_post_url(platform: str, url: str, *, platform_name: str) -> None:
    """Refuse a post URL that is not an https URL on ``platform``'s domains.

    Args:
        platform_name: how the platform is called in messages (``platforms.names.*``).

    Raises:
        BotError: ``review.publish.errors.not_https`` or ``review.publish.errors.wrong_platform``
            (params ``platform``, ``domains``), on the URL's input block.
    """
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").rstrip(".").lower()
        parts.port  # noqa: B018 - a malformed port only fails here
    except ValueError:
        raise BotError("review.publish.errors.not_https", block_id=BlockId.POST_URL) from None
    if parts.scheme.lower() != "https" or not host or parts.username or parts.password:
        raise BotError("review.publish.errors.not_https", block_id=BlockId.POST_URL)
    domains = POST_DOMAINS.get(platform)
    if domains is None:  # "other": any https URL
        return
    if not any(host == domain or host.endswith("." + domain) for domain in domains):
        raise BotError(
            "review.publish.errors.wrong_platform",
            block_id=BlockId.POST_URL,
            platform=platform_name,
            domains=", ".join(domains),
        )


def check_published_at(published_at: datetime, *, now: datetime, window: timedelta) -> str | None:
    """The catalog key of what is wrong with ``published_at``, or ``None`` when it is inside
    ``[now - window, now + FUTURE_SLACK]``."""
    if published_at > now + FUTURE_SLACK:
        return "review.publish.errors.time_future"
    if published_at < now - window:
        return "review.publish.errors.time_too_old"
    return None
