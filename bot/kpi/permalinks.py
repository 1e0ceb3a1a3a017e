"""Which post a URL points at: the platform's own id when the URL carries it, else one canonical
permalink that every way of writing the URL maps to (pure).

A post marked as published through a review arrives as a URL; exports and collectors report the
same post by its platform id (X status id, YouTube video id, Instagram media id) and a permalink
written their own way (``twitter.com`` or ``x.com``, ``www.`` or ``m.``, ``/reel/`` or ``/p/``,
a trailing slash, tracking parameters). The store keys a post by the id when the URL has one, else
by :func:`canonical_permalink`, and matches the two at the next import or collection.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

#: Host prefixes that address the same site (``www.x.com``, ``mobile.twitter.com``, ``m.youtube.com``).
_SAME_SITE_PREFIXES = ("www.", "mobile.", "m.", "web.", "business.")
#: Hosts of one platform written more than one way, mapped to one.
_HOST_ALIASES = {"twitter.com": "x.com", "fb.com": "facebook.com", "instagr.am": "instagram.com"}

_X_STATUS = re.compile(r"^/(?:[A-Za-z0-9_]{1,15}|i/web|i)/status(?:es)?/(\d{1,20})(?:/|$)")
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_YOUTUBE_PATH = re.compile(r"^/(?:shorts|live|embed|v)/([A-Za-z0-9_-]{11})(?:/|$)")
_INSTAGRAM_CODE = re.compile(r"^/(?:[A-Za-z0-9_.]{1,30}/)?(?:p|reel|reels|tv)/([A-Za-z0-9_-]{5,64})(?:/|$)")
#: Query parameters that are part of a Facebook post's address (the rest is tracking).
_FACEBOOK_KEEP = ("story_fbid", "fbid", "id", "v")


def _host(url: str) -> tuple[str, str, list[tuple[str, str]]] | None:
    """(host without ``www.``-like prefixes and aliased, path, query pairs), or None when not a web URL."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    for prefix in _SAME_SITE_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    host = _HOST_ALIASES.get(host, host)
    return host, parts.path or "/", parse_qsl(parts.query, keep_blank_values=False)


def x_status_id(url: str) -> str | None:
    """The status id of an ``x.com`` / ``twitter.com`` post URL (``mobile.``, ``/i/web/status/``
    and ``/photo/1`` tails included); None for anything else (``…/status/undefined`` too)."""
    found = _host(url)
    if found is None or found[0] != "x.com":
        return None
    match = _X_STATUS.match(found[1])
    return match.group(1) if match else None


def youtube_video_id(url: str) -> str | None:
    """The video id of a YouTube URL: ``watch?v=``, ``youtu.be/``, ``/shorts/``, ``/live/``, ``/embed/``."""
    found = _host(url)
    if found is None:
        return None
    host, path, query = found
    if host == "youtu.be":
        candidate = path.strip("/").split("/")[0]
        return candidate if _YOUTUBE_ID.fullmatch(candidate) else None
    if host not in ("youtube.com", "music.youtube.com", "youtube-nocookie.com"):
        return None
    if path.rstrip("/") == "/watch":
        video = dict(query).get("v", "")
        return video if _YOUTUBE_ID.fullmatch(video) else None
    match = _YOUTUBE_PATH.match(path)
    return match.group(1) if match else None


def instagram_shortcode(url: str) -> str | None:
    """The shortcode of an Instagram post/reel URL (``/p/CODE``, ``/reel/CODE``, ``/tv/CODE``)."""
    found = _host(url)
    if found is None or found[0] != "instagram.com":
        return None
    match = _INSTAGRAM_CODE.match(found[1])
    return match.group(1) if match else None


def platform_post_id(platform: str, url: str) -> str | None:
    """The platform's own id of the post at ``url`` when the URL carries it (X, YouTube), else None.

    Instagram and Facebook URLs carry a shortcode, not the media id the APIs and exports use; those
    posts are matched by :func:`canonical_permalink` instead.
    """
    if platform == "x":
        return x_status_id(url)
    if platform == "youtube":
        return youtube_video_id(url)
    return None


def canonical_permalink(url: str) -> str | None:
    """One spelling of a post URL, the same for every way of writing it; None when not a web URL.

    ``https://`` + the host without ``www.``/``m.``/``mobile.`` (``twitter.com`` → ``x.com``) + the
    path without a trailing slash; the query is dropped except where it is the address (YouTube's
    ``v``, Facebook's ``story_fbid``/``id``). X and YouTube URLs become their status/video URL,
    Instagram's ``/reel/CODE`` and ``/USER/p/CODE`` become ``/p/CODE``.
    """
    found = _host(url)
    if found is None:
        return None
    host, path, query = found
    if (status := x_status_id(url)) is not None:
        return f"https://x.com/i/status/{status}"
    if (video := youtube_video_id(url)) is not None:
        return f"https://youtube.com/watch?v={video}"
    if (code := instagram_shortcode(url)) is not None:
        return f"https://instagram.com/p/{code}"
    kept = ""
    if host == "facebook.com":
        pairs = [(k, v) for k, v in query if k in _FACEBOOK_KEEP]
        kept = "?" + "&".join(f"{k}={v}" for k, v in sorted(pairs)) if pairs else ""
    return f"https://{host}{path.rstrip('/')}{kept}"


def post_key(platform: str, url: str) -> str:
    """What the store keys a post known only by its URL with: the platform id, else the canonical
    permalink (else the URL as given)."""
    return platform_post_id(platform, url) or canonical_permalink(url) or url.strip()


def is_url_key(external_id: str) -> bool:
    """True when a stored post is keyed by its URL (its platform id is not known yet)."""
    return external_id.startswith(("https://", "http://"))
