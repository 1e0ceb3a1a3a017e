"""Process faults around one digest post, with real ``sns-bot run`` processes on PostgreSQL: SIGKILL
between claim and post and between post and record, SIGTERM while the post is in flight (finished, or
handed over when it outlasts the grace period), and a Slack answer slower than the claim's lease.
Each ends with exactly one digest message per kind in the channel.

The digests fire at start (catch-up of the every-minute schedule), so no test waits for a minute
boundary; a crashed claim is recovered once its lease (10 s, the minimum) has run out.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import SHUTDOWN_GRACE_SECONDS
from bot.db import make_engine
from bot.digest.ids import DIGEST_EVENT_TYPE
from bot.digest.models import DigestRun
from bot.i18n import translator
from tests.fakes.slack import FakeSlack, Params
from tests.reliability.bot_process import (
    MGMT_CHANNEL,
    BotConfig,
    BotProcess,
    bot_environment,
    free_port,
    long_test,
    postgres_database,
    start_bot,
    stopping,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

LEASE_SECONDS = 10
#: Every minute, so the last fire time is always within the catch-up window: each bot posts at start.
EVERY_MINUTE = "* * * * *"
#: Longer than any test: a post the fake holds this long is one the crashed bot never saw answered.
FOREVER = 600.0


def config(db_url: str) -> BotConfig:
    return BotConfig(
        db_url=db_url,
        weekly_cron=EVERY_MINUTE,
        monthly_cron=EVERY_MINUTE,
        catch_up_days=0.01,  # ~15 minutes
        lease_seconds=LEASE_SECONDS,
    )


def weekly_post(params: Params) -> bool:
    payload = (params.get("metadata") or {}).get("event_payload") or {}
    return payload.get("kind") == "weekly"


def digests(fake: FakeSlack, kind: str) -> list[dict[str, Any]]:
    """The digest messages of ``kind`` the channel holds (by their metadata, as recovery finds them)."""
    return [
        m
        for m in fake.messages(MGMT_CHANNEL)
        if (m.get("metadata") or {}).get("event_type") == DIGEST_EVENT_TYPE
        and m["metadata"]["event_payload"]["kind"] == kind
    ]


class Store:
    """Reads the ``digest_run`` claim rows the bots write."""

    def __init__(self, url: str) -> None:
        self._engine = make_engine(url)

    async def close(self) -> None:
        await self._engine.dispose()

    async def run(self, kind: str) -> DigestRun | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(DigestRun.__table__).where(
                        DigestRun.kind == kind, DigestRun.channel_id == MGMT_CHANNEL
                    )
                )
            ).one_or_none()
        return row  # type: ignore[return-value]  # a Row with the same attribute names

    async def wait(self, kind: str, *, status: str, timeout: float = 45.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            row = await self.run(kind)
            if row is not None and row.status == status:
                return row
            if time.monotonic() > deadline:
                raise AssertionError(f"{kind} digest_run never became {status!r}: {row}")
            await asyncio.sleep(0.1)

    async def wait_lease_expired(self, kind: str) -> None:
        """Until the claim's lease is over: from then on another replica may take it over."""
        while True:
            row = await self.run(kind)
            assert row is not None and row.status == "claimed", row
            if row.lease_until is not None and row.lease_until < datetime.now(UTC):
                return
            await asyncio.sleep(0.2)


@pytest.fixture
async def store_url() -> AsyncIterator[str]:
    async with postgres_database() as url:
        yield url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    store = Store(store_url)
    yield store
    await store.close()


@pytest.fixture
def fake() -> Any:
    with FakeSlack() as fake:
        yield fake
        fake.assert_no_invalid_payloads()


