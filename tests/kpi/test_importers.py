"""Tests for the CSV import layer, over sample files built from real export headers and rows."""

from __future__ import annotations

import codecs
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pytest

from bot.errors import BotError
from bot.i18n import placeholders, translator
from bot.kpi.columns import ImportChunk
from bot.kpi.importers import (
    FORMATS,
    DetectedFile,
    SearchConsoleOptions,
    detect_format,
    iter_import,
    resolve_format,
)
from bot.kpi.records import KpiRecord, PostRecord, RowProblem
from bot.metrics import Metrics

DATA = Path(__file__).parent / "data"
TOKYO = ZoneInfo("Asia/Tokyo")
ACCOUNTS = {"x_corp": "x", "ig_corp": "instagram", "fb_corp": "facebook", "yt_corp": "youtube"}
CATALOGS = Path(__file__).parents[2] / "bot" / "i18n"


def run(
    path: Path,
    *,
    kind: Literal["posts", "kpi"] = "posts",
    format: str | None = None,
    accounts: Mapping[str, str] = ACCOUNTS,
    **kwargs: Any,
) -> tuple[DetectedFile, list[ImportChunk]]:
    detected, chunks = iter_import(path, kind=kind, format=format, tz=TOKYO, accounts=accounts, **kwargs)
    return detected, list(chunks)


def posts_of(chunks: list[ImportChunk]) -> list[PostRecord]:
    return [post for chunk in chunks for post in chunk.posts.records()]


def problems_of(chunks: list[ImportChunk]) -> list[tuple[int, str, dict[str, Any]]]:
    found = [(p.line, p.key, p.params) for chunk in chunks for p in chunk.problems]
    for _, key, params in found:  # every reason renders in both languages
        for locale in ("ja", "en"):
            assert translator(locale)(key, **params)
    return found


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def error_of(call: Any) -> BotError:
    with pytest.raises(BotError) as info:
        call()
    for locale in ("ja", "en"):
        assert info.value.render(translator(locale))
    return info.value


# -- detection ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt", "encoding", "header_line", "delimiter"),
    [
        ("generic_posts.csv", "generic_posts", "utf-8", 1, ","),
        ("generic_kpi.csv", "generic_kpi", "utf-8", 1, ","),
        ("x_tweet_activity_en.csv", "x_tweet_activity", "utf-8", 1, ","),
        ("x_tweet_activity_2015_favorites.csv", "x_tweet_activity", "utf-8", 1, ","),
        ("x_tweet_activity_ja_cp932.csv", "x_tweet_activity", "cp932", 1, ","),
        ("x_content_en.csv", "x_content", "utf-8", 1, ","),
        ("x_content_ja_bom.csv", "x_content", "utf-8-sig", 1, ","),
        ("instagram_posts_en_bom.csv", "instagram_posts", "utf-8-sig", 1, ","),
        ("instagram_posts_ja.csv", "instagram_posts", "utf-8-sig", 1, ","),
        ("instagram_posts_utf16_sep.csv", "instagram_posts", "utf-16", 2, ","),
        ("facebook_posts_bom.csv", "facebook_posts", "utf-8-sig", 1, ","),
        ("youtube_content_en.csv", "youtube_content", "utf-8", 1, ","),
        ("youtube_content_ja_utf16.tsv", "youtube_content", "utf-16", 1, "\t"),
        ("gsc_queries_en.csv", "search_console_queries", "utf-8", 1, ","),
        ("gsc_queries_ja.csv", "search_console_queries", "utf-8-sig", 1, ","),
    ],
)
def test_detect_format_from_head_bytes(
    name: str, fmt: str, encoding: str, header_line: int, delimiter: str
) -> None:
    detected = detect_format((DATA / name).read_bytes()[:4096])

    assert detected == DetectedFile(FORMATS[fmt], encoding, header_line=header_line, delimiter=delimiter)


