"""Work after the ack takes turns: acks stay prompt under a burst, and every run gets its turn."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.app import Deps
from bot.config import ConfigError
from bot.errors import NotAllowed
from bot.slack.gate import DEFAULT_LIMIT, AfterAck
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
