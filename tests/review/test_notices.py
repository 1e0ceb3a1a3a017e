"""Thread replies, DMs, reminders and escalations of a review (pure): user text escaped, the next step
offered; and every other surface validates in both languages."""

from __future__ import annotations

import pytest

from bot.i18n import translator
from bot.review import listing, modals, notices
from bot.review.ids import ActionId, Decision, Outcome, Status
from bot.review.records import DecisionResult, Feedback, PublishResult, RequestList, ResubmitResult
from tests.conftest import MANAGER, NOW
from tests.review.ui_support import (
    HOSTILE,
    LOCALES,
    assert_valid_message,
    assert_valid_view,
    message_json,
    settings_for,
    snapshot,
)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("outcome", "status", "button"),
    [
        ("changes_requested", Status.CHANGES_REQUESTED, ActionId.RESUBMIT),
        ("approved", Status.APPROVED, ActionId.PUBLISH),
        ("rejected", Status.REJECTED, None),
        ("commented", Status.PENDING, None),
        ("advanced", Status.PENDING, None),
        ("step_approved", Status.PENDING, None),
    ],
)
def test_decision_reply_and_dm_escape_feedback_and_offer_the_next_step(
    locale: str, outcome: str, status: Status, button: str | None
) -> None:
    settings, t = settings_for(locale), translator(locale)  # type: ignore[arg-type]
    feedback = Feedback(
        what_works="<!channel> hook", what_to_change="fix <@U0EVIL001>", comment="a & b", reasons=("tone",)
    )
    result = DecisionResult(
        request=snapshot(status=status),
        decision=Decision.REQUEST_CHANGES,
        actor_id=MANAGER,
        feedback=feedback,
        outcome=Outcome(outcome),
        at=NOW,
    )
    reply = notices.build_decision_reply(result, settings=settings, t=t)
    dm = notices.build_decision_dm(result, settings=settings, t=t)
    for message in (reply, dm):
        assert_valid_message(message)
        raw = message_json(message)
        assert "<!channel>" not in raw and "<@U0EVIL001>" not in raw
        assert "&lt;!channel&gt; hook" in raw and "a &amp; b" in raw
    dm_buttons = [e["action_id"] for b in dm.blocks_json() if b["type"] == "actions" for e in b["elements"]]
    assert dm_buttons == ([button] if button else [])
    assert "https://slack.com/archives/C0REVIEW01/p1763427600000100" in message_json(dm)


def test_decision_reply_text_in_japanese() -> None:
    result = DecisionResult(
        request=snapshot(status=Status.CHANGES_REQUESTED),
        decision=Decision.REQUEST_CHANGES,
        actor_id=MANAGER,
        feedback=Feedback(what_to_change="語尾を柔らかく", reasons=("tone", "typo")),
        outcome=Outcome.CHANGES_REQUESTED,
        at=NOW,
    )
    reply = notices.build_decision_reply(result, settings=settings_for("ja"), t=translator("ja"))
    assert reply.blocks_json()[0]["text"]["text"] == (
        ":arrows_counterclockwise: <@U0MANAGER1> さんが修正を依頼しました（第 1 版）。\n"
        "*理由:* トーン・表現、誤字脱字\n"
        "*修正してほしい点:* 語尾を柔らかく\n"
        "<@U0ALICE01> さん、投稿案を修正して「再提出」を押してください。"
    )


def test_resubmit_reply_shows_a_readable_diff_with_escaping() -> None:
    request = snapshot(revision=2, text="一行目\n<!channel> 修正後\n三行目", feedback_wanted="")
    result = ResubmitResult(request=request, previous_text="一行目\n修正前\n三行目", at=NOW)
    message = notices.build_resubmit_reply(result, t=translator("ja"))
    assert_valid_message(message)
    blocks = message.blocks_json()
    assert blocks[0]["text"]["text"] == "<@U0ALICE01> さんが投稿案を再提出しました（第 2 版）。"
    assert blocks[1]["text"]["text"] == (
        "*変更点* （− 削除、+ 追加）:\n```\n  一行目\n- 修正前\n+ &lt;!channel&gt; 修正後\n  三行目\n```"
    )
    assert blocks[2]["elements"][0]["text"] == "現在の確認待ち: <@U0MANAGER1>、<@U0MANAGER2>"


@pytest.mark.parametrize("locale", LOCALES)
def test_other_surfaces_validate(locale: str) -> None:
    settings, t = settings_for(locale), translator(locale)  # type: ignore[arg-type]
    request = snapshot(status=Status.APPROVED, text=HOSTILE)
    assert_valid_view(
        modals.build_resubmit_modal(snapshot(status=Status.CHANGES_REQUESTED), settings=settings, t=t)
    )
    assert_valid_view(modals.build_publish_modal(request, settings=settings, t=t, now=NOW))
    assert_valid_view(modals.build_refusal_view("<@U0MANAGER1> already approved", t=t))
    published = PublishResult(request=request, url="https://x.com/example_corp/status/1", published_at=NOW)
    for message in (
        notices.build_published_reply(published, settings=settings, t=t),
        notices.build_reminder(request, number=2, settings=settings, t=t),
        notices.build_escalation(request, settings=settings, t=t),
        notices.build_created_dm(request, settings=settings, t=t),
        listing.build_list(RequestList(mine=(request,), waiting=(snapshot(),)), settings=settings, t=t),
        listing.build_list(RequestList(), settings=settings, t=t),
        listing.build_help(settings, t),
    ):
        assert_valid_message(message)
        assert "<!channel>" not in message_json(message)
