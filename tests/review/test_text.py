"""Draft length rules (X's weighted count with Japanese text, per-platform limits) and the revision diff."""

from __future__ import annotations

import pytest

from bot.config import DEFAULT_MAX_LENGTH
from bot.review.text import (
    DiffLine,
    check_length,
    draft_length,
    excerpt,
    find_urls,
    line_diff,
    x_weighted_length,
)
from tests.conftest import make_settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, world", 12),
        ("こんにちは", 10),  # CJK weighs 2
        ("新商品を発売しました！", 22),  # full-width ! weighs 2 too
        ("ｱｲｳ", 6),  # half-width katakana is outside the light ranges
        ("Launch — today…", 16),  # em dash (U+2014) weighs 1, ellipsis (U+2026) weighs 2
        ("https://example.com/a/very/long/path/that/goes/on/and/on?with=query&and=more", 23),
        ("詳しくはhttps://example.co.jp/recruitをご覧ください", 8 + 23 + 14),
        ("See example.com.", 4 + 23 + 1),  # a bare domain counts as a link; the full stop does not
        ("👍", 2),
        ("👍🏽", 2),  # skin tone modifier: one emoji
        ("👨‍👩‍👧‍👦", 2),  # ZWJ family: one emoji
        ("🇯🇵", 2),  # flag: one emoji
        ("1️⃣", 2),  # keycap
        ("❤️", 2),  # symbol + variation selector
        ("か\u3099", 2),  # decomposed が is NFC-normalised to one character first
    ],
)
def test_x_weighted_length_follows_twitter_text(text: str, expected: int) -> None:
    assert x_weighted_length(text) == expected


def test_japanese_draft_fits_x_at_140_characters_and_not_at_141() -> None:
    assert check_length("あ" * 140, platform="x", limit=280).over is False
    over = check_length("あ" * 141, platform="x", limit=280)
    assert (over.length, over.limit, over.weighted, over.over) == (282, 280, True, True)
    # The same 141 characters are fine for Threads, which counts characters.
    threads = check_length("あ" * 141, platform="threads", limit=500)
    assert (threads.length, threads.over, threads.weighted) == (141, False, False)


def test_mixed_japanese_url_and_emoji_post() -> None:
    draft = "【採用】エンジニア募集中🚀 詳細はこちら https://example.com/jobs #採用"
    # 【採用】エンジニア募集中 = 12 × 2, 🚀 = 2, space 1, 詳細はこちら = 6 × 2, space 1, URL 23, space 1, # 1, 採用 = 4
    assert x_weighted_length(draft) == 24 + 2 + 1 + 12 + 1 + 23 + 1 + 1 + 4


def test_other_platforms_count_code_points() -> None:
    assert draft_length("こんにちは https://example.com", platform="instagram") == 25
    assert draft_length("か\u3099", platform="linkedin") == 1


def test_urls_stop_at_japanese_and_trailing_punctuation() -> None:
    text = "見てね https://example.com/a)。そして http://x.jp!"
    assert [text[a:b] for a, b in find_urls(text)] == ["https://example.com/a", "http://x.jp"]


def test_default_limits_per_platform_and_per_account_override() -> None:
    assert dict(DEFAULT_MAX_LENGTH) == {
        "x": 280,
        "instagram": 2200,
        "threads": 500,
        "linkedin": 3000,
        "youtube": 5000,
        "tiktok": 2200,
        "facebook": None,
        "note": None,
        "other": None,
    }

    def change(raw: dict) -> None:
        raw["accounts"] = [
            {"key": "x_corp", "platform": "x", "handle": "@a"},
            {"key": "threads", "platform": "threads", "handle": "@b"},
            {"key": "li", "platform": "linkedin", "handle": "c", "max_length": 1200},
            {"key": "yt", "platform": "youtube", "handle": "d", "max_length": 0},
            {"key": "note", "platform": "note", "handle": "e"},
        ]

    settings = make_settings(change=change)
    assert [(a.key, a.max_length) for a in settings.accounts] == [
        ("x_corp", 280),
        ("threads", 500),
        ("li", 1200),
        ("yt", None),
        ("note", None),
    ]
    assert check_length("a" * 10_000, platform="note", limit=None).over is False


def test_line_diff_shows_changed_lines_with_context() -> None:
    old = "一行目\n二行目\n三行目\n四行目\n五行目"
    new = "一行目\n2行目（修正）\n三行目\n四行目\n五行目\n六行目"
    assert line_diff(old, new) == [
        DiffLine(" ", "一行目"),
        DiffLine("-", "二行目"),
        DiffLine("+", "2行目（修正）"),
        DiffLine(" ", "三行目"),
        DiffLine("…", ""),
        DiffLine(" ", "五行目"),
        DiffLine("+", "六行目"),
    ]


def test_line_diff_of_identical_texts_is_empty() -> None:
    assert line_diff("same\ntext", "same\ntext") == []


def test_excerpt_takes_the_first_non_empty_line() -> None:
    assert excerpt("\n\n  first line  \nsecond") == "first line"
    assert excerpt("x" * 100, 10) == "x" * 9 + "…"
