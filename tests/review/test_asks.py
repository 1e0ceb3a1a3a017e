"""The DM asking an approver for a decision (bot.review.asks, pure): who is asked, the text in the
reader's language with the draft escaped, valid Block Kit with the decision buttons bound to the
request; and its delivery: once per approver across redeliveries, off unless configured."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.i18n import translator
from bot.review.asks import build_ask_dm, to_ask
from bot.review.delivery import ReviewDelivery
from bot.review.ids import ActionId, RequestRef, Status
from bot.review.records import StepView
from bot.runtime.deps import Deps
from tests.conftest import GROUP_MEMBER, MANAGER, MANAGER2, MANAGER_GROUP, OPERATOR, make_settings
from tests.fakes.slack import FakeSlack
from tests.home.home_seed import add_request
from tests.review.ui_support import (
    HOSTILE,
    LOCALES,
    assert_valid_message,
    message_json,
    settings_for,
    snapshot,
)


def test_the_step_still_waiting_is_asked_but_never_a_group_or_the_requester() -> None:
    step = StepView(0, (MANAGER, MANAGER_GROUP, OPERATOR, MANAGER2), "all", approved_by=(MANAGER2,))
    assert to_ask(snapshot(steps=(step,))) == {MANAGER: None}
    assert to_ask(snapshot(steps=())) == {}


def test_an_away_approver_is_replaced_by_their_delegate_as_reminders_do() -> None:
    step = StepView(0, (MANAGER, MANAGER2, GROUP_MEMBER), "all")
    request = snapshot(steps=(step,))
    # MANAGER is away and named GROUP_MEMBER (already asked for themselves: asked once, for themselves).
    assert to_ask(request, away={MANAGER}, delegates={MANAGER: GROUP_MEMBER}) == {
        MANAGER2: None,
        GROUP_MEMBER: None,
    }
    only = snapshot(steps=(StepView(0, (MANAGER, MANAGER2), "any"),))
    assert to_ask(only, away={MANAGER}, delegates={MANAGER: GROUP_MEMBER}) == {
        GROUP_MEMBER: MANAGER,
        MANAGER2: None,
    }
    # Away without a delegate, a delegate who is away too, or the requester as delegate: not asked.
    assert to_ask(only, away={MANAGER, MANAGER2}, delegates={}) == {}
    assert to_ask(only, away={MANAGER, GROUP_MEMBER}, delegates={MANAGER: GROUP_MEMBER}) == {MANAGER2: None}
    assert to_ask(only, away={MANAGER}, delegates={MANAGER: OPERATOR}) == {MANAGER2: None}


@pytest.mark.parametrize("locale", LOCALES)
def test_a_delegate_is_told_whom_they_decide_for(locale: str) -> None:
    message = build_ask_dm(
        snapshot(), settings=settings_for("ja"), t=translator(locale), on_behalf_of=MANAGER
    )  # type: ignore[arg-type]
    assert_valid_message(message)
    expected = {
        "ja": f"<@{MANAGER}> さんが不在のため、代理としてご判断をお願いします",
        "en": f"<@{MANAGER}> is away and named you to decide for them",
    }[locale]
    assert expected in message_json(message)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_dm_is_in_the_readers_language_escapes_the_draft_and_carries_the_buttons(locale: str) -> None:
    request = snapshot(text=HOSTILE + "\n二行目", feedback_wanted="<!here> トーンは？")
    message = build_ask_dm(request, settings=settings_for("ja"), t=translator(locale))  # type: ignore[arg-type]
    assert_valid_message(message)
    raw = message_json(message)
    for ping in ("<!channel>", "<@U0EVIL001>", "<!here>", "<!subteam"):
        assert ping not in raw
    assert "&gt; 新作です &lt;!channel&gt;" in raw and "&gt; 二行目" in raw
    title = {
        "ja": "<@U0ALICE01> さんから X 公式 (@example_corp) の投稿案のレビュー依頼が届きました",
        "en": "<@U0ALICE01> asks for your review of a draft for X 公式 (@example_corp)",
    }[locale]
    assert title in raw
    actions = [b for b in message.kwargs()["blocks"] if b["type"] == "actions"]
    (buttons,) = actions
    assert [e["action_id"] for e in buttons["elements"]] == [ActionId.APPROVE, ActionId.REQUEST_CHANGES]
    assert {RequestRef.decode(e["value"]).request_id for e in buttons["elements"]} == {request.id}
    assert "https://slack.com/archives/C0REVIEW01/p1763427600000100" in raw


async def test_each_approver_is_asked_once_across_redeliveries_and_only_when_configured(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    fake_slack.users[MANAGER2] = {"locale": "en-US"}
    request = await add_request(deps, requester=OPERATOR, approvers=[MANAGER, MANAGER2, GROUP_MEMBER])
    off = ReviewDelivery(deps)
    await off._ask(request, done=set())
    assert fake_slack.calls_to("chat.postMessage") == []  # [review] dm_approvers is off by default

    settings = make_settings(
        api_url=fake_slack.api_url, change=lambda raw: raw["review"].update(dm_approvers=True)
    )
    on = ReviewDelivery(
        Deps(**{**{f: getattr(deps, f) for f in Deps.__dataclass_fields__}, "settings": settings})
    )
    fake_slack.fail(
        "chat.postMessage", error="user_not_found", when=lambda p: p.get("channel") == GROUP_MEMBER
    )
    done: set[str] = set()
    await on._ask(request, done=done)
    await on._ask(request, done=done)  # the outbox's next attempt: nobody is asked twice
    asked = {c.params["channel"]: c.params["text"] for c in fake_slack.calls_to("chat.postMessage")}
    assert asked == {
        MANAGER: "X 公式 (@example_corp) の投稿案があなたのレビューを待っています",
        MANAGER2: "A draft for X 公式 (@example_corp) is waiting for your review",
        GROUP_MEMBER: "X 公式 (@example_corp) の投稿案があなたのレビューを待っています",  # refused: skipped
    }
    assert done == {f"ask:{MANAGER}", f"ask:{MANAGER2}", f"ask:{GROUP_MEMBER}"}
    await on._ask(replace(request, status=Status.APPROVED), done=set())  # decided: nobody to ask
    assert len(fake_slack.calls_to("chat.postMessage")) == 3


async def test_an_away_approvers_delegate_is_asked_in_their_place(deps: Deps, fake_slack: FakeSlack) -> None:
    from datetime import date

    from bot.away.commands import set_away, set_delegate

    settings = make_settings(
        api_url=fake_slack.api_url, change=lambda raw: raw["review"].update(dm_approvers=True)
    )
    on = ReviewDelivery(
        Deps(**{**{f: getattr(deps, f) for f in Deps.__dataclass_fields__}, "settings": settings})
    )
    request = await add_request(deps, requester=OPERATOR, approvers=[MANAGER, MANAGER2])
    now = deps.clock.now()
    today = now.astimezone(settings.tz).date()
    async with deps.sessions.begin() as session:
        for manager in (MANAGER, MANAGER2):
            await set_away(session, user_id=manager, until=date(today.year + 1, 1, 1), today=today, now=now)
        await set_delegate(session, user_id=MANAGER, delegate=GROUP_MEMBER, now=now)
    await on._ask(request, done=set())
    asked = {c.params["channel"]: c for c in fake_slack.calls_to("chat.postMessage")}
    assert set(asked) == {GROUP_MEMBER}  # MANAGER2 is away with no delegate: not asked
    assert f"<@{MANAGER}> さんが不在のため" in str(asked[GROUP_MEMBER].params["blocks"])
