"""The router: one Bolt listener per kind, each request reaching exactly the handler of its id."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.app import build_app
from bot.runtime.deps import Deps
from bot.slack.router import Router
from tests.conftest import SIGNING_SECRET
from tests.fakes import payloads
from tests.fakes.signing import SlackSender


def test_the_bot_gives_bolt_one_listener_per_kind(deps: Deps) -> None:
    app = build_app(deps)
    kinds = [type(listener.matchers[0]).__name__ for listener in app._async_listeners]
    # command, action, view, shortcut, event (every event type, message's listeners fanned out)
    assert len(app._async_listeners) == 5, kinds


def test_one_id_cannot_have_two_handlers() -> None:
    router = Router()

    async def handler(**_: Any) -> None:
        return None

    router.action("a.b")(handler)
    with pytest.raises(ValueError, match="a.b"):
        router.action("a.b")(handler)
    router.view("a.b")(handler)  # another kind: fine
    assert router.ids("action") == router.ids("view") == frozenset({"a.b"})


@pytest.fixture
async def routed(deps: Deps) -> Any:
    seen: list[tuple[str, str]] = []
    router = Router()

    def record(name: str) -> Any:
        async def handler(ack: AsyncAck, body: dict[str, Any]) -> None:
            await ack()
            seen.append((name, str(body.get("type") or body.get("command"))))

        return deps.listener(handler)

    router.command("/one")(record("one"))
    router.command("/two")(record("two"))
    router.action("x.approve")(record("approve"))
    router.action("x.reject")(record("reject"))
    router.view("x.modal")(record("modal"))
    router.shortcut("x.short")(record("short"))
    app = AsyncApp(client=deps.slack, signing_secret=SIGNING_SECRET)
    router.install(app)
    client = TestClient(TestServer(app.web_app()))
    await client.start_server()
    yield SlackSender(client, secret=SIGNING_SECRET), seen, deps
    await client.close()


async def test_each_request_reaches_the_handler_of_its_id(routed: Any) -> None:
    sender, seen, deps = routed
    assert (await sender.command(payloads.slash_command("/two", ""))).status == 200
    assert (await sender.interactive(payloads.block_action("x.reject"))).status == 200
    assert (await sender.interactive(payloads.view_submission("x.modal", {}))).status == 200
    assert (await sender.command(payloads.slash_command("/one", ""))).status == 200
    assert (await sender.interactive(payloads.block_action("x.approve"))).status == 200
    assert await deps.inflight.drain(5)
    assert [name for name, _ in seen] == ["two", "reject", "modal", "one", "approve"]


async def test_ids_that_only_look_alike_are_not_matched(routed: Any) -> None:
    sender, seen, deps = routed
    # Regex metacharacters in ids are literal, and a prefix or suffix is not the id.
    for action_id in ("xxapprove", "x.approve2", "y.x.approve"):
        response = await sender.interactive(payloads.block_action(action_id))
        assert response.status == 404  # Bolt's answer to a request no listener takes
    assert (await sender.command(payloads.slash_command("/three", ""))).status == 404
    assert await deps.inflight.drain(5)
    assert seen == []


async def test_features_listening_to_one_event_type_each_get_it(deps: Deps) -> None:
    seen: list[str] = []
    router = Router()

    def record(name: str, *, fail: bool = False) -> Any:
        async def handler(event: dict[str, Any]) -> None:
            seen.append(f"{name}:{event['type']}")
            if fail:
                raise RuntimeError("this feature failed")

        return deps.listener(handler)

    router.event("message")(record("uploads", fail=True))
    router.event("message")(record("replies"))
    router.event("app_home_opened")(record("home"))
    assert router.ids("event") == frozenset({"message", "app_home_opened"})
    app = AsyncApp(client=deps.slack, signing_secret=SIGNING_SECRET)
    router.install(app)
    client = TestClient(TestServer(app.web_app()))
    await client.start_server()
    try:
        sender = SlackSender(client, secret=SIGNING_SECRET)
        message = {"type": "message", "text": "hi", "user": "U0ALICE01", "channel": "D0ALICE01", "ts": "1.2"}
        assert (await sender.event(payloads.event(message))).status == 200
        assert await deps.inflight.drain(5)
    finally:
        await client.close()
    assert seen == ["uploads:message", "replies:message"]  # one's failure does not stop the other
