"""HomePublisher: bursts coalesce per user, a request during a publish gives exactly one more, users
are independent, failures are contained, and the Deps registry lives as long as the app."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.home.publisher import HomePublisher
from bot.slack.inflight import InFlight
from tests.conftest import make_settings


class Recorder:
    """A publish function that records calls and can be held open to simulate a slow views.publish."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}
        self.started: dict[str, asyncio.Event] = {}
        self.fail: set[str] = set()

    def hold(self, user_id: str) -> None:
        self.gates[user_id] = asyncio.Event()
        self.started[user_id] = asyncio.Event()

    async def __call__(self, user_id: str) -> None:
        self.calls.append(user_id)
        if user_id in self.started:
            self.started[user_id].set()
        if user_id in self.gates:
            await self.gates[user_id].wait()
        if user_id in self.fail:
            raise RuntimeError("views.publish failed")


async def test_a_burst_of_requests_becomes_one_publish() -> None:
    recorder, inflight = Recorder(), InFlight()
    publisher = HomePublisher(recorder, inflight=inflight, debounce=0)
    for _ in range(20):
        publisher.request("U1")
    await publisher.drain()
    assert recorder.calls == ["U1"]
    assert publisher.known_users == frozenset({"U1"})
    assert inflight.count == 0


async def test_requests_during_a_publish_give_exactly_one_more() -> None:
    recorder = Recorder()
    publisher = HomePublisher(recorder, inflight=InFlight(), debounce=0)
    recorder.hold("U1")
    publisher.request("U1")
    await recorder.started["U1"].wait()
    for _ in range(5):  # changes land while the first publish is running
        publisher.request("U1")
    recorder.gates["U1"].set()  # the first publish ends; the gate stays open for the next one
    await publisher.drain()
    assert recorder.calls == ["U1", "U1"]
    assert not publisher.pending("U1")


async def test_a_slow_publish_for_one_user_does_not_delay_another() -> None:
    recorder = Recorder()
    publisher = HomePublisher(recorder, inflight=InFlight(), debounce=0)
    recorder.hold("USLOW")
    publisher.request("USLOW")
    publisher.request("UFAST")
    await recorder.started["USLOW"].wait()
    while "UFAST" not in recorder.calls or publisher.pending("UFAST"):
        await asyncio.sleep(0)
    assert publisher.pending("USLOW")  # still in views.publish
    recorder.gates["USLOW"].set()
    await publisher.drain()
    assert sorted(recorder.calls) == ["UFAST", "USLOW"]


async def test_a_failed_publish_is_logged_and_the_next_request_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    publisher = HomePublisher(recorder, inflight=InFlight(), debounce=0)
    recorder.fail.add("U1")
    with caplog.at_level(logging.ERROR, logger="bot.home.publisher"):
        publisher.request("U1")
        await publisher.drain()
    assert "publishing the App Home of U1 failed" in caplog.text
    assert publisher.known_users == frozenset()
    recorder.fail.clear()
    publisher.request("U1")
    await publisher.drain()
    assert recorder.calls == ["U1", "U1"]
    assert publisher.known_users == frozenset({"U1"})


async def test_request_all_refreshes_everyone_shown_a_home_and_inflight_tracks_the_tasks() -> None:
    recorder, inflight = Recorder(), InFlight()
    publisher = HomePublisher(recorder, inflight=inflight, debounce=0)
    publisher.request_many(["U2", "U1", "U2"])
    await publisher.drain()
    recorder.calls.clear()
    recorder.hold("U1")
    publisher.request_all()
    await recorder.started["U1"].wait()
    assert inflight.count >= 1  # SIGTERM would wait for this publish
    recorder.gates["U1"].set()
    assert await inflight.drain(5)
    assert sorted(recorder.calls) == ["U1", "U2"]


async def test_refresh_republishes_only_homes_this_process_has_shown() -> None:
    """The HomeRefresh port: features call ``refresh``; only Homes someone opened here are published
    again (a process that never served a Home, such as the CLI, publishes nothing)."""
    recorder = Recorder()
    publisher = HomePublisher(recorder, inflight=InFlight(), debounce=0)
    publisher.refresh(["U9"])  # U9 never opened the Home here: nothing to refresh
    publisher.refresh()
    await publisher.drain()
    assert recorder.calls == []
    publisher.show("U9")  # as app_home_opened does
    await publisher.drain()
    publisher.refresh(["U9", "U8"])
    await publisher.drain()
    publisher.refresh()
    await publisher.drain()
    assert recorder.calls == ["U9", "U9", "U9"]


def test_the_deps_of_every_process_carry_a_home_port() -> None:
    from bot.app import build_deps
    from bot.runtime.ports import HomeRefresh

    deps = build_deps(make_settings())
    home: HomeRefresh = deps.home
    assert isinstance(home, HomePublisher)
