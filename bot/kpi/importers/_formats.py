"""The import formats the bot recognises and the header aliases that identify their columns (pure data).

Exports are matched by header *name*, never by position: platforms rename, add and drop columns between
versions and UI languages (see /work/shared/platforms/README.md, PART 1). Aliases are written here as
they appear in real exports and normalised once (NFKC, casefold, trimmed) so full-width and
half-width spellings, stray BOMs and trailing backslashes all match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from bot.errors import BotError

Kind = Literal["posts", "kpi", "daily"]
#: Kinds a person asks for (``sns-bot import posts|kpi``); time series (``daily``) are taken under either.
RequestKind = Literal["posts", "kpi"]


class FormatName(StrEnum):
    """The formats' stable names: what ``--format`` takes and what detection prints."""

    GENERIC_POSTS = "generic_posts"
    GENERIC_KPI = "generic_kpi"
    X_TWEET_ACTIVITY = "x_tweet_activity"
    X_CONTENT = "x_content"
    INSTAGRAM_POSTS = "instagram_posts"
    FACEBOOK_POSTS = "facebook_posts"
    YOUTUBE_CONTENT = "youtube_content"
    SEARCH_CONSOLE_QUERIES = "search_console_queries"
    X_ACCOUNT_DAILY = "x_account_daily"
    YOUTUBE_CHART = "youtube_chart"
    YOUTUBE_TOTALS = "youtube_totals"
    SEARCH_CONSOLE_CHART = "search_console_chart"
    SEARCH_CONSOLE_TABLE = "search_console_table"
    SEARCH_CONSOLE_FILTERS = "search_console_filters"


#: What `--format generic` means for each kind (the contract names both formats "generic").
GENERIC_ALIAS = "generic"


@dataclass(frozen=True, slots=True)
class ImportFormat:
    """A file format the importer understands.

    Attributes:
        name: stable name used by ``--format`` and printed after detection.
        kind: whether the file yields posts or KPI values.
        platform: the platform of the posts (``None`` for generic files, which name an account per row).
        label_key: catalog key of a human-readable name.
    """

    name: FormatName
    kind: Kind
    platform: str | None
    label_key: str


@dataclass(frozen=True, slots=True)
class Column:
    """One logical column and every header spelling seen for it."""

    key: str
    aliases: tuple[str, ...]

    @property
    def display(self) -> str:
        """How to name the column in an error when the header lacks it."""
        return " / ".join(self.aliases[:2])


@dataclass(frozen=True, slots=True)
class FormatSpec:
    """How to recognise a format's header and which columns it must have.

    Attributes:
        signature: columns whose presence identifies the format (enough to say "this is an X export"
            and then complain precisely about the other missing ones).
        required: columns the import cannot do without.
    """

    format: ImportFormat
    columns: tuple[Column, ...]
    signature: frozenset[str]
    required: frozenset[str]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


_SPACES = re.compile(r"\s+")


def normalize_header(name: str) -> str:
    """NFKC + casefold + single spaces, without BOM or the trailing ``\\`` some X exports carry."""
    text = unicodedata.normalize("NFKC", name).replace("\ufeff", "").strip()
    # NOTE: a Go parser strips a trailing backslash from X Content headers (`共有された回数\`).
    text = text.rstrip("\\").strip()
    return _SPACES.sub(" ", text).casefold()


def _fmt(name: FormatName, kind: Kind, platform: str | None) -> ImportFormat:
    return ImportFormat(name=name, kind=kind, platform=platform, label_key=f"imports.formats.{name}")


def _spec(
    fmt: ImportFormat, columns: dict[str, tuple[str, ...]], *, signature: set[str], required: set[str]
) -> FormatSpec:
    return FormatSpec(
        format=fmt,
        columns=tuple(Column(key, aliases) for key, aliases in columns.items()),
        signature=frozenset(signature),
        required=frozenset(required | signature),
    )


