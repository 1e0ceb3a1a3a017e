"""Post URLs as people paste them: the platform id they carry, and one canonical permalink."""

from __future__ import annotations

import pytest

from bot.kpi.permalinks import (
    canonical_permalink,
    instagram_shortcode,
    is_url_key,
    platform_post_id,
    post_key,
)


@pytest.mark.parametrize(
    "url",
    [
        "https://x.com/example_corp/status/1860000000000000001",
        "https://twitter.com/example_corp/status/1860000000000000001",
        "https://mobile.twitter.com/example_corp/status/1860000000000000001?s=20&t=abc",
        "https://www.x.com/example_corp/status/1860000000000000001/",
        "https://x.com/example_corp/status/1860000000000000001/photo/1",
        "https://x.com/i/web/status/1860000000000000001",
        "http://twitter.com/Example_Corp/statuses/1860000000000000001",
    ],
)
def test_x_status_id_from_every_spelling(url: str) -> None:
    assert platform_post_id("x", url) == "1860000000000000001"
    assert canonical_permalink(url) == "https://x.com/i/status/1860000000000000001"


@pytest.mark.parametrize(
    "url",
    [
        "https://x.com/example_corp/status/undefined",  # the current export's placeholder rows
        "https://x.com/example_corp",
        "https://example.com/example_corp/status/1860000000000000001",
        "https://x.com.evil.example/example_corp/status/1",
        "not a url",
    ],
)
def test_no_x_status_id(url: str) -> None:
    assert platform_post_id("x", url) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://m.youtube.com/watch?feature=share&v=dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ?si=tracking",
        "https://www.youtube.com/shorts/dQw4w9WgXcQ",
        "https://youtube.com/live/dQw4w9WgXcQ?feature=share",
    ],
)
def test_youtube_video_id_from_every_spelling(url: str) -> None:
    assert platform_post_id("youtube", url) == "dQw4w9WgXcQ"
    assert canonical_permalink(url) == "https://youtube.com/watch?v=dQw4w9WgXcQ"


def test_no_youtube_video_id() -> None:
    assert platform_post_id("youtube", "https://www.youtube.com/@example") is None
    assert platform_post_id("youtube", "https://www.youtube.com/watch?v=short") is None
    assert platform_post_id("youtube", "https://youtu.be/") is None


def test_instagram_and_facebook_are_matched_by_permalink_not_id() -> None:
    for url in (
        "https://www.instagram.com/p/Ddr9jGEmLMp/",
        "https://instagram.com/reel/Ddr9jGEmLMp/?igsh=abc",
        "https://www.instagram.com/example_recruit/p/Ddr9jGEmLMp",
    ):
        assert platform_post_id("instagram", url) is None
        assert instagram_shortcode(url) == "Ddr9jGEmLMp"
        assert canonical_permalink(url) == "https://instagram.com/p/Ddr9jGEmLMp"
        assert post_key("instagram", url) == "https://instagram.com/p/Ddr9jGEmLMp"
    assert canonical_permalink("https://www.instagram.com/p/ddr9jgemlmp/") != canonical_permalink(
        "https://www.instagram.com/p/Ddr9jGEmLMp/"
    )  # shortcodes are case-sensitive
    assert (
        canonical_permalink("https://m.facebook.com/permalink.php?story_fbid=111&id=222&mibextid=x")
        == canonical_permalink("https://www.facebook.com/permalink.php?id=222&story_fbid=111")
        == "https://facebook.com/permalink.php?id=222&story_fbid=111"
    )
    assert canonical_permalink("https://www.facebook.com/ExampleCorp/posts/pfbid02abc/?ref=share") == (
        "https://facebook.com/ExampleCorp/posts/pfbid02abc"
    )


def test_post_key_prefers_the_platform_id() -> None:
    assert post_key("x", "https://twitter.com/a/status/42") == "42"
    assert post_key("note", "https://note.com/example/n/n1234/") == "https://note.com/example/n/n1234"
    assert is_url_key("https://note.com/example/n/n1234")
    assert not is_url_key("42")
