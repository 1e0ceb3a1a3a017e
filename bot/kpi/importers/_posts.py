"""Turn chunks of per-post exports (generic, X, Instagram, Facebook, YouTube) into PostColumns (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from bot.errors import BotError
from bot.kpi.columns import PostColumns, Strings
from bot.kpi.importers._formats import FormatName
from bot.kpi.importers._rows import Rows
from bot.kpi.importers._values import ISO8601, Counts, missing_mask
from bot.metrics import METRIC_FIELDS

_GENERIC_TIMES = (ISO8601, "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")
# X classic: "2021-11-30 16:00 +0000", always UTC.
_X_CLASSIC_TIMES = ("%Y-%m-%d %H:%M %z", ISO8601, "%Y/%m/%d %H:%M")
# X Content: "Tue, Jul 14, 2026" (no time of day).
_X_CONTENT_DATES = ("%a, %b %d, %Y", "%b %d, %Y", ISO8601, "%Y/%m/%d")
# Meta Business Suite: "09/24/2026 15:30", month first even in Japanese exports, no zone.
_META_TIMES = ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", ISO8601, "%Y/%m/%d %H:%M")
# YouTube Studio: "Sep 1, 2026"; fixtures also show ISO and "2026/10/07" (Japanese UI).
YOUTUBE_DATES = ("%b %d, %Y", "%B %d, %Y", ISO8601, "%Y/%m/%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")

_EXPONENT_ID = r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$"
_X_ID = r"\d+"
_META_ID = r"[0-9_]+"
_YOUTUBE_ID = r"[A-Za-z0-9_-]+"
# X snowflake ids: milliseconds since this epoch, shifted left by 22 bits.
_TWITTER_EPOCH_MS = 1_288_834_974_657
_LATEST_MS = 7_258_118_400_000  # 2200-01-01
_YOUTUBE_TOTALS = ("total", "合計")
# The author of an X post, as its permalink writes it (twitter.com or x.com, any subdomain).
_X_PERMALINK_USER = r"^https?://(?:[a-z]+\.)?(?:twitter|x)\.com/([^/?#]+)/status/"
# X's current export lists posts it can no longer show as ",,,https://x.com/<user>/status/undefined,0,…".
_X_PLACEHOLDER = r"/status/undefined/?$"
# NOTE: a pt-BR importer keeps only rows whose "Data comment" is empty or "total"; other values
# mark per-breakdown sub-rows that would overwrite the post's lifetime totals.
_META_TOTAL_COMMENTS = ("", "total", "合計", "通算")


@dataclass(frozen=True, slots=True)
class PostContext:
    """What a post converter needs besides the rows.

    Attributes:
        platform: the format's platform (``None`` for generic files).
        account: the account a platform export belongs to; for generic files the account used
            when a row's ``account`` cell is empty (``None``: such rows are rejected).
        accounts: configured account key → platform.
        tz: zone of times written without an offset.
    """

    platform: str | None
    account: str | None
    accounts: Mapping[str, str]
    tz: ZoneInfo
    #: Normalised handle or platform id (:func:`identity_key`) → account key, for this platform's
    #: configured accounts: rows that name their account are filed under it.
    identities: Mapping[str, str] = field(default_factory=dict)


def identity_key(value: str) -> str:
    """How handles and ids are compared: no ``@``, no blanks, case ignored."""
    return value.strip().lstrip("@").strip().casefold()


PostReader = Callable[[Rows, PostContext], PostColumns]


def read_generic_posts(rows: Rows, ctx: PostContext) -> PostColumns:
    accounts = rows.text("account")
    if ctx.account is not None:
        accounts = accounts.where(accounts != "", ctx.account)
    no_account = missing_mask(accounts)
    rows.report(no_account, "imports.errors.missing_value", column="account")
    platforms = accounts.map(dict(ctx.accounts))
    unknown = platforms.isna().to_numpy() & ~no_account
    choices = ", ".join(ctx.accounts) or "-"
    rows.report(unknown, "imports.errors.unknown_account", values=accounts, choices=choices)
    urls = rows.required("url")
    times = rows.times("published_at", formats=_GENERIC_TIMES, naive_tz=ctx.tz)
    ids = urls
    if rows.has("external_id"):
        external = rows.text("external_id")
        exponent = external.str.match(_EXPONENT_ID).to_numpy()
        rows.report(exponent, "imports.errors.id_in_exponent_form", column="external_id", values=external)
        ids = external.where(~missing_mask(external), urls)
    metrics = {name: rows.counts(name) for name in METRIC_FIELDS}
    return build_posts(
        rows,
        ids=ids,
        published=times.utc,
        urls=urls,
        texts=rows.text("text"),
        metrics=metrics,
        platforms=platforms,
        accounts=accounts,
        authors=rows.optional_text("author"),
    )


def read_x_tweet_activity(rows: Rows, ctx: PostContext) -> PostColumns:
    accounts = _row_accounts(rows, ctx, [_x_users(rows)])
    ids = post_ids(rows, "id", _X_ID)
    times = rows.times("time", formats=_X_CLASSIC_TIMES, naive_tz=UTC)
    metrics = {
        name: rows.counts(name) for name in ("impressions", "engagements", "likes", "comments", "shares")
    }
    metrics["clicks"] = rows.counts("clicks")
    return _platform_posts(
        rows, ctx, ids=ids, published=times.utc, texts=rows.text("text"), metrics=metrics, accounts=accounts
    )


def read_x_content(rows: Rows, ctx: PostContext) -> PostColumns:
    placeholder = (rows.text("id") == "").to_numpy() & rows.text("url").str.contains(
        _X_PLACEHOLDER
    ).to_numpy()
    rows.skip_rows(placeholder, "imports.skips.unavailable_post")
    accounts = _row_accounts(rows, ctx, [_x_users(rows)])
    ids = post_ids(rows, "id", _X_ID)
    dates = rows.times("date", formats=_X_CONTENT_DATES, naive_tz=ctx.tz, report=False)
    # The export has no time of day; the snowflake id carries the exact publish time. Trust it
    # only when it agrees with the Date column (test fixtures use made-up ids).
    snowflake = _snowflake_times(ids, usable=~rows.bad & ~rows.skip)
    gap = snowflake - dates.utc
    agrees = np.isnat(dates.utc) | ((gap >= np.timedelta64(-1, "D")) & (gap < np.timedelta64(2, "D")))
    published = np.where(~np.isnat(snowflake) & agrees, snowflake, dates.utc)
    unknown = np.isnat(published)
    rows.report(unknown & dates.missing, "imports.errors.missing_value", column="date")
    rows.report(unknown & dates.bad, "imports.errors.bad_date", column="date", values=rows.text("date"))
    metrics = {
        name: rows.counts(name)
        for name in ("impressions", "likes", "engagements", "saves", "comments", "shares", "clicks")
    }
    return _platform_posts(
        rows, ctx, ids=ids, published=published, texts=rows.text("text"), metrics=metrics, accounts=accounts
    )


def read_instagram_posts(rows: Rows, ctx: PostContext) -> PostColumns:
    _skip_meta_sub_rows(rows)
    accounts = _row_accounts(rows, ctx, [rows.text("account_id"), rows.text("account_handle")])
    ids = post_ids(rows, "id", _META_ID)
    times = rows.times("published", formats=_META_TIMES, naive_tz=ctx.tz)
    metrics = {
        name: rows.counts(name) for name in ("impressions", "reach", "likes", "comments", "shares", "saves")
    }
    return _platform_posts(
        rows, ctx, ids=ids, published=times.utc, texts=rows.text("text"), metrics=metrics, accounts=accounts
    )


def read_facebook_posts(rows: Rows, ctx: PostContext) -> PostColumns:
    _skip_meta_sub_rows(rows)
    accounts = _row_accounts(rows, ctx, [rows.text("page_id"), rows.text("account_handle")])
    ids = post_ids(rows, "id", _META_ID)
    times = rows.times("published", formats=_META_TIMES, naive_tz=ctx.tz)
    metrics = {
        name: rows.counts(name)
        for name in ("impressions", "reach", "engagements", "likes", "comments", "shares", "clicks")
    }
    # NOTE: which of Title/Description holds the caption depends on the post type (Title was set
    # on 725 of 730 real posts, Description on 379), so keep both when they differ.
    texts = pd.Series(
        [
            _caption(t, d)
            for t, d in zip(rows.text("title").tolist(), rows.text("text").tolist(), strict=True)
        ],
        dtype=object,
    )
    return _platform_posts(
        rows, ctx, ids=ids, published=times.utc, texts=texts, metrics=metrics, accounts=accounts
    )


def read_youtube_content(rows: Rows, ctx: PostContext) -> PostColumns:
    skip_youtube_extras(rows)
    ids = post_ids(rows, "id", _YOUTUBE_ID)
    times = rows.times("published", formats=YOUTUBE_DATES, naive_tz=ctx.tz)
    metrics = {
        name: rows.counts(name) for name in ("impressions", "video_views", "likes", "comments", "shares")
    }
    urls = ("https://www.youtube.com/watch?v=" + ids).tolist()
    return _platform_posts(
        rows, ctx, ids=ids, published=times.utc, texts=rows.text("text"), metrics=metrics, urls=urls
    )


POST_READERS: Mapping[FormatName, PostReader] = {
    FormatName.GENERIC_POSTS: read_generic_posts,
    FormatName.X_TWEET_ACTIVITY: read_x_tweet_activity,
    FormatName.X_CONTENT: read_x_content,
    FormatName.INSTAGRAM_POSTS: read_instagram_posts,
    FormatName.FACEBOOK_POSTS: read_facebook_posts,
    FormatName.YOUTUBE_CONTENT: read_youtube_content,
}


# -- shared helpers ---------------------------------------------------------------------------


def skip_youtube_extras(rows: Rows) -> None:
    """The rows of a Studio table that are not videos, or not videos we can place in time.

    Row 2 is an aggregate "Total" row ("合計" in Japanese); an "advanced mode" export ends with a
    footer (``Showing top 500 results,,,,``); a private or unlisted video has no publish time.
    """
    ids = rows.text("id")
    rows.skip_rows(ids.str.casefold().isin(_YOUTUBE_TOTALS).to_numpy(), "imports.skips.total_row")
    footer = rows.alone("id") & ~ids.str.fullmatch(_YOUTUBE_ID).to_numpy()
    rows.skip_rows(footer, "imports.skips.footer", values=ids)
    if rows.has("published"):
        no_time = (rows.text("published") == "").to_numpy() & (ids != "").to_numpy()
        rows.skip_rows(no_time, "imports.skips.no_publish_time")


def _x_users(rows: Rows) -> pd.Series:
    """The author of each X post as its permalink names it (``""`` when it does not)."""
    users: pd.Series = rows.text("url").str.extract(_X_PERMALINK_USER, flags=re.IGNORECASE)[0].fillna("")
    return users


def _row_accounts(rows: Rows, ctx: PostContext, identities: Sequence[pd.Series]) -> pd.Series | str:
    """The configured account of each row: the one the row names (id or handle), else the file's.

    A row naming an account nobody configured, in a file with no account of its own (several of
    the platform's accounts are configured and no ``--account`` was given), is skipped by name.
    """
    if not ctx.identities:
        return file_account(ctx)
    found = pd.Series([""] * rows.n, dtype=object)
    shown = pd.Series([""] * rows.n, dtype=object)
    for values in identities:
        keys = values.map(lambda v: ctx.identities.get(identity_key(v), "") if v else "")
        found = found.where(found != "", keys)
        shown = shown.where(shown != "", values)
    if ctx.account is not None:
        return found.where(found != "", ctx.account)
    rows.skip_rows(
        (found == "").to_numpy() & (shown != "").to_numpy(), "imports.skips.other_account", values=shown
    )
    if (((found == "") & (shown == "")).to_numpy() & ~rows.skip).any():
        file_account(ctx)  # rows that name no account at all: the file must say whose they are
    return found


def file_account(ctx: PostContext) -> str:
    if ctx.account is None:
        matching = sorted(key for key, platform in ctx.accounts.items() if platform == ctx.platform)
        raise BotError("imports.errors.account_ambiguous", platform=ctx.platform, choices=", ".join(matching))
    return ctx.account


def post_ids(rows: Rows, key: str, pattern: str) -> pd.Series:
    """Post ids as strings; ids Excel turned into ``1.22158E+17`` are unrecoverable and rejected."""
    values = rows.required(key)
    missing = missing_mask(values)
    exponent = values.str.match(_EXPONENT_ID).to_numpy() & ~missing
    rows.report(exponent, "imports.errors.id_in_exponent_form", column=key, values=values)
    malformed = ~missing & ~exponent & ~values.str.fullmatch(pattern).to_numpy()
    rows.report(malformed, "imports.errors.bad_id", column=key, values=values)
    return values


def _unix_newlines(texts: Strings) -> Strings:
    cells = texts.tolist()
    if "\r" in "".join(cells):
        texts[:] = [cell.replace("\r\n", "\n") for cell in cells]
    return texts


def _snowflake_times(ids: pd.Series, *, usable: npt.NDArray[np.bool_]) -> npt.NDArray[np.datetime64]:
    out = np.full(len(ids), np.datetime64("NaT"), dtype="datetime64[ns]")
    rows = np.flatnonzero(usable)
    if not len(rows):
        return out
    ms = np.array(
        [min((int(value) >> 22) + _TWITTER_EPOCH_MS, _LATEST_MS) for value in ids.to_numpy()[rows].tolist()],
        dtype=np.int64,
    )
    # An id below 2**22 has no time in it; one past the year 2200 is not a snowflake either.
    ok = (ms > _TWITTER_EPOCH_MS) & (ms < _LATEST_MS)
    out[rows[ok]] = ms[ok].astype("datetime64[ms]")
    return out


def _skip_meta_sub_rows(rows: Rows) -> None:
    if rows.has("data_comment"):
        comments = rows.text("data_comment")
        sub_rows = ~comments.str.casefold().isin(_META_TOTAL_COMMENTS).to_numpy()
        rows.skip_rows(sub_rows, "imports.skips.breakdown_row", values=comments)


def _caption(title: str, description: str) -> str:
    if not title or title in description:
        return description
    if not description or description in title:
        return title
    return f"{title}\n\n{description}"


def _platform_posts(
    rows: Rows,
    ctx: PostContext,
    *,
    ids: pd.Series,
    published: npt.NDArray[np.datetime64],
    texts: pd.Series,
    metrics: Mapping[str, Counts | None],
    urls: Sequence[str | None] | None = None,
    accounts: pd.Series | str | None = None,
) -> PostColumns:
    assert ctx.platform is not None  # resolved before reading
    return build_posts(
        rows,
        ids=ids,
        published=published,
        urls=rows.optional_text("url") if urls is None else urls,
        texts=texts,
        metrics=metrics,
        platforms=ctx.platform,
        accounts=file_account(ctx) if accounts is None else accounts,
        authors=None,
    )


def build_posts(
    rows: Rows,
    *,
    ids: pd.Series,
    published: npt.NDArray[np.datetime64],
    urls: Sequence[str | None] | pd.Series,
    texts: pd.Series,
    metrics: Mapping[str, Counts | None],
    platforms: Sequence[str] | pd.Series | str,
    accounts: Sequence[str] | pd.Series | str,
    authors: Sequence[str | None] | None,
) -> PostColumns:
    """The rows that are neither bad nor skipped, column by column (no object per post)."""
    keep = np.flatnonzero(~rows.bad & ~rows.skip)
    n = len(keep)

    def take(values: Sequence[object] | npt.NDArray[np.object_] | pd.Series | str | None) -> Strings:
        if values is None or isinstance(values, str):
            return np.full(n, values, dtype=object)
        return np.asarray(values, dtype=object)[keep]

    counts = np.zeros((n, len(METRIC_FIELDS)), dtype=np.int64)
    known = np.zeros((n, len(METRIC_FIELDS)), dtype=bool)
    for j, name in enumerate(METRIC_FIELDS):
        if (column := metrics.get(name)) is not None:
            counts[:, j] = column.ints[keep]
            known[:, j] = column.known[keep]
    url_values = take(urls)
    url_values[url_values == ""] = None
    return PostColumns(
        platform=take(platforms),
        external_id=take(ids),
        published_at=published[keep].astype("datetime64[us]"),
        url=url_values,
        # Multi-line captions keep "\n" whatever the file's line endings were.
        text=_unix_newlines(take(texts)),
        account_key=take(accounts),
        author=take(authors),
        counts=counts,
        known=known,
        line=rows.lines[keep],
    )