async def recover_with_a_new_replica(
    tmp_path: Path, fake: FakeSlack, store: Store, store_url: str
) -> BotProcess:
    """Wait for the dead claim's lease, start replica ``b`` and wait until both digests are posted."""
    await store.wait_lease_expired("weekly")
    b = start_bot(tmp_path, config=config(store_url), api_url=fake.api_url, name="b")
    await b.wait_healthy()
    await store.wait("weekly", status="posted")
    await store.wait("monthly", status="posted")
    return b


async def test_sigkill_between_claim_and_post_is_posted_once_by_the_next_replica(
    tmp_path: Path, fake: FakeSlack, store: Store, store_url: str
) -> None:
    # The post never reaches the channel: the connection is held, then dropped.
    fake.fail("chat.postMessage", delay=FOREVER, drop=True, when=weekly_post)
    a = start_bot(tmp_path, config=config(store_url), api_url=fake.api_url, name="a")
    with stopping(a):
        await fake.wait_for("chat.postMessage", timeout=60)
        a.kill()
        claimed = await store.run("weekly")
        assert claimed is not None
        assert (claimed.status, claimed.message_ts) == ("claimed", None)
        assert digests(fake, "weekly") == []

        b = await recover_with_a_new_replica(tmp_path, fake, store, store_url)
        with stopping(b):
            assert b.stop() == 0, b.log_tail()

    posted = await store.run("weekly")
    [message] = digests(fake, "weekly")
    assert (posted.status, posted.message_ts, posted.attempts) == ("posted", message["ts"], 2)
    assert len(digests(fake, "monthly")) == 1
    assert any(m.startswith("digest weekly ") and f"posted to {MGMT_CHANNEL}" in m for m in b.messages())


async def test_sigkill_between_post_and_record_is_found_in_the_channel_not_posted_again(
    tmp_path: Path, fake: FakeSlack, store: Store, store_url: str
) -> None:
    # Slack stores the message, but the answer (with its ts) never reaches the bot before it dies.
    fake.fail("chat.postMessage", hold=FOREVER, when=weekly_post)
    a = start_bot(tmp_path, config=config(store_url), api_url=fake.api_url, name="a")
    with stopping(a):
        deadline = time.monotonic() + 60
        while not digests(fake, "weekly"):
            assert time.monotonic() < deadline, a.log_tail()
            await asyncio.sleep(0.05)
        a.kill()
        claimed = await store.run("weekly")
        assert (claimed.status, claimed.message_ts) == ("claimed", None)

        b = await recover_with_a_new_replica(tmp_path, fake, store, store_url)
        with stopping(b):
            assert b.stop() == 0, b.log_tail()

    [message] = digests(fake, "weekly")
    recorded = await store.run("weekly")
    assert (recorded.status, recorded.message_ts) == ("posted", message["ts"])
    assert len(digests(fake, "monthly")) == 1
    assert len(fake.calls_to("chat.postMessage")) == 2  # a's weekly post and b's monthly one, nothing else
    histories = [c for c in fake.calls_to("conversations.history") if c.params.get("channel") == MGMT_CHANNEL]
    assert histories and all(c.params.get("include_all_metadata") in (True, "1", "true") for c in histories)
    assert any("was already posted" in m and message["ts"] in m for m in b.messages())


async def test_sigterm_while_posting_finishes_the_post_and_records_it(
    tmp_path: Path, fake: FakeSlack, store: Store, store_url: str
) -> None:
    # A slow answer: the post is still in flight when the orchestrator stops the container.
    fake.fail("chat.postMessage", delay=3.0, when=weekly_post)
    a = start_bot(tmp_path, config=config(store_url), api_url=fake.api_url, name="a")
    with stopping(a):
        await fake.wait_for("chat.postMessage", timeout=60)
        a.terminate()
        assert a.wait(timeout=SHUTDOWN_GRACE_SECONDS + 10) == 0, a.log_tail()

    messages = a.messages()
    assert messages[-1] == "stopped"
    assert not [m for m in messages if "still running after" in m]
    [message] = digests(fake, "weekly")
    recorded = await store.run("weekly")
    assert (recorded.status, recorded.message_ts) == ("posted", message["ts"])

    # The next process finds nothing left to do.
    b = start_bot(tmp_path, config=config(store_url), api_url=fake.api_url, name="b")
    with stopping(b):
        await b.wait_healthy()
        await b.wait_for_log(f"catch-up: digest weekly {recorded.period} → {MGMT_CHANNEL}: already_posted")
        await b.wait_for_log("catch-up: digest monthly ")
        assert b.stop() == 0
    assert len(digests(fake, "weekly")) == 1
    assert len(digests(fake, "monthly")) == 1