_GENERIC_POSTS = _spec(
    _fmt(FormatName.GENERIC_POSTS, "posts", None),
    {
        "account": ("account",),
        "url": ("url",),
        "published_at": ("published_at",),
        "text": ("text",),
        "external_id": ("external_id",),
        "author": ("author",),
        "impressions": ("impressions",),
        "reach": ("reach",),
        "engagements": ("engagements",),
        "likes": ("likes",),
        "comments": ("comments",),
        "shares": ("shares",),
        "saves": ("saves",),
        "clicks": ("clicks",),
        "video_views": ("video_views",),
    },
    signature={"account", "url"},
    required={"published_at"},
)

_GENERIC_KPI = _spec(
    _fmt(FormatName.GENERIC_KPI, "kpi", None),
    {"kpi": ("kpi",), "period": ("period",), "value": ("value",)},
    signature={"kpi", "value"},
    required={"period"},
)

# X classic per-tweet export: 40 columns; en and ja UI; `favorites` before the 2015 rename.
_X_TWEET_ACTIVITY = _spec(
    _fmt(FormatName.X_TWEET_ACTIVITY, "posts", "x"),
    {
        "id": ("Tweet id", "ツイートID"),
        "url": ("Tweet permalink", "ツイートの固定リンク"),
        "text": ("Tweet text", "ツイート本文"),
        "time": ("time", "時間"),
        "impressions": ("impressions", "インプレッション"),
        "engagements": ("engagements", "エンゲージメント"),
        "shares": ("retweets", "リツイート"),
        "comments": ("replies", "返信"),
        "likes": ("likes", "いいね", "favorites"),
        "clicks": ("url clicks", "URLクリック数"),
    },
    signature={"id", "url"},
    required={"time", "impressions", "engagements"},
)

# X current "Content" export (account_analytics_content_*.csv); labels follow the UI language.
_X_CONTENT = _spec(
    _fmt(FormatName.X_CONTENT, "posts", "x"),
    {
        "id": ("Post id", "ポストID"),
        "date": ("Date", "日付"),
        "text": ("Post text", "ポスト本文"),
        "url": ("Post Link", "ポストのリンク"),
        "impressions": ("Impressions", "インプレッション数"),
        "likes": ("Likes", "いいね"),
        "engagements": ("Engagements", "エンゲージメント"),
        "saves": ("Bookmarks", "ブックマーク"),
        "comments": ("Replies", "返信"),
        # Reposts, as the classic export's retweets, so both generations count shares alike.
        "shares": ("Reposts", "リポスト"),
        "clicks": ("URL Clicks", "URLのクリック数"),
    },
    signature={"id", "url"},
    required={"date", "impressions", "engagements"},
)

_META_COMMON: dict[str, tuple[str, ...]] = {
    "id": ("Post ID", "投稿ID", "Identificação do post", "Inläggs-ID"),
    "published": ("Publish time", "公開時間", "Horário de publicação"),
    "url": ("Permalink", "リンク", "Link permanente"),
    "data_comment": ("Data comment", "データコメント", "Comentário de dados"),
    # Meta renamed Impressions to Views; older files still say Impressions.
    "impressions": ("Views", "Impressions", "ビュー", "インプレッション", "Visualizações"),
    "reach": ("Reach", "リーチ", "Alcance"),
    "shares": ("Shares", "シェア数", "Compartilhamentos"),
    "comments": ("Comments", "コメント数", "Comentários"),
}

_INSTAGRAM_POSTS = _spec(
    _fmt(FormatName.INSTAGRAM_POSTS, "posts", "instagram"),
    {
        **_META_COMMON,
        "account_id": ("Account ID", "アカウントID", "Konto-ID"),
        "account_handle": ("Account username", "アカウントのユーザーネーム", "Nome de usuário da conta"),
        "text": ("Description", "説明", "Descrição"),
        "likes": ("Likes", "いいね!の数", "Curtidas"),
        "saves": ("Saves", "保存数", "Salvamentos"),
    },
    signature={"id", "account_id"},
    required={"published", "url"},
)

