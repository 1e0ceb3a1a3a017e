"""A manager is introduced once (issue 17 item 2), through signed requests: the first time a configured
manager (user groups expanded) opens the App Home, or a first review reaches them, they get one welcome
DM — what the bot asks of them, feedback in two minutes with an example, the team's KPIs and why — and
never again: not on the next visit, not after a restart, not when two replicas meet them at once. The
App Home opens it again as a modal."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import build_app, build_deps, build_web_app
from bot.clock import FixedClock
from bot.config import Settings
from bot.runtime.deps import Deps
from bot.slack.client import build_web_client
from bot.welcome.greeting import Greeter
from bot.welcome.models import ManagerWelcome
from tests.conftest import BOT_TOKEN, GROUP_MEMBER, MANAGER, MANAGER2, OPERATOR, SIGNING_SECRET
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.home.home_seed import buttons, home_envelope, open_home, texts

WELCOME = "ようこそ: 管理職の皆さまにお願いしたいことと、チームで共有している指標のご案内です。"
WELCOME_EN = "Welcome: how SNS Team Bot works for managers, and the KPIs the team shares."


def welcomes(fake_slack: FakeSlack, user_id: str) -> list[dict[str, Any]]:
    """The welcome DMs sent to ``user_id`` (a DM is posted to the user id)."""
    return [
        c.params
        for c in fake_slack.calls_to("chat.postMessage")
        if c.params["channel"] == user_id and c.params["text"] in (WELCOME, WELCOME_EN)
    ]


async def settle(deps: Deps) -> None:
    """The welcome runs after the ack, in its own task: wait for it (and the Home it follows)."""
    assert isinstance(deps.welcome, Greeter)
    await deps.welcome.drain()
    await deps.inflight.drain(5)


Replica = Callable[[], Awaitable[tuple[Deps, SlackSender]]]


async def _replicas(
    settings: Settings, clock: FixedClock, deps: Deps, fake_slack: FakeSlack
) -> AsyncIterator[Replica]:
    clients: list[TestClient[Any, Any]] = []
    started: list[Deps] = []

    async def start() -> tuple[Deps, SlackSender]:
        """Another process on the same store (a restart, a second replica)."""
        other = build_deps(
            settings,
            clock=clock,
            engine=deps.engine,
            slack=build_web_client(token=BOT_TOKEN, base_url=fake_slack.api_url),
        )
        client = TestClient(TestServer(build_web_app(build_app(other), other)))
        await client.start_server()
        clients.append(client)
        started.append(other)
        return other, SlackSender(client, secret=SIGNING_SECRET)

    try:
        yield start
    finally:  # gen.aclose() raises GeneratorExit at the yield
        for client in clients:
            await client.close()
        for other in started:
            await other.inflight.drain(5)


async def test_a_manager_is_welcomed_once_across_visits_and_a_restart(
    settings: Settings, clock: FixedClock, deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    await open_home(sender, fake_slack, MANAGER)
    await settle(deps)
    (dm,) = welcomes(fake_slack, MANAGER)
    body = json.dumps(dm["blocks"], ensure_ascii=False)
    # What the bot asks, feedback in two minutes with an example, and the KPIs with their why.
    assert "ボットからお願いすること" in body and "`/sns-review`" in body
    assert "2 分でできる、役に立つフィードバック" in body and "*よい点:* 説明会でのチームの写真" in body
    assert "*採用エントリー数*\\nSNS 経由の応募は採用コストを下げます。" in body
    glossary = [b["accessory"]["value"] for b in dm["blocks"] if b.get("accessory")]
    assert glossary == ["recruiting_entries", "engagement_rate", "branded_search"]

    await open_home(sender, fake_slack, MANAGER)  # the next visit: no second welcome
    await settle(deps)
    assert len(welcomes(fake_slack, MANAGER)) == 1

    gen = _replicas(settings, clock, deps, fake_slack)
    start = await anext(gen)
    restarted, restarted_sender = await start()
    await open_home(restarted_sender, fake_slack, MANAGER)
    await settle(restarted)
    assert len(welcomes(fake_slack, MANAGER)) == 1  # the claim row outlives the process

    # An operator is not a manager: no welcome. A member of the managers' user group is.
    await open_home(restarted_sender, fake_slack, OPERATOR)
    await open_home(restarted_sender, fake_slack, GROUP_MEMBER)
    await settle(restarted)
    assert welcomes(fake_slack, OPERATOR) == []
    assert len(welcomes(fake_slack, GROUP_MEMBER)) == 1
    async with deps.sessions() as session:
        rows = (await session.scalars(select(ManagerWelcome).order_by(ManagerWelcome.user_id))).all()
    assert [(r.user_id, r.via) for r in rows] == [(GROUP_MEMBER, "home"), (MANAGER, "home")]
    await gen.aclose()


async def test_two_replicas_meeting_a_manager_at_once_welcome_them_once(
    settings: Settings, clock: FixedClock, deps: Deps, fake_slack: FakeSlack
) -> None:
    gen = _replicas(settings, clock, deps, fake_slack)
    start = await anext(gen)
    (one, _), (two, _) = await start(), await start()
    one.welcome.greet([MANAGER2], via="review")
    two.welcome.greet([MANAGER2], via="home")
    await settle(one)
    await settle(two)
    assert len(welcomes(fake_slack, MANAGER2)) == 1
    await gen.aclose()


async def test_a_first_review_reaching_a_manager_welcomes_them(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    from bot.review.delivery import ReviewDelivery
    from tests.home.home_seed import add_request

    snapshot = await add_request(deps, requester=OPERATOR, approvers=[MANAGER2, "S0MANAGERS"])
    await ReviewDelivery(deps).deliver_created({"request_id": snapshot.id, "key": "created:test"}, set())
    await settle(deps)
    assert len(welcomes(fake_slack, MANAGER2)) == 1
    assert len(welcomes(fake_slack, GROUP_MEMBER)) == 1  # the group approver, expanded
    assert welcomes(fake_slack, OPERATOR) == []  # the requester is no manager
    async with deps.sessions() as session:
        vias = {r.user_id: r.via for r in (await session.scalars(select(ManagerWelcome))).all()}
    assert vias == {MANAGER2: "review", GROUP_MEMBER: "review"}


async def test_a_review_advancing_to_a_managers_step_welcomes_them(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    """A two-step chain reaches the second manager only when the first approves: that is their
    first review, and their welcome."""
    from datetime import timedelta

    from bot.review import commands as review_commands
    from bot.review import queries as review_queries
    from bot.review.delivery import ReviewDelivery, decision_payload
    from bot.review.ids import Decision, Outcome
    from bot.review.policy import ResolvedStep
    from bot.review.records import Decider, Feedback

    now = deps.clock.now()
    async with deps.sessions.begin() as session:
        snapshot = await review_commands.create_request(
            session,
            requester_id=OPERATOR,
            account_key="x_corp",
            text="新商品の告知です",
            planned_at=now + timedelta(days=2),
            link_url=None,
            feedback_wanted="",
            chain=[ResolvedStep((MANAGER,), "any"), ResolvedStep((MANAGER2,), "any")],
            now=now,
        )
    delivery = ReviewDelivery(deps)
    await delivery.deliver_created({"request_id": snapshot.id, "key": "created:two-steps"}, set())
    await settle(deps)
    assert (len(welcomes(fake_slack, MANAGER)), len(welcomes(fake_slack, MANAGER2))) == (1, 0)

    async with deps.sessions.begin() as session:
        result = await review_commands.decide(
            session,
            ref=(await review_queries.get_request(session, request_id=snapshot.id)).ref,
            decider=Decider(MANAGER, is_manager=True),
            decision=Decision.APPROVE,
            feedback=Feedback(),
            now=now,
            seen_step=0,
        )
    assert result.outcome is Outcome.ADVANCED
    payload = {**decision_payload(result), "key": "decided:two-steps"}
    await delivery.deliver_decided(payload, set())
    await delivery.deliver_decided(payload, set())  # a redelivery greets nobody twice
    await settle(deps)
    assert (len(welcomes(fake_slack, MANAGER)), len(welcomes(fake_slack, MANAGER2))) == (1, 1)


async def test_the_home_opens_the_introduction_again(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    home = await open_home(sender, fake_slack, MANAGER)
    assert ("welcome.reopen", "welcome") in buttons(home)
    click = payloads.block_action(
        "welcome.reopen", "welcome", user_id=MANAGER, view=home_envelope(fake_slack, MANAGER)
    )
    assert (await sender.interactive(click)).status == 200
    (opened,) = await fake_slack.wait_for("views.open")
    assert opened.params["trigger_id"] == click["trigger_id"]
    view = opened.params["view"]
    assert view["callback_id"] == "welcome.modal"
    assert "*よい点:* 説明会でのチームの写真" in texts(view)

    operator_home = await open_home(sender, fake_slack, OPERATOR)
    assert ("welcome.reopen", "welcome") not in buttons(operator_home)  # for managers only
    await settle(deps)


async def test_the_welcome_is_in_the_managers_own_language(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.users[MANAGER2] = {"locale": "en-US"}  # the workspace posts in Japanese
    await open_home(sender, fake_slack, MANAGER2)
    await settle(deps)
    (dm,) = welcomes(fake_slack, MANAGER2)
    assert dm["text"] == WELCOME_EN
    assert "Useful feedback in two minutes" in json.dumps(dm["blocks"])