async def test_a_slack_answer_slower_than_the_lease_keeps_the_claim(
    tmp_path: Path, fake: FakeSlack, store: Store, store_url: str
) -> None:
    """The poster is alive but Slack answers after the lease would have run out: the claim must
    stay with it (no other replica may post), or the channel gets the digest twice."""
    slow = LEASE_SECONDS + 4.0  # below the Web API client's 15 s timeout: the post succeeds
    fake.fail("chat.postMessage", delay=slow, when=weekly_post)
    a = start_bot(tmp_path, config=config(store_url), api_url=fake.api_url, name="a")
    with stopping(a):
        await fake.wait_for("chat.postMessage", timeout=60)
        claimed = await store.run("weekly")
        # Another replica (here: an admin's `sns-bot digest weekly --post`) tries after the lease.
        wait = (claimed.created_at.timestamp() + LEASE_SECONDS + 0.5) - time.time()
        await asyncio.sleep(max(0.0, wait))
        other = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot", "digest", "weekly", "--post", "--config", str(tmp_path / "a.toml")],
            cwd=tmp_path,
            env=bot_environment(api_url=fake.api_url, port=free_port()),
            capture_output=True,
            text=True,
            timeout=60,
        )
        await store.wait("weekly", status="posted")
        assert a.stop() == 0, a.log_tail()

    assert other.returncode == 0, other.stderr
    t = translator("ja")
    busy = t(
        "digest.cli.outcome.busy",
        kind=t("digest.kinds.weekly"),
        period=claimed.period,
        channel=MGMT_CHANNEL,
        ts="",
        error="",
    )
    assert other.stdout.strip() == busy
    [message] = digests(fake, "weekly")
    recorded = await store.run("weekly")
    assert (recorded.status, recorded.message_ts, recorded.attempts) == ("posted", message["ts"], 1)


@long_test
async def test_sigterm_when_the_post_outlasts_the_grace_period_hands_it_over(
    tmp_path: Path, fake: FakeSlack, store: Store, store_url: str
) -> None:
    # Slack rate-limits the post: the backoff (2, 4, 8, 16 s) outlasts the grace period, so the bot
    # stops waiting, exits, and leaves the claim to expire; the next replica posts it.
    fake.fail("chat.postMessage", status=429, retry_after=0, times=4, when=weekly_post)
    a = start_bot(tmp_path, config=config(store_url), api_url=fake.api_url, name="a")
    with stopping(a):
        await fake.wait_for("chat.postMessage", timeout=60)
        a.terminate()
        await a.wait_healthz_gone()
        assert a.wait(timeout=SHUTDOWN_GRACE_SECONDS + 15) == 0, a.log_tail()
    assert [m for m in a.messages() if "still running after" in m]
    assert a.messages()[-1] == "stopped"
    left = await store.run("weekly")
    assert (left.status, left.message_ts) == ("claimed", None)
    assert digests(fake, "weekly") == []

    b = await recover_with_a_new_replica(tmp_path, fake, store, store_url)
    with stopping(b):
        assert b.stop() == 0, b.log_tail()
    [message] = digests(fake, "weekly")
    recorded = await store.run("weekly")
    assert (recorded.status, recorded.message_ts) == ("posted", message["ts"])
    assert len(digests(fake, "monthly")) == 1
