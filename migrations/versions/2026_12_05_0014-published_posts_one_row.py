"""A post published through a review is one post (issue 14 items 2 and 3): posts that "Mark as
published" (or a generic import, for X and YouTube) keyed by their URL get the platform's id the URL
carries (X status id, YouTube video id);
where the store also holds the same post from an export or a collector (same id, or the same
canonical permalink within a few days), the two rows become one: the measured row stays with its
metrics and history and takes the review's author (the requester) and review link. Collector runs
record how many posts the platform reported on and how many of them were new.

The merge is not undone by the downgrade (it only drops the two counters): the merged rows were
duplicates of one post.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 18:00:00
"""

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As ``bot.kpi.published.MATCH_WINDOW``: how far apart two publish times of one post may be.
_WINDOW = timedelta(days=3)

_post = sa.table(
    "post",
    sa.column("id", sa.Integer),
    sa.column("platform", sa.String),
    sa.column("external_id", sa.String),
    sa.column("url", sa.String),
    sa.column("text", sa.Text),
    sa.column("author", sa.String),
    sa.column("review_request_id", sa.Integer),
    sa.column("published_at", sa.DateTime(timezone=True)),
)
_snapshot = sa.table("metric_snapshot", sa.column("post_id", sa.Integer))

# --- Frozen copy of what this migration needs from bot/kpi/permalinks.py as of revision 0014 ---
# A migration must do what it did when it was written: later changes to the app's permalink rules
# must not change how this one merged rows, so it never imports app code.

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


def upgrade() -> None:
    with op.batch_alter_table("collector_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("posts_seen", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("posts_new", sa.Integer(), server_default="0", nullable=False))
    bind = op.get_bind()
    # Review posts of every platform, and X/YouTube posts a generic import keyed by URL (which the
    # store now keys by the id in the URL, so a re-import of that file finds them).
    pending = bind.execute(
        sa.select(_post).where(
            sa.or_(_post.c.review_request_id.is_not(None), _post.c.platform.in_(["x", "youtube"])),
            sa.or_(_post.c.external_id.like("https://%"), _post.c.external_id.like("http://%")),
        )
    ).all()
    for row in pending:
        _make_one(bind, row)


def _make_one(bind: Any, row: Any) -> None:
    key = post_key(row.platform, row.external_id)
    same = (
        bind.execute(
            sa.select(_post.c.id, _post.c.text, _post.c.review_request_id).where(
                _post.c.platform == row.platform, _post.c.external_id == key, _post.c.id != row.id
            )
        ).first()
        if key != row.external_id
        else None
    )
    if same is None and row.review_request_id is not None:
        same = _same_permalink(bind, row)
    if same is not None:
        if same.review_request_id is not None and row.review_request_id is not None:
            return  # two reviews of one post: leave both as they are
        bind.execute(sa.update(_snapshot).where(_snapshot.c.post_id == row.id).values(post_id=same.id))
        bind.execute(sa.delete(_post).where(_post.c.id == row.id))
        values: dict[str, Any] = {}
        if row.review_request_id is not None:
            values = {"author": row.author, "review_request_id": row.review_request_id}
        if not same.text and row.text:
            values["text"] = row.text
        if values:
            bind.execute(sa.update(_post).where(_post.c.id == same.id).values(**values))
    elif key != row.external_id:
        bind.execute(sa.update(_post).where(_post.c.id == row.id).values(external_id=key))


def _same_permalink(bind: Any, row: Any) -> Any:
    link = canonical_permalink(row.external_id)
    if link is None or row.published_at is None:
        return None
    nearby = bind.execute(
        sa.select(_post.c.id, _post.c.text, _post.c.review_request_id, _post.c.url).where(
            _post.c.platform == row.platform,
            _post.c.id != row.id,
            _post.c.url.is_not(None),
            _post.c.published_at.between(row.published_at - _WINDOW, row.published_at + _WINDOW),
        )
    )
    return next((other for other in nearby if canonical_permalink(other.url) == link), None)


def downgrade() -> None:
    with op.batch_alter_table("collector_run", schema=None) as batch_op:
        batch_op.drop_column("posts_new")
        batch_op.drop_column("posts_seen")
