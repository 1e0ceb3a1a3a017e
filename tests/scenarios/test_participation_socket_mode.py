"""Participation in Socket Mode: the same reaction and reply arriving over the websocket, redelivered
with ``retry_attempt``, and once more over HTTP (a workspace moving between modes) count once each."""

from __future__ import annotations

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from sqlalchemy import select

from bot.app import build_app
from bot.config import Settings
from bot.participation.models import ParticipationMark
from bot.runtime.deps import Deps
from tests.conftest import APP_TOKEN, MANAGER, MGMT_CHANNEL
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.fakes.socket_mode import envelope as socket_envelope
from tests.scenarios.digest_seed import jst
from tests.scenarios.participation_seed import envelope, participation_settings, reaction, reply

DIGEST_TS = "1763300000.000100"


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    return participation_settings(db_url, fake_slack.api_url)


async def test_socket_mode_events_and_their_redeliveries_count_once(
    deps: Deps, fake_slack: FakeSlack, sender: SlackSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)  # the SDK would send the websocket through a proxy
    at = jst(2026, 11, 18, 11)
    tada = envelope(reaction(MANAGER, channel=MGMT_CHANNEL, ts=DIGEST_TS, at=at), event_id="Ev0SOCK01", at=at)
    thread = envelope(
        reply(MANAGER, channel=MGMT_CHANNEL, thread_ts=DIGEST_TS, at=at), event_id="Ev0SOCK02", at=at
    )
    handler = AsyncSocketModeHandler(build_app(deps), APP_TOKEN)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await fake_slack.wait_for_socket()
        for body in (tada, thread):
            first = socket_envelope("events_api", body)
            await fake_slack.socket_send(first)
            assert (await fake_slack.wait_for_ack(first["envelope_id"])).payload is None
            # Slack redelivers an event it thinks was not acked in time, with a new envelope id.
            retry = socket_envelope("events_api", body, retry_attempt=1, retry_reason="timeout")
            await fake_slack.socket_send(retry)
            assert (await fake_slack.wait_for_ack(retry["envelope_id"])).payload is None
        # The same deliveries over HTTP (another replica serving the Events API): acknowledged, no effect.
        assert (await sender.event(tada)).status == 200
        assert (await sender.event(thread, retry_num=2, retry_reason="http_error")).status == 200
        assert await deps.inflight.drain(10)
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]

    async with deps.sessions() as session:
        marks = (await session.execute(select(ParticipationMark.kind, ParticipationMark.user_id))).all()
    assert sorted(marks) == [("reaction", MANAGER), ("reply", MANAGER)]

    # Removing the reaction (a later event) takes it back; its retry changes nothing.
    later = jst(2026, 11, 18, 12)
    removed = envelope(
        reaction(MANAGER, channel=MGMT_CHANNEL, ts=DIGEST_TS, at=later, removed=True),
        event_id="Ev0SOCK03",
        at=later,
    )
    assert (await sender.event(removed)).status == 200
    assert (await sender.event(removed, retry_num=1)).status == 200
    assert await deps.inflight.drain(10)
    async with deps.sessions() as session:
        rows = (await session.scalars(select(ParticipationMark).order_by(ParticipationMark.kind))).all()
    assert [(r.kind, r.removed) for r in rows] == [("reaction", True), ("reply", False)]