def test_detect_format_refuses_a_file_of_the_other_kind() -> None:
    error = error_of(lambda: detect_format((DATA / "gsc_queries_en.csv").read_bytes(), kind="posts"))

    assert (error.key, error.params) == (
        "imports.errors.wrong_kind",
        {"format": "search_console_queries", "kind": "posts"},
    )


def test_unknown_header_is_reported_with_the_first_line() -> None:
    error = error_of(lambda: detect_format(b"foo,bar,baz\n1,2,3\n"))

    assert error.key == "imports.errors.unknown_format"
    assert error.params["header"] == "foo,bar,baz"


def test_empty_and_undecodable_files() -> None:
    assert error_of(lambda: detect_format(b"")).key == "imports.errors.empty_file"
    # 0x81 0x20 is neither UTF-8 nor a CP932 double-byte sequence.
    assert (
        error_of(lambda: detect_format(b"kpi,period,value\n\x81 \x81 ")).key == "imports.errors.undecodable"
    )


def test_cp932_after_an_ascii_head_is_found_by_the_whole_file_check(tmp_path: Path) -> None:
    path = tmp_path / "kpi.csv"
    filler = "".join(f"recruiting_entries,2026-01-{day:02d},{day}\n" for day in range(1, 29)) * 2000
    path.write_bytes(("kpi,period,value\n" + filler + "採用エントリー,2026-02,3\n").encode("cp932"))

    detected, chunks = run(path, kind="kpi")

    assert detected.encoding == "cp932"
    assert chunks[-1].kpis[-1] == KpiRecord(kpi="採用エントリー", period="2026-02", value=3.0, line=56_002)


def test_format_names_and_generic_alias() -> None:
    assert resolve_format("generic", kind="posts") is FORMATS["generic_posts"]
    assert resolve_format("generic", kind="kpi") is FORMATS["generic_kpi"]
    assert (
        error_of(lambda: resolve_format("tiktok", kind="posts")).key == "imports.errors.unknown_format_name"
    )
    assert error_of(lambda: resolve_format("x_content", kind="kpi")).key == "imports.errors.wrong_kind"
    for fmt in FORMATS.values():
        assert translator("ja")(fmt.label_key) and translator("en")(fmt.label_key)


# -- generic files ----------------------------------------------------------------------------------


def test_generic_posts() -> None:
    detected, chunks = run(DATA / "generic_posts.csv", format="generic")

    assert detected.format is FORMATS["generic_posts"]
    assert posts_of(chunks) == [
        PostRecord(
            platform="x",
            external_id="https://x.com/acme/status/1900000000000000001",
            published_at=utc(2026, 6, 5, 0, 30),  # 09:30 +09:00
            url="https://x.com/acme/status/1900000000000000001",
            text="新商品のお知らせ\n詳しくはリンクから",
            account_key="x_corp",
            metrics=Metrics(impressions=1234, likes=1200, comments=3, shares=2, clicks=15),
            line=2,
        ),
        PostRecord(
            platform="instagram",
            external_id="18182686576415017",
            published_at=utc(2026, 6, 6, 9, 0),  # no offset: 18:00 in Asia/Tokyo
            url="https://www.instagram.com/p/Ddr9jGEmLMp/",
            text='Summer "sale" starts',
            account_key="ig_corp",
            author="sato",
            metrics=Metrics(impressions=5000, reach=4100, engagements=321, likes=250, saves=33),
            line=4,  # the previous record spans lines 2-3
        ),
        PostRecord(
            platform="x",
            external_id="https://x.com/acme/status/1900000000000000003",
            published_at=utc(2026, 6, 7, 0, 15),
            url="https://x.com/acme/status/1900000000000000003",
            text="Short post",
            account_key="x_corp",
            metrics=Metrics(),
            line=5,
        ),
    ]
    assert [(c.rows, c.skipped, c.problems) for c in chunks] == [(3, 0, [])]


