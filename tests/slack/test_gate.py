"""Work after the ack takes turns: acks stay prompt under a burst, and every run gets its turn."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.config import ConfigError
from bot.errors import NotAllowed
from bot.runtime.deps import Deps
from bot.slack.gate import DEFAULT_LIMIT, TRIGGER_BUDGET, AfterAck
from tests.conftest import SIGNING_SECRET, make_settings
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack


class Recorder:
    """A listener body that acks, then holds its turn until released, counting who works at once."""

    def __init__(self) -> None:
        self.working = 0
        self.most = 0
        self.done: list[str] = []
        self.release = asyncio.Event()

    async def listener(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()
        self.working += 1
        self.most = max(self.most, self.working)
        try:
            await self.release.wait()
            if command["text"] == "fail":
                raise NotAllowed("common.errors.not_admin")
            self.done.append(command["text"])
        finally:
            self.working -= 1


@pytest.fixture
async def gated(deps: Deps) -> Any:
    deps = replace(deps, after_ack=AfterAck(2))
    recorder = Recorder()
    app = AsyncApp(client=deps.slack, signing_secret=SIGNING_SECRET)
    app.command("/slow")(deps.listener(recorder.listener))
    client = TestClient(TestServer(app.web_app()))
    await client.start_server()
    yield SlackSender(client, secret=SIGNING_SECRET), recorder, deps
    recorder.release.set()
    await deps.inflight.drain(5)
    await client.close()


async def test_every_request_is_acked_while_the_work_after_its_ack_waits_for_a_turn(gated: Any) -> None:
    sender, recorder, deps = gated
    responses = await asyncio.gather(
        *(sender.command(payloads.slash_command("/slow", f"r{i}")) for i in range(6))
    )
    assert [r.status for r in responses] == [200] * 6  # all acked: nobody's turn has ended yet
    assert recorder.working == 2
    assert (deps.after_ack.working, deps.after_ack.waiting) == (2, 4)

    recorder.release.set()
    assert await deps.inflight.drain(5)
    assert sorted(recorder.done) == [f"r{i}" for i in range(6)]
    assert recorder.most == 2
    assert (deps.after_ack.working, deps.after_ack.waiting) == (0, 0)


async def test_a_failing_run_gives_its_turn_back_and_the_user_hears_why(
    gated: Any, fake_slack: FakeSlack
) -> None:
    sender, recorder, deps = gated
    urls = [fake_slack.response_url(f"f{i}") for i in range(3)]
    for url in urls:
        response = await sender.command(payloads.slash_command("/slow", "fail", response_url=url))
        assert response.status == 200
    recorder.release.set()
    calls = await fake_slack.wait_for("response_url", count=3)
    assert {c.params["text"] for c in calls} == {"この操作は管理者のみ実行できます。"}
    assert await deps.inflight.drain(5)
    assert (deps.after_ack.working, deps.after_ack.waiting) == (0, 0)


async def test_an_event_acked_by_bolt_takes_its_turn_on_entry(deps: Deps) -> None:
    deps = replace(deps, after_ack=AfterAck(1))
    entered: list[str] = []
    release = asyncio.Event()

    async def on_event(event: dict[str, Any]) -> None:
        entered.append(event["user"])
        await release.wait()

    app = AsyncApp(client=deps.slack, signing_secret=SIGNING_SECRET)
    app.event("app_home_opened")(deps.listener(on_event))
    client = TestClient(TestServer(app.web_app()))
    await client.start_server()
    try:
        sender = SlackSender(client, secret=SIGNING_SECRET)
        for user in ("U1", "U2"):
            response = await sender.event(
                payloads.event(payloads.app_home_opened(user_id=user), event_id=f"Ev{user}")
            )
            assert response.status == 200
        async with asyncio.timeout(30):
            while not entered:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert entered == ["U1"]  # the second delivery waits for the first one's turn
        release.set()
        assert await deps.inflight.drain(5)
        assert entered == ["U1", "U2"]
    finally:
        await client.close()


def test_the_limit_comes_from_the_config() -> None:
    assert make_settings().server.max_concurrent_work == DEFAULT_LIMIT

    def limit(value: Any) -> Callable[[dict[str, Any]], None]:
        return lambda raw: raw.setdefault("server", {}).update(max_concurrent_work=value)

    assert make_settings(change=limit(3)).server.max_concurrent_work == 3
    with pytest.raises(ConfigError) as refused:
        make_settings(change=limit(0))
    assert [(p.path, p.key) for p in refused.value.problems] == [
        ("server.max_concurrent_work", "not_positive")
    ]


def test_a_gate_needs_at_least_one_turn() -> None:
    with pytest.raises(ValueError):
        AfterAck(0)


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_work_that_opens_a_modal_goes_before_work_that_can_wait(deps: Deps) -> None:
    deps = replace(deps, after_ack=AfterAck(1))
    started: list[str] = []
    release = asyncio.Event()

    async def handler(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()
        started.append(command["text"])
        if command["text"] == "first":
            await release.wait()

    app = AsyncApp(client=deps.slack, signing_secret=SIGNING_SECRET)
    app.command("/later")(deps.listener(handler))
    app.command("/modal")(deps.listener(handler, opens_modal=True))
    client = TestClient(TestServer(app.web_app()))
    await client.start_server()
    try:
        sender = SlackSender(client, secret=SIGNING_SECRET)
        for command, text in [("/later", "first"), ("/later", "a"), ("/modal", "b"), ("/later", "c")]:
            assert (await sender.command(payloads.slash_command(command, text))).status == 200
        assert started == ["first"]
        release.set()
        assert await deps.inflight.drain(5)
        assert started == ["first", "b", "a", "c"]
    finally:
        await client.close()


async def test_a_modal_whose_turn_comes_too_late_is_not_opened_and_the_person_hears_why(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    ticks = Ticks()
    deps = replace(deps, after_ack=AfterAck(1, monotonic=ticks))
    release = asyncio.Event()
    opened: list[str] = []

    async def busy(ack: AsyncAck) -> None:
        await ack()
        await release.wait()

    async def opens(ack: AsyncAck, client: Any, body: dict[str, Any]) -> None:
        await ack()
        opened.append(body["trigger_id"])  # the modal would be opened here

    app = AsyncApp(client=deps.slack, signing_secret=SIGNING_SECRET)
    app.command("/busy")(deps.listener(busy))
    app.command("/open")(deps.listener(opens, opens_modal=True))
    client = TestClient(TestServer(app.web_app()))
    await client.start_server()
    try:
        sender = SlackSender(client, secret=SIGNING_SECRET)
        assert (await sender.command(payloads.slash_command("/busy", ""))).status == 200
        late = fake_slack.response_url("late")
        assert (await sender.command(payloads.slash_command("/open", "", response_url=late))).status == 200
        ticks.now += TRIGGER_BUDGET + 0.1  # the backlog outlived the trigger
        release.set()
        calls = await fake_slack.wait_for("response_url")
        assert calls[0].params["text"].startswith(":hourglass: 時間内にフォームを開けませんでした")
        assert await deps.inflight.drain(5)
        assert opened == []
        assert (deps.after_ack.working, deps.after_ack.waiting) == (0, 0)

        ontime = fake_slack.response_url("ontime")
        assert (await sender.command(payloads.slash_command("/open", "", response_url=ontime))).status == 200
        assert await deps.inflight.drain(5)
        assert len(opened) == 1
    finally:
        await client.close()


def test_sns_review_is_urgent_only_when_it_opens_the_request_modal() -> None:
    from bot.review.listeners import _command_opens_modal

    assert _command_opens_modal({"text": ""})
    assert _command_opens_modal({"text": "新商品の告知です"})
    assert not _command_opens_modal({"text": " help "})
    assert not _command_opens_modal({"text": "LIST"})


async def test_a_run_cancelled_while_waiting_leaves_no_turn_behind() -> None:
    gate = AfterAck(1)
    holder = gate.ack_for(None)
    await holder.take_turn()
    waiter = gate.ack_for(None, urgent=True)
    task = asyncio.create_task(waiter.take_turn())
    await asyncio.sleep(0)
    assert gate.waiting == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (gate.working, gate.waiting) == (1, 0)
    holder.release()
    assert (gate.working, gate.waiting) == (0, 0)
    again = gate.ack_for(None)
    await asyncio.wait_for(again.take_turn(), 1)  # the turn is free, not lost
    again.release()