_FACEBOOK_POSTS = _spec(
    _fmt(FormatName.FACEBOOK_POSTS, "posts", "facebook"),
    {
        **_META_COMMON,
        "page_id": ("Page ID", "ページID"),
        "account_handle": ("Page name", "ページ名"),
        "title": ("Title",),
        "text": ("Description",),
        "engagements": ("Reactions, Comments and Shares",),
        "likes": ("Reactions",),
        "clicks": ("Link Clicks",),
    },
    signature={"id", "page_id"},
    required={"published", "url"},
)

# YouTube Studio (Advanced mode, Content tab) "Table data.csv"; columns follow the chosen metrics.
_YOUTUBE_CONTENT = _spec(
    _fmt(FormatName.YOUTUBE_CONTENT, "posts", "youtube"),
    {
        "id": ("Content", "コンテンツ"),
        "text": ("Video title", "動画のタイトル"),
        "published": ("Video publish time", "動画公開時刻"),
        "video_views": ("Views", "視聴回数"),
        "impressions": ("Impressions", "Thumbnail impressions", "インプレッション数"),
        "likes": ("Likes", "高評価数"),
        "comments": ("Comments added", "コメントの追加回数"),
        "shares": ("Shares",),
    },
    signature={"id", "published"},
    required={"text"},
)

# Google Search Console "Queries.csv"; other locales from a test listing real UI headers.
_SEARCH_CONSOLE_QUERIES = _spec(
    _fmt(FormatName.SEARCH_CONSOLE_QUERIES, "kpi", None),
    {
        "query": (
            "Top queries",
            "上位のクエリ",
            "Häufigste Suchanfragen",
            "Nejčastější dotazy",
            "인기 검색어",
            "热门查询",
        ),
        "clicks": ("Clicks", "クリック数", "Klicks", "Kliknutí", "클릭수", "点击次数"),
        "impressions": ("Impressions", "表示回数", "Impressionen", "Zobrazení", "노출수", "展示次数"),
    },
    signature={"query"},
    required={"clicks", "impressions"},
)

# X's account-level daily export beside the per-post one ("daily_tweet_activity_metrics_*.csv", 38
# columns) and the current "account_overview_analytics" export: one row per day, never per post.
_X_ACCOUNT_DAILY = _spec(
    _fmt(FormatName.X_ACCOUNT_DAILY, "daily", "x"),
    {
        "date": ("Date", "日付"),
        "posts": ("Tweets published", "Create Post", "ツイート", "ポストを作成"),
        "impressions": ("impressions", "インプレッション", "インプレッション数"),
        "engagements": ("engagements", "エンゲージメント"),
        "likes": ("likes", "いいね"),
        "shares": ("retweets", "Reposts", "リツイート", "リポスト"),
        "comments": ("replies", "返信"),
        "clicks": ("url clicks", "URL Clicks", "URLクリック数"),
        "profile_visits": ("user profile clicks", "Profile visits", "プロフィールへのアクセス数"),
        "follows": ("follows", "New follows", "フォロー", "新しいフォロワー"),
        "media_views": ("media views", "Media views", "メディアの再生数"),
    },
    signature={"date", "impressions", "posts"},
    required=set(),
)

# YouTube Studio "Chart data.csv" of the Content tab: one row per video per day (a time series).
_YOUTUBE_CHART = _spec(
    _fmt(FormatName.YOUTUBE_CHART, "daily", "youtube"),
    {
        "date": ("Date", "日付"),
        "id": ("Content", "コンテンツ"),
        "text": ("Video title", "動画のタイトル"),
        "published": ("Video publish time", "動画公開時刻"),
        "views": ("Views", "視聴回数"),
    },
    signature={"date", "id"},
    required={"views"},
)

# YouTube Studio "Totals.csv": the channel's daily totals (often re-saved by Excel: DD-MM-YYYY, CRLF).
_YOUTUBE_TOTALS = _spec(
    _fmt(FormatName.YOUTUBE_TOTALS, "daily", "youtube"),
    {
        "date": ("Date", "日付"),
        "views": ("Views", "視聴回数"),
        "subscribers": ("Subscribers", "チャンネル登録者"),
    },
    signature={"date", "views"},
    required=set(),
)

