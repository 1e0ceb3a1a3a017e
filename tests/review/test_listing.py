"""``/sns-review list`` (pure): each request linked to its message, and how many are not shown."""

from __future__ import annotations

from bot.i18n import translator
from bot.review import listing
from bot.review.records import RequestList
from tests.review.ui_support import message_json, settings_for, snapshot


def test_list_links_each_request_to_its_message() -> None:
    message = listing.build_list(
        RequestList(mine=(snapshot(),), waiting=()), settings=settings_for("en"), t=translator("en")
    )
    raw = message_json(message)
    assert "<https://slack.com/archives/C0REVIEW01/p1763427600000100|冬の新商品のお知らせです。>" in raw
    assert "Your open requests (1)" in raw
    assert "No reviews are waiting on you." in raw


def test_a_full_list_says_how_many_there_are_and_how_many_are_not_shown() -> None:
    shown = tuple(snapshot(id=n) for n in range(20))
    full = RequestList(mine=shown, waiting=shown[:3], mine_total=31, waiting_total=3)
    raw = message_json(listing.build_list(full, settings=settings_for("en"), t=translator("en")))
    assert "Your open requests (31)" in raw
    assert "…and 11 more (newest first above)" in raw
    assert "Waiting on you (3)" in raw and "longest waiting first" not in raw  # all 3 are shown
    assert listing.build_list(full, settings=settings_for("en"), t=translator("en")).text == (
        "31 open request(s), 3 review(s) waiting on you"
    )
