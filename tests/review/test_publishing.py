""" "Mark as published" accepts only a post URL on the account's platform and a publish time inside
the window ``[review] publish_window_days`` (issue 13, item 8).

Before: any http(s) URL was stored as the post (an Instagram link on the X account, a shortener, a
document), and any past time (a date picker slipped to 2016) moved the post out of every digest.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.errors import BotError
from bot.kpi.models import Post
from bot.review.ids import ActionId, BlockId, CallbackId, ModalMeta, RequestRef
from bot.review.models import ReviewRequest
from bot.runtime.deps import Deps
from tests.conftest import MANAGER, NOW, OPERATOR
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.reliability.faults_support import decision_submission, seed_request


@pytest.mark.parametrize(
    ("platform", "url"),
    [
        ("x", "https://x.com/example_corp/status/1861000000000000001"),
        ("x", "https://twitter.com/example_corp/status/1"),
        ("x", "https://mobile.twitter.com/example_corp/status/1"),
        ("instagram", "https://www.instagram.com/p/Cabc123/"),
        ("threads", "https://www.threads.net/@corp/post/abc"),
        ("youtube", "https://www.youtube.com/watch?v=abc"),
        ("youtube", "https://youtu.be/abc"),
        ("tiktok", "https://vm.tiktok.com/ZMabc/"),
        ("linkedin", "https://www.linkedin.com/posts/corp_activity-1"),
        ("facebook", "https://fb.watch/abc/"),
        ("facebook", "https://www.facebook.com/corp/posts/1"),
        ("note", "https://note.com/corp/n/n123"),
        ("other", "https://blog.example.co.jp/2026/11/post"),
    ],
)
def test_a_post_url_on_the_platform_is_accepted(platform: str, url: str) -> None:
    from bot.review.publishing import check_post_url

    check_post_url(platform, url, platform_name=platform)


@pytest.mark.parametrize(
    ("platform", "url", "key"),
    [
        ("x", "https://www.instagram.com/p/Cabc123/", "wrong_platform"),
        ("x", "https://x.com.evil.example/status/1", "wrong_platform"),
        ("x", "https://notx.com/status/1", "wrong_platform"),
        ("x", "https://x.com@evil.example/status/1", "not_https"),  # user-info: the host is evil.example
        ("x", "http://x.com/example_corp/status/1", "not_https"),
        ("youtube", "https://bit.ly/abc", "wrong_platform"),
        ("note", "https://docs.google.com/document/d/1", "wrong_platform"),
        ("other", "http://blog.example.co.jp/post", "not_https"),
        ("other", "https://", "not_https"),
        ("x", "https://x.com:99999/", "not_https"),
    ],
)
def test_a_post_url_elsewhere_is_refused_on_the_url_field(platform: str, url: str, key: str) -> None:
    from bot.review.publishing import check_post_url

    with pytest.raises(BotError) as caught:
        check_post_url(platform, url, platform_name=platform)
    assert (caught.value.key, caught.value.block_id) == (f"review.publish.errors.{key}", "review_post_url")


async def _approved(deps: Deps, sender: SlackSender) -> ModalMeta:
    request = await seed_request(deps)  # on x_corp, an X account
    await sender.interactive(decision_submission(request, MANAGER))
    await deps.inflight.drain(10)
    async with deps.sessions() as session:
        row = await session.get(ReviewRequest, request.id)
        assert row is not None and row.status == "approved"
        return ModalMeta(ref=RequestRef(request.id, 1, row.version))


def _publish(meta: ModalMeta, url: str, at: datetime) -> dict[str, Any]:
    return payloads.view_submission(
        CallbackId.PUBLISH,
        {
            BlockId.POST_URL: {ActionId.POST_URL: payloads.text_input(url, kind="url_text_input")},
            BlockId.PUBLISHED_AT: {
                ActionId.PUBLISHED_AT: {"type": "datetimepicker", "selected_date_time": int(at.timestamp())}
            },
        },
        private_metadata=meta.encode(),
        user_id=OPERATOR,
    )


async def _posts(deps: Deps) -> list[tuple[str, datetime]]:
    async with deps.sessions() as session:
        return [(p.url, p.published_at) for p in (await session.scalars(select(Post))).all()]


async def test_an_instagram_link_on_the_x_account_is_refused_inline_and_nothing_is_recorded(
    deps: Deps, sender: SlackSender
) -> None:
    meta = await _approved(deps, sender)
    answer = await sender.interactive(_publish(meta, "https://www.instagram.com/p/Cabc123/", NOW))
    assert answer.json() == {
        "response_action": "errors",
        "errors": {
            "review_post_url": "X の投稿の URL ではありません。x.com, twitter.com 上の投稿のリンクを入力してください。"
        },
    }
    assert await _posts(deps) == []

    good = "https://x.com/example_corp/status/1861000000000000001"
    assert (await sender.interactive(_publish(meta, good, NOW))).status == 200
    await deps.inflight.drain(10)
    assert await _posts(deps) == [(good, NOW)]


async def test_a_publish_time_before_the_window_is_refused_inline(deps: Deps, sender: SlackSender) -> None:
    meta = await _approved(deps, sender)
    url = "https://x.com/example_corp/status/1861000000000000002"
    answer = await sender.interactive(_publish(meta, url, NOW - timedelta(days=31)))
    assert answer.json() == {
        "response_action": "errors",
        "errors": {
            "review_published_at": "投稿日時が 30 日より前になっています。日時をご確認ください。"
            "それより前の投稿を記録する場合は管理者にご相談ください。"
        },
    }
    assert await _posts(deps) == []
    in_window = NOW - timedelta(days=29)
    assert (await sender.interactive(_publish(meta, url, in_window))).status == 200
    await deps.inflight.drain(10)
    assert await _posts(deps) == [(url, in_window)]


def test_the_window_is_an_admin_setting() -> None:
    from tests.conftest import make_settings

    settings = make_settings(change=lambda raw: raw["review"].update(publish_window_days=365))
    assert settings.review.publish_window_days == 365
    from bot.review.publishing import check_published_at

    window = timedelta(days=settings.review.publish_window_days)
    assert check_published_at(NOW - timedelta(days=200), now=NOW, window=window) is None
    assert check_published_at(NOW - timedelta(days=366), now=NOW, window=window) == (
        "review.publish.errors.time_too_old"
    )
    assert check_published_at(NOW + timedelta(minutes=11), now=NOW, window=window) == (
        "review.publish.errors.time_future"
    )