def test_generic_posts_bad_rows_report_exact_lines_and_reasons() -> None:
    _, chunks = run(DATA / "generic_posts_bad.csv")

    assert [(p.line, p.external_id) for p in posts_of(chunks)] == [
        (2, "https://x.com/acme/status/1"),
        (13, "https://x.com/acme/status/8"),
    ]
    assert posts_of(chunks)[1].metrics.impressions == 2000
    choices = "x_corp, ig_corp, fb_corp, yt_corp"
    assert problems_of(chunks) == [
        (5, "imports.errors.bad_number", {"column": "impressions", "value": "12a"}),
        (6, "imports.errors.unknown_account", {"value": "unknown_acct", "choices": choices}),
        (7, "imports.errors.missing_value", {"column": "url"}),
        (8, "imports.errors.bad_date", {"column": "published_at", "value": "2026-13-01"}),
        (10, "imports.errors.negative_count", {"column": "impressions", "value": "-5"}),
        (10, "imports.errors.not_whole_number", {"column": "engagements", "value": "1.5"}),
        (12, "imports.errors.too_many_fields", {"expected": 10}),
        (14, "imports.errors.missing_value", {"column": "published_at"}),
    ]
    assert chunks[0].rows == 9  # the blank line 11 is not a row


def test_generic_posts_account_option_fills_empty_account_cells(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text("account,url,published_at\n,https://x.com/a/status/1,2026-06-01T00:00:00Z\n", "utf-8")

    _, chunks = run(path, account="x_corp")

    assert [(p.account_key, p.platform) for p in posts_of(chunks)] == [("x_corp", "x")]


def test_generic_kpi_values() -> None:
    kpis = {"recruiting_entries", "engagement_rate", "follower_growth", "branded_search"}

    detected, chunks = run(DATA / "generic_kpi.csv", kind="kpi", kpis=kpis)

    assert detected.format is FORMATS["generic_kpi"]
    assert [k for c in chunks for k in c.kpis] == [
        KpiRecord(kpi="recruiting_entries", period="2026-05", value=28.0, line=2),
        KpiRecord(kpi="engagement_rate", period="2026-05", value=3.2, line=3),
        KpiRecord(kpi="follower_growth", period="2026-05-31", value=-12.0, line=4),
        KpiRecord(kpi="branded_search", period="2026-05", value=1234.5, line=5),
    ]


def test_generic_kpi_bad_rows() -> None:
    _, chunks = run(DATA / "generic_kpi_bad.csv", kind="kpi", kpis=["engagement_rate", "recruiting_entries"])

    assert [k for c in chunks for k in c.kpis] == [
        KpiRecord(kpi="engagement_rate", period="2026-06", value=2.5, line=8)
    ]
    assert problems_of(chunks) == [
        (2, "imports.errors.bad_period", {"column": "period", "value": "2026-5"}),
        (3, "imports.errors.bad_period", {"column": "period", "value": "2026-02-30"}),
        (
            4,
            "imports.errors.unknown_kpi",
            {"value": "unknown_kpi", "choices": "engagement_rate, recruiting_entries"},
        ),
        (5, "imports.errors.missing_value", {"column": "value"}),
        (6, "imports.errors.bad_number", {"column": "value", "value": "nan"}),
        (7, "imports.errors.bad_number", {"column": "value", "value": "inf"}),
    ]


# -- X ----------------------------------------------------------------------------------------------


def test_x_classic_english_export() -> None:
    _, chunks = run(DATA / "x_tweet_activity_en.csv")

    posts = posts_of(chunks)
    assert posts[0] == PostRecord(
        platform="x",
        external_id="1465712230054432768",  # a string: 19 digits survive exactly
        published_at=utc(2021, 11, 30, 16, 0),
        url="https://twitter.com/rOpenSci/status/1465712230054432768",
        text="Join our Community Call next week. Details in this thread: https://t.co/lyXpM76rjm",
        account_key="x_corp",
        metrics=Metrics(impressions=1777, engagements=5, likes=2, comments=0, shares=0, clicks=0),
        line=2,
    )
    assert posts[1].metrics == Metrics(
        impressions=9535, engagements=161, likes=10, comments=0, shares=6, clicks=26
    )
    assert posts[2].text == 'Issues labelled "help wanted" 👇\nSee the list &amp; pick one'
    assert posts[2].metrics.likes is None  # "-" means no data, not 0
    assert [p.line for p in posts] == [2, 3, 4]


def test_x_classic_japanese_cp932_export() -> None:
    detected, chunks = run(DATA / "x_tweet_activity_ja_cp932.csv")

    assert detected.encoding == "cp932"
    posts = posts_of(chunks)
    assert posts[0] == PostRecord(
        platform="x",
        external_id="1126000000000000001",
        published_at=utc(2019, 5, 8, 8, 55),
        url="https://twitter.com/acme_jp/status/1126000000000000001",
        text="新製品「ＡＣＭＥ ２」を発表しました。詳しくはこちら",
        account_key="x_corp",
        metrics=Metrics(impressions=2345, engagements=56, likes=30, comments=2, shares=4, clicks=12),
        line=2,
    )
    assert posts[1].text == "本日の営業は終了しました。\nまた明日もよろしくお願いします。"
    assert posts[1].metrics.impressions == 1024  # "1,024"
    assert problems_of(chunks) == []


def test_x_classic_2015_favorites_variant() -> None:
    _, chunks = run(DATA / "x_tweet_activity_2015_favorites.csv")

    assert posts_of(chunks) == [
        PostRecord(
            platform="x",
            external_id="600000000000000000",
            published_at=utc(2015, 5, 17, 23, 59),
            url="https://twitter.com/acme/status/600000000000000000",
            text="Hello 2015",
            account_key="x_corp",
            metrics=Metrics(impressions=250, engagements=7, likes=3, comments=2, shares=1, clicks=1),
            line=2,
        )
    ]


def test_x_content_export_takes_time_from_snowflake_when_it_agrees_with_date() -> None:
    _, chunks = run(DATA / "x_content_en.csv")

    posts = posts_of(chunks)
    # The fixture's id is synthetic (its snowflake says 2026-07-06): the Date column wins, at midnight in tz.
    assert posts[0].published_at == utc(2026, 7, 13, 15, 0)
    assert posts[0].metrics == Metrics(
        impressions=122978, engagements=300, likes=12, comments=0, shares=0, saves=0, clicks=66
    )
    # A real snowflake id carries the exact publish time.
    assert posts[1] == PostRecord(
        platform="x",
        external_id="2062732161538076729",
        published_at=datetime(2026, 6, 5, 3, 4, 5, 678000, tzinfo=UTC),
        url="https://x.com/acme/status/2062732161538076729",
        text="@someone great point",
        account_key="x_corp",
        metrics=Metrics(impressions=71, engagements=2, likes=2, comments=0, shares=3, saves=1, clicks=0),
        line=3,
    )


def test_x_content_padded_counts_and_an_id_too_long_for_a_snowflake(tmp_path: Path) -> None:
    header = (
        "Post id,Date,Post text,Post Link,Impressions,Likes,Engagements,Bookmarks,Shares,New follows,"
        "Replies,Reposts,Profile visits,Detail Expands,URL Clicks,Hashtag Clicks,Permalink Clicks\n"
    )
    long_id = "9" * 40
    path = tmp_path / "content.csv"
    path.write_text(
        header
        + f'{long_id},"Tue, Jul 14, 2026",hi,https://x.com/a/status/1, 12 ,3 ,5,,,,,,,,,,\n'
        + '2062732161538076729,"Fri, Jun 5, 2026",yo,https://x.com/a/status/2,"1,234",0,1,,,,,,,,,,\n',
        "utf-8",
    )

    _, chunks = run(path)

    assert problems_of(chunks) == []
    assert [(p.external_id, p.published_at, p.metrics) for p in posts_of(chunks)] == [
        # No time in an id that large: the Date column, midnight in Tokyo.
        (long_id, utc(2026, 7, 13, 15, 0), Metrics(impressions=12, engagements=5, likes=3)),
        (
            "2062732161538076729",
            datetime(2026, 6, 5, 3, 4, 5, 678000, tzinfo=UTC),
            Metrics(impressions=1234, engagements=1, likes=0),
        ),
    ]


def test_x_content_japanese_export_with_bom_and_backslash_header() -> None:
    _, chunks = run(DATA / "x_content_ja_bom.csv")

    assert posts_of(chunks) == [
        PostRecord(
            platform="x",
            external_id="2062732161538076729",
            published_at=datetime(2026, 6, 5, 3, 4, 5, 678000, tzinfo=UTC),
            url="https://x.com/acme_jp/status/2062732161538076729",
            text="新機能を公開しました！\n詳細はブログで",
            account_key="x_corp",
            metrics=Metrics(
                impressions=3456, engagements=120, likes=40, comments=6, shares=9, saves=5, clicks=18
            ),
            line=2,
        )
    ]


# -- Meta ---------------------------------------------------------------------------------------------


def test_instagram_english_export() -> None:
    _, chunks = run(DATA / "instagram_posts_en_bom.csv")

    assert posts_of(chunks) == [
        PostRecord(
            platform="instagram",
            external_id="18182686576415017",
            published_at=utc(2026, 9, 24, 6, 30),  # "09/24/2026 15:30" in Asia/Tokyo
            url="https://www.instagram.com/p/Ddr9jGEmLMp/",
            text="Take yourself back to the shore. 🤍 \nThe sound of the water.",
            account_key="ig_corp",
            metrics=Metrics(impressions=99, reach=40, likes=4, comments=0, shares=0, saves=0),
            line=2,
        ),
        PostRecord(
            platform="instagram",
            external_id="18043334455667788",
            published_at=utc(2026, 9, 22, 14, 48),
            url="https://www.instagram.com/reel/DdqAbCdEfGh/",
            text="Reel: carving a maple leaf",
            account_key="ig_corp",
            metrics=Metrics(impressions=15000, reach=12400, likes=448, comments=136, shares=47, saves=149),
            line=4,
        ),
    ]


def test_instagram_japanese_export_with_full_width_header() -> None:
    _, chunks = run(DATA / "instagram_posts_ja.csv")

    assert posts_of(chunks) == [
        PostRecord(
            platform="instagram",
            external_id="1788",
            published_at=utc(2026, 9, 22, 14, 48),
            url="https://example.com",
            text="神戸あるある",
            account_key="ig_corp",
            metrics=Metrics(impressions=105375, reach=70894, likes=448, comments=136, shares=47, saves=149),
            line=2,
        )
    ]


def test_instagram_utf16_with_excel_sep_line() -> None:
    detected, chunks = run(DATA / "instagram_posts_utf16_sep.csv")

    assert (detected.encoding, detected.header_line) == ("utf-16", 2)
    assert [(p.line, p.external_id, p.text) for p in posts_of(chunks)] == [
        (3, "18100000000000001", "Two\nlines")
    ]
    assert problems_of(chunks) == [(5, "imports.errors.bad_number", {"column": "Views", "value": "ten"})]


def test_meta_sub_rows_are_skipped_and_excel_ids_rejected(tmp_path: Path) -> None:
    path = tmp_path / "ig.csv"
    path.write_text(
        "Post ID,Account ID,Publish time,Permalink,Data comment,Views\n"
        "1,9,09/01/2026 10:00,https://i/p/1,,10\n"
        "1,9,09/01/2026 10:00,https://i/p/1,Organic,4\n"
        "1.22158E+17,9,09/01/2026 10:00,https://i/p/2,Total,10\n",
        "utf-8",
    )

    _, chunks = run(path)

    assert [(p.external_id, p.metrics.impressions) for p in posts_of(chunks)] == [("1", 10)]
    assert (chunks[0].rows, chunks[0].skipped) == (3, 1)
    assert problems_of(chunks) == [
        (4, "imports.errors.id_in_exponent_form", {"column": "Post ID", "value": "1.22158E+17"})
    ]


def test_facebook_export() -> None:
    _, chunks = run(DATA / "facebook_posts_bom.csv")

    assert posts_of(chunks) == [
        PostRecord(
            platform="facebook",
            external_id="1827720132094663",
            published_at=utc(2026, 9, 28, 9, 12),
            url="https://www.facebook.com/studiostonecreative/posts/pfbidNEW1",
            text=(
                "An autumn favourite is back! 🍁 \nCooler days are a good excuse to slow down, "
                '"really".\n\n#StoneCarving #MapleLeaf'
            ),
            account_key="fb_corp",
            # The row stops before "Link Clicks": clicks stay unknown.
            metrics=Metrics(impressions=27, reach=20, engagements=4, likes=4, comments=0, shares=0),
            line=2,
        ),
        PostRecord(
            platform="facebook",
            external_id="1827720132094999",
            published_at=utc(2026, 10, 2, 22, 45),
            url="https://www.facebook.com/studiostonecreative/videos/1827720132094999",
            text="Workshop tour\n\nWatch the full tour of our workshop.",
            account_key="fb_corp",
            metrics=Metrics(
                impressions=1234, reach=980, engagements=57, likes=41, comments=9, shares=7, clicks=18
            ),
            line=6,
        ),
    ]


# -- YouTube ------------------------------------------------------------------------------------------


def test_youtube_english_table_export() -> None:
    _, chunks = run(DATA / "youtube_content_en.csv")

    assert posts_of(chunks) == [
        PostRecord(
            platform="youtube",
            external_id="2q4TS4z4Rpk",
            published_at=utc(2024, 1, 5, 15, 0),  # "Jan 6, 2024", midnight in Asia/Tokyo
            url="https://www.youtube.com/watch?v=2q4TS4z4Rpk",
            text="Ultimate Guide to Acing FRM Part I 2024: Exam Insights & Strategic Study Plan",
            account_key="yt_corp",
            metrics=Metrics(impressions=138912, likes=196, video_views=8542),
            line=3,
        ),
        PostRecord(
            platform="youtube",
            external_id="-Ab3dEf9hIj",  # leading space trimmed
            published_at=utc(2026, 8, 31, 15, 0),
            url="https://www.youtube.com/watch?v=-Ab3dEf9hIj",
            text="Tiamat, Queen of Dragons",
            account_key="yt_corp",
            metrics=Metrics(impressions=40000, likes=12, video_views=5000),
            line=4,
        ),
    ]
    assert (chunks[0].rows, chunks[0].skipped) == (3, 1)  # the "Total" row


def test_youtube_japanese_unicode_text_export() -> None:
    detected, chunks = run(DATA / "youtube_content_ja_utf16.tsv", format="youtube_content")

    assert (detected.encoding, detected.delimiter) == ("utf-16", "\t")
    assert posts_of(chunks) == [
        PostRecord(
            platform="youtube",
            external_id="aBcDeFgHiJk",
            published_at=utc(2026, 10, 6, 15, 0),
            url="https://www.youtube.com/watch?v=aBcDeFgHiJk",
            text="【新商品】ＡＣＭＥ ２ 紹介動画",
            account_key="yt_corp",
            metrics=Metrics(impressions=300, likes=3, comments=1, video_views=10),
            line=3,
        )
    ]
    assert chunks[0].skipped == 1  # "合計"


# -- Search Console -------------------------------------------------------------------------------


def test_search_console_branded_clicks() -> None:
    options = SearchConsoleOptions(kpi="branded_search", period="2026-05", brand_terms=("acme",))

    detected, chunks = run(DATA / "gsc_queries_en.csv", kind="kpi", search_console=options)

    assert detected.format is FORMATS["search_console_queries"]
    # "acme widgets" 120 + "acme" 80 + "Acme, ""the"" widget people" 5
    assert [k for c in chunks for k in c.kpis] == [
        KpiRecord(kpi="branded_search", period="2026-05", value=205.0)
    ]
    assert sum(c.rows for c in chunks) == 4


def test_search_console_japanese_brand_variants_full_and_half_width() -> None:
    options = SearchConsoleOptions(kpi="branded", period="2026-05", brand_terms=("acme", "アクメ"))
    by_impressions = SearchConsoleOptions(
        kpi="branded", period="2026-05-01", brand_terms=("ＡＣＭＥ",), metric="impressions"
    )

    _, clicks = run(DATA / "gsc_queries_ja.csv", kind="kpi", search_console=options)
    _, impressions = run(DATA / "gsc_queries_ja.csv", kind="kpi", search_console=by_impressions)

    # ＡＣＭＥ 評判 "1,200" + ｱｸﾒ 株式会社 30 + アクメ 採用 12 + Ａｃｍｅ２ 4
    assert [k for c in clicks for k in c.kpis] == [KpiRecord(kpi="branded", period="2026-05", value=1246.0)]
    # ＡＣＭＥ 評判 "2,150" + Ａｃｍｅ２ 90 (katakana is a different term)
    assert [k for c in impressions for k in c.kpis] == [
        KpiRecord(kpi="branded", period="2026-05-01", value=2240.0)
    ]


def test_search_console_semicolon_locale(tmp_path: Path) -> None:
    path = tmp_path / "Suchanfragen.csv"
    path.write_bytes(
        codecs.BOM_UTF8
        + "Häufigste Suchanfragen;Klicks;Impressionen;Klickrate;Durchschnittliche Position\n"
        "acme preise;1.204;9.000;13,4%;1,2\nandere;3;10;30%;4\n".encode()
    )
    options = SearchConsoleOptions(kpi="branded", period="2026-05", brand_terms=("ACME",))

    detected, chunks = run(path, kind="kpi", search_console=options)

    assert detected.delimiter == ";"
    assert [k.value for c in chunks for k in c.kpis] == [1204.0]


def test_search_console_needs_options() -> None:
    path = DATA / "gsc_queries_en.csv"
    missing = error_of(lambda: run(path, kind="kpi"))
    bad_period = error_of(
        lambda: run(path, kind="kpi", search_console=SearchConsoleOptions("b", "2026-13", ("acme",)))
    )
    no_terms = error_of(
        lambda: run(path, kind="kpi", search_console=SearchConsoleOptions("b", "2026-05", (" ",)))
    )
    unknown_kpi = error_of(
        lambda: run(
            path, kind="kpi", kpis=["x"], search_console=SearchConsoleOptions("b", "2026-05", ("acme",))
        )
    )

    assert missing.key == "imports.errors.search_console_options_missing"
    assert (bad_period.key, bad_period.params) == ("imports.errors.bad_period_option", {"value": "2026-13"})
    assert no_terms.key == "imports.errors.no_brand_terms"
    assert (unknown_kpi.key, unknown_kpi.params) == (
        "imports.errors.unknown_kpi_option",
        {"kpi": "b", "choices": "x"},
    )


# -- file-level errors ----------------------------------------------------------------------------


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text("account,url,text,impressions\nx_corp,https://x.com/a/status/1,hi,3\n", "utf-8")

    detected_error = error_of(lambda: run(path))
    forced_error = error_of(lambda: run(DATA / "generic_posts.csv", format="x_content"))

    assert (detected_error.key, detected_error.params) == (
        "imports.errors.missing_columns",
        {"format": "generic_posts", "columns": "published_at"},
    )
    assert forced_error.key == "imports.errors.missing_columns"
    # impressions/likes/engagements exist under x_content's English names; the rest do not.
    assert forced_error.params == {
        "format": "x_content",
        "columns": "Post id / ポストID, Date / 日付, Post Link / ポストのリンク",
    }


def test_account_resolution_for_platform_exports() -> None:
    two_x = {"x_corp": "x", "x_jp": "x", "ig_corp": "instagram"}
    path = DATA / "x_tweet_activity_en.csv"

    ambiguous = error_of(lambda: run(path, accounts=two_x))
    none = error_of(lambda: run(path, accounts={"ig_corp": "instagram"}))
    mismatch = error_of(lambda: run(path, accounts=two_x, account="ig_corp"))
    unknown = error_of(lambda: run(path, accounts=two_x, account="nope"))
    _, chunks = run(path, accounts=two_x, account="x_jp")

    assert (ambiguous.key, ambiguous.params) == (
        "imports.errors.account_ambiguous",
        {"platform": "x", "choices": "x_corp, x_jp"},
    )
    assert (none.key, none.params) == ("imports.errors.no_account", {"platform": "x"})
    assert (mismatch.key, mismatch.params) == (
        "imports.errors.account_platform_mismatch",
        {"account": "ig_corp", "platform": "instagram", "expected": "x"},
    )
    assert unknown.key == "imports.errors.unknown_account_option"
    assert {p.account_key for p in posts_of(chunks)} == {"x_jp"}


def test_unclosed_quote_stops_the_import_with_a_line(tmp_path: Path) -> None:
    path = tmp_path / "kpi.csv"
    path.write_text('kpi,period,value\na,2026-01,1\nb,2026-01,"2\nc,2026-01,3\n', "utf-8")
    _, chunks = iter_import(path, kind="kpi", format=None, tz=TOKYO, accounts={})

    error = error_of(lambda: list(chunks))

    assert (error.key, error.params["line"]) == ("imports.errors.malformed_csv", 3)


def test_far_too_wide_row_at_a_chunk_start_is_still_rejected(tmp_path: Path) -> None:
    # pandas silently cuts a chunk's first row to the expected width; the spare columns catch it.
    path = tmp_path / "kpi.csv"
    path.write_text("kpi,period,value\na,2026-01,1\n" + ",".join(["b"] * 30) + "\nc,2026-01,3\n", "utf-8")

    _, chunks = run(path, kind="kpi", chunk_rows=1)

    assert [k.line for c in chunks for k in c.kpis] == [2, 4]
    assert problems_of(chunks)[0] == (3, "imports.errors.too_many_fields", {"expected": 3})


def test_unreadable_file(tmp_path: Path) -> None:
    error = error_of(lambda: run(tmp_path / "missing.csv"))

    assert error.key == "imports.errors.file_unreadable"


# -- streaming ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_large_generic_file_streams_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = 200_000
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("account,url,published_at,text,impressions,engagements,likes,comments,shares,clicks\n")
        for i in range(rows - 1):
            text = f'"post {i}\nsecond line"' if i % 1000 == 0 else f"post {i}"
            out.write(
                f"x_corp,https://x.com/a/status/{i},2026-06-01T09:{i % 60:02d}:00+09:00,{text},{i},,1,0,0,0\n"
            )
        out.write("x_corp,https://x.com/a/status/last,2026-06-01,bad,12a,,,,,\n")

    _, chunks = iter_import(path, kind="posts", format=None, tz=TOKYO, accounts=ACCOUNTS, chunk_rows=50_000)
    outcome = [(chunk.rows, len(chunk.posts), chunk.problems) for chunk in chunks]

    assert [(read, posts, len(problems)) for read, posts, problems in outcome] == [
        (50_000, 50_000, 0)
    ] * 3 + [(50_000, 49_999, 1)]
    # Header + 199,999 rows before it, and 200 multi-line texts push it down by 200 more lines.
    assert outcome[-1][2] == [
        RowProblem(1 + rows + 200, "imports.errors.bad_number", {"column": "impressions", "value": "12a"})
    ]


# -- catalogs -------------------------------------------------------------------------------------------


def test_import_catalogs_have_the_same_keys_and_placeholders() -> None:
    def flat(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in table.items():
            if isinstance(value, Mapping):
                out |= flat(value, f"{prefix}{key}.")
            else:
                out[f"{prefix}{key}"] = value
        return out

    ja = flat(tomllib.loads((CATALOGS / "ja" / "imports.toml").read_text("utf-8")))
    en = flat(tomllib.loads((CATALOGS / "en" / "imports.toml").read_text("utf-8")))

    assert ja.keys() == en.keys()
    assert {k: placeholders(v) for k, v in ja.items()} == {k: placeholders(v) for k, v in en.items()}