# Search Console performance export, "Chart.csv" (older exports: "Dates.csv"): daily site totals.
_SEARCH_CONSOLE_CHART = _spec(
    _fmt(FormatName.SEARCH_CONSOLE_CHART, "daily", "search_console"),
    {
        "date": ("Date", "日付"),
        "clicks": ("Clicks", "クリック数"),
        "impressions": ("Impressions", "表示回数"),
        "position": ("Position", "掲載順位"),
    },
    signature={"date", "clicks", "impressions", "position"},
    required=set(),
)

# The other tables of that export (pages, countries, devices, search appearance): recognised only
# to say which file to import instead.
_SEARCH_CONSOLE_TABLE = _spec(
    _fmt(FormatName.SEARCH_CONSOLE_TABLE, "kpi", None),
    {
        "part": (
            "Top pages",
            "Country",
            "Device",
            "Search Appearance",
            "上位のページ",
            "国",
            "デバイス",
            "検索での見え方",
        ),
        "clicks": ("Clicks", "クリック数"),
        "impressions": ("Impressions", "表示回数"),
        "position": ("Position", "掲載順位"),
    },
    signature={"part", "clicks", "impressions", "position"},
    required=set(),
)

_SEARCH_CONSOLE_FILTERS = _spec(
    _fmt(FormatName.SEARCH_CONSOLE_FILTERS, "kpi", None),
    {"filter": ("Filter", "フィルタ"), "value": ("Value", "値")},
    signature={"filter", "value"},
    required=set(),
)

#: Every format, in the order detection prefers them when two fit equally well.
SPECS: Mapping[str, FormatSpec] = MappingProxyType(
    {
        spec.format.name: spec
        for spec in (
            _GENERIC_POSTS,
            _GENERIC_KPI,
            _X_TWEET_ACTIVITY,
            _X_CONTENT,
            _INSTAGRAM_POSTS,
            _FACEBOOK_POSTS,
            _YOUTUBE_CONTENT,
            _SEARCH_CONSOLE_QUERIES,
            _X_ACCOUNT_DAILY,
            _YOUTUBE_CHART,
            _YOUTUBE_TOTALS,
            _SEARCH_CONSOLE_CHART,
            _SEARCH_CONSOLE_TABLE,
            _SEARCH_CONSOLE_FILTERS,
        )
    }
)

FORMATS: Mapping[str, ImportFormat] = MappingProxyType({name: spec.format for name, spec in SPECS.items()})


def refused_alone(name: FormatName, *, part_of_zip: bool = False) -> bool:
    """Whether a table of a Search Console export may not be imported on its own: only its queries
    table may (the zip as downloaded takes ``Chart.csv`` too; alone it says to import the zip)."""
    if name is FormatName.SEARCH_CONSOLE_CHART:
        return not part_of_zip
    return name in (FormatName.SEARCH_CONSOLE_TABLE, FormatName.SEARCH_CONSOLE_FILTERS)


def kind_fits(fmt: ImportFormat, kind: Kind | None) -> bool:
    """Whether a file of ``fmt`` may be imported when a person asked for ``kind`` (``None``: any)."""
    return kind is None or fmt.kind == kind or fmt.kind == "daily"


def resolve_format(name: str, *, kind: Kind | None) -> ImportFormat:
    """The format a ``--format NAME`` means for ``kind``; ``generic`` picks the kind's generic format.

    Raises:
        BotError: ``imports.errors.unknown_format_name`` for a name we do not know,
            ``imports.errors.wrong_kind`` for a format of the other kind.
    """
    key = name.strip().casefold()
    if key == GENERIC_ALIAS:
        key = f"generic_{kind or 'posts'}"
    fmt = FORMATS.get(key)
    if fmt is None:
        choices = ", ".join([GENERIC_ALIAS, *FORMATS])
        raise BotError("imports.errors.unknown_format_name", name=name, choices=choices)
    if not kind_fits(fmt, kind):
        raise BotError("imports.errors.wrong_kind", format=fmt.name, kind=kind)
    return fmt
