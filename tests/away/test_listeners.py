"""Away mode's pickers on the App Home through signed requests: the away day and "I'm back" (and how
reminders route around it), refusals of past days and non-managers, each answered with the Home."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.away import queries
from bot.away.models import UserState
from bot.away.policy import ReminderRouting, route_reminder
from bot.runtime.deps import Deps
from tests.conftest import ADMIN, MANAGER, MANAGER2, OPERATOR
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.home.home_seed import home_envelope, next_home, open_home, texts


async def _away_on(deps: Deps, day: date) -> set[str]:
    async with deps.sessions() as session:
        return await queries.away_users(session, on=day)


async def test_manager_marks_away_on_the_home_and_reminders_route_to_the_rest_then_to_admins(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    await open_home(sender, fake_slack, MANAGER)
    published = len(fake_slack.calls_to("views.publish"))
    pick = payloads.block_action(
        "home.away_until",
        user_id=MANAGER,
        block_id="home_away",
        view=home_envelope(fake_slack, MANAGER),
        action={"type": "datepicker", "selected_date": "2026-11-20", "initial_date": None},
    )
    assert (await sender.interactive(pick)).status == 200
    view = await next_home(fake_slack, MANAGER, after=published)
    assert (
        ":palm_tree: 2026年11月20日 まで不在に設定されています。その間のリマインドはあなたをスキップして代理の方または他の承認者に届き、"
        "レビューのメッセージにも不在である旨が表示されます。"
    ) in texts(view)
    assert ("home.away_clear", "clear") in [
        (e["action_id"], e.get("value"))
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]

    # What the review reminder job does with it, on each day.
    assert await _away_on(deps, date(2026, 11, 19)) == {MANAGER}
    assert await _away_on(deps, date(2026, 11, 20)) == {MANAGER}
    assert await _away_on(deps, date(2026, 11, 21)) == set()
    away = await _away_on(deps, date(2026, 11, 19))
    routing = route_reminder(
        waiting_on=[MANAGER, MANAGER2],
        step_approvers=[MANAGER, MANAGER2],
        away=away,
        admins=[ADMIN],
        requester=OPERATOR,
    )
    assert routing == ReminderRouting(to=(MANAGER2,), away=(MANAGER,))
    alone = route_reminder(
        waiting_on=[MANAGER], step_approvers=[MANAGER], away=away, admins=[ADMIN], requester=OPERATOR
    )
    assert alone == ReminderRouting(to=(ADMIN,), away=(MANAGER,), to_admins=True)

    # "I'm back" clears it at once.
    published = len(fake_slack.calls_to("views.publish"))
    back = payloads.block_action(
        "home.away_clear", "clear", user_id=MANAGER, view=home_envelope(fake_slack, MANAGER)
    )
    assert (await sender.interactive(back)).status == 200
    view = await next_home(fake_slack, MANAGER, after=published)
    assert "不在の予定はありますか？" in texts(view)
    assert await _away_on(deps, date(2026, 11, 19)) == set()


async def test_away_mode_refuses_past_days_and_non_managers_and_changes_nothing(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    await open_home(sender, fake_slack, MANAGER)
    (welcome,) = await fake_slack.wait_for("chat.postMessage")  # a manager's first visit (bot.welcome)
    assert welcome.params["channel"] == MANAGER
    past = payloads.block_action(
        "home.away_until",
        user_id=MANAGER,
        view=home_envelope(fake_slack, MANAGER),
        action={"type": "datepicker", "selected_date": "2026-11-17"},
    )
    assert (await sender.interactive(past)).status == 200
    told = await fake_slack.wait_for("chat.postMessage", count=2)
    assert told[1].params["channel"] == MANAGER
    assert told[1].params["text"] == "2026-11-17 はすでに過ぎています。今日以降の日付を選んでください。"

    forged = payloads.block_action(
        "home.away_until",
        user_id=OPERATOR,
        view=home_envelope(fake_slack, MANAGER),
        action={"type": "datepicker", "selected_date": "2026-11-30"},
    )
    assert (await sender.interactive(forged)).status == 200
    told = await fake_slack.wait_for("chat.postMessage", count=3)
    assert told[2].params["channel"] == OPERATOR
    assert (
        told[2]
        .params["text"]
        .startswith("不在設定は、リマインドを他の方に回せる管理職と管理者のための機能です。")
    )
    async with deps.sessions() as session:
        assert (await session.scalars(select(UserState))).all() == []
