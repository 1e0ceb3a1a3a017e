"""InFlight.drain waits for work a run hands on to a task it creates as it ends (a debounced Home
publish), not only for the runs in flight when it was called."""

from __future__ import annotations

import asyncio

from bot.slack.inflight import InFlight


async def test_drain_waits_for_a_task_a_run_created_as_it_ended() -> None:
    inflight = InFlight()
    done: list[str] = []

    async def publish() -> None:
        await asyncio.sleep(0.05)
        done.append("published")

    async def listener() -> None:
        await asyncio.sleep(0)
        asyncio.get_running_loop().create_task(inflight.track(publish)())
        done.append("listener")

    asyncio.get_running_loop().create_task(inflight.track(listener)())
    await asyncio.sleep(0)  # the listener is running
    assert await inflight.drain(5)
    assert done == ["listener", "published"]
    assert inflight.count == 0


async def test_drain_gives_up_after_its_timeout() -> None:
    inflight = InFlight()
    gate = asyncio.Event()
    task = asyncio.get_running_loop().create_task(inflight.track(gate.wait)())
    await asyncio.sleep(0)
    assert not await inflight.drain(0.05)
    gate.set()
    await task
    assert await inflight.drain(1)
