"""The bot as Slack sees it: signed requests into the real HTTP server, answers through the fake
Slack Web API (help commands, signature checks, health)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app, build_deps, build_web_app
from bot.db import make_engine
from tests.conftest import OPERATOR, SIGNING_SECRET, make_settings
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack


async def _answer(fake_slack: FakeSlack, name: str) -> dict[str, Any]:
    calls = await fake_slack.wait_for("response_url", count=1)
    call = next(c for c in calls if c.path.endswith(name))
    return call.params


@pytest.mark.parametrize(
    ("command", "title"),
    [("/sns-kpi", "SNS 指標の使い方"), ("/sns-review", "SNS 投稿レビューの使い方")],
)
async def test_help_is_acknowledged_then_answered_in_japanese(
    sender: SlackSender, fake_slack: FakeSlack, command: str, title: str
) -> None:
    url = fake_slack.response_url("help")
    response = await sender.command(payloads.slash_command(command, "help", response_url=url))

    assert response.status == 200
    assert response.body == b""  # acknowledged first; the answer follows through response_url
    answer = await _answer(fake_slack, "help")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == title
    assert answer["blocks"][0]["text"]["text"] == title


async def test_kpi_help_lists_every_kpi_with_its_why(sender: SlackSender, fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url("kpi-help")
    await sender.command(payloads.slash_command("/sns-kpi", "help", response_url=url))
    answer = await _answer(fake_slack, "kpi-help")
    body = "\n".join(b["text"]["text"] for b in answer["blocks"] if b["type"] == "section")
    assert "*採用エントリー数*（`recruiting_entries`）— 目標 30" in body
    assert "SNS 経由の応募は採用コストを下げます。" in body
    assert "*エンゲージメント率*（`engagement_rate`）— 目標 3%" in body


async def test_unknown_subcommand_says_what_was_not_understood_and_escapes_it(
    sender: SlackSender, fake_slack: FakeSlack
) -> None:
    url = fake_slack.response_url("unknown")
    await sender.command(payloads.slash_command("/sns-kpi", "frobnicate <!channel>", response_url=url))
    answer = await _answer(fake_slack, "unknown")
    first = answer["blocks"][0]["text"]["text"]
    assert first.startswith("`frobnicate &lt;!channel&gt;` は認識できませんでした。")
    assert "<!channel>" not in str(answer)
    assert answer["blocks"][1]["text"]["text"] == "SNS 指標の使い方"


async def test_a_command_mentioning_payload_is_still_answered(
    sender: SlackSender, fake_slack: FakeSlack
) -> None:
    """Bolt parses any form body containing "payload" to {}; the shared middleware restores it."""
    url = fake_slack.response_url("payload")
    response = await sender.command(payloads.slash_command("/sns-kpi", "payload", response_url=url))
    assert response.status == 200
    answer = await _answer(fake_slack, "payload")
    assert "payload" in answer["text"]


async def test_help_in_english(fake_slack: FakeSlack, clock: Any, tmp_path: Any) -> None:
    settings = make_settings(
        db_url=f"sqlite:///{tmp_path / 'en.db'}",
        api_url=fake_slack.api_url,
        change=lambda raw: raw.update(locale="en"),
    )
    deps = build_deps(settings, clock=clock)
    # The asker's own language is English too (each person reads theirs: bot.slack.locales).
    fake_slack.users[payloads.USER_ID] = {"locale": "en-US"}
    client = TestClient(TestServer(build_web_app(build_app(deps), deps)))
    await client.start_server()
    try:
        sender = SlackSender(client, secret=SIGNING_SECRET)
        url = fake_slack.response_url("en-help")
        await sender.command(payloads.slash_command("/sns-kpi", "help", response_url=url))
        answer = await _answer(fake_slack, "en-help")
        assert answer["text"] == "SNS KPIs: how to use"
        assert (
            "*Recruiting entries* (`recruiting_entries`) — target 30" in answer["blocks"][3]["text"]["text"]
        )
    finally:
        await client.close()
        await deps.inflight.drain(5)
        await deps.engine.dispose()


@pytest.mark.parametrize(
    "tamper",
    ["unsigned", "bad_signature", "tampered_body", "stale", "future"],
)
async def test_requests_that_slack_did_not_sign_are_refused_and_do_nothing(
    slack_client: TestClient[Any, Any], fake_slack: FakeSlack, tamper: str
) -> None:
    url = fake_slack.response_url("never")
    fields = payloads.slash_command("/sns-kpi", "help", user_id=OPERATOR, response_url=url)
    sender = SlackSender(slack_client, secret=SIGNING_SECRET)
    now = int(time.time())
    if tamper == "unsigned":
        from tests.fakes.signing import slash_command_body

        response = await slack_client.post(
            "/slack/events",
            data=slash_command_body(fields),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        status = response.status
    elif tamper == "bad_signature":
        status = (await sender.command(fields, signature="v0=" + "0" * 64)).status
    elif tamper == "tampered_body":
        from tests.fakes.signing import sign, slash_command_body

        headers = sign(SIGNING_SECRET, slash_command_body(fields), now)
        evil = dict(fields, text="set recruiting_entries 999")
        response = await slack_client.post(
            "/slack/events",
            data=slash_command_body(evil),
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        )
        status = response.status
    elif tamper == "stale":
        status = (await sender.command(fields, timestamp=now - 301)).status
    else:
        # Well past the 5-minute window: just past it (+301 s) became "inside" whenever the request
        # was verified more than a second after ``now`` was read (a loaded machine).
        status = (await sender.command(fields, timestamp=now + 600)).status

    assert status == 401
    await _settle()
    assert fake_slack.calls == []


async def _settle() -> None:
    import asyncio

    await asyncio.sleep(0.2)


async def test_healthz_is_ok_when_the_database_answers(slack_client: TestClient[Any, Any]) -> None:
    response = await slack_client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["mode"] == "http"


async def test_healthz_is_503_when_the_database_is_gone(fake_slack: FakeSlack, clock: Any) -> None:
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    settings = make_settings(db_url="postgresql://postgres@127.0.0.1:1/gone", api_url=fake_slack.api_url)
    deps = build_deps(settings, clock=clock, engine=make_engine(settings.database.url, pool_size=1))
    client = TestClient(TestServer(build_web_app(build_app(deps), deps)))
    await client.start_server()
    try:
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["status"] == "unavailable"
    finally:
        await client.close()
        await deps.engine.dispose()
