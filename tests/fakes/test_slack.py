"""Tests for the Slack test harness: FakeSlack under real slack_sdk clients, signing, payloads, Block Kit."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.say.async_say import AsyncSay
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes import blockkit, payloads
from tests.fakes.signing import SlackSender, event_body, interactivity_body, sign, slash_command_body
from tests.fakes.slack import FakeSlack

SECRET = "test-signing-secret"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


class FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=slack.api_url)


# ---------------------------------------------------------------- Web API shapes


async def test_auth_test_answers_bot_identity_and_scopes_header(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    response = await client.auth_test()

    assert response["user_id"] == "U0BOT0001"
    assert response["bot_id"] == "B0BOT0001"
    assert response["team_id"] == "T0001"
    assert response.headers["x-oauth-scopes"].split(",")[:2] == ["chat:write", "chat:write.public"]
    [call] = slack.calls_to("auth.test")
    assert call.headers["authorization"] == "Bearer xoxb-test"
    assert call.path == "/api/auth.test"


async def test_post_message_then_history_honours_metadata_window_and_limit(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    metadata = {"event_type": "digest_posted", "event_payload": {"digest_id": 17}}
    first = await client.chat_postMessage(channel="C1", text="first")
    second = await client.chat_postMessage(
        channel="C1", text="Digest", blocks=[_section("*Digest*")], metadata=metadata
    )
    third = await client.chat_postMessage(channel="C1", text="reply", thread_ts=second["ts"])

    assert float(first["ts"]) < float(second["ts"]) < float(third["ts"])
    assert second["channel"] == "C1"
    assert second["message"]["blocks"] == [_section("*Digest*")]
    assert second["message"]["metadata"] == metadata

    plain = await client.conversations_history(channel="C1")
    assert [m["text"] for m in plain["messages"]] == ["Digest", "first"]  # newest first, no thread replies
    assert "metadata" not in plain["messages"][0]
    assert plain["messages"][0]["reply_count"] == 1

    rich = await client.conversations_history(channel="C1", include_all_metadata=True, limit=1)
    assert [m.get("metadata") for m in rich["messages"]] == [metadata]
    assert rich["has_more"] is True

    window = await client.conversations_history(channel="C1", oldest=first["ts"], latest=third["ts"])
    assert [m["ts"] for m in window["messages"]] == [second["ts"]]
    inclusive = await client.conversations_history(channel="C1", oldest=first["ts"], inclusive=True)
    assert [m["ts"] for m in inclusive["messages"]] == [second["ts"], first["ts"]]

    replies = await client.conversations_replies(channel="C1", ts=second["ts"])
    assert [m["text"] for m in replies["messages"]] == ["Digest", "reply"]
    assert [m["text"] for m in slack.messages("C1")] == ["first", "Digest", "reply"]


async def test_chat_update_ephemeral_permalink_and_reactions(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel="C1", text="draft")
    updated = await client.chat_update(
        channel="C1", ts=posted["ts"], text="final", blocks=[_section("final")]
    )
    link = await client.chat_getPermalink(channel="C1", message_ts=posted["ts"])
    ephemeral = await client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    await client.reactions_add(channel="C1", timestamp=posted["ts"], name="eyes")

    assert updated["text"] == "final"
    assert slack.messages("C1")[0]["blocks"] == [_section("final")]
    assert link["permalink"] == f"https://acme.slack.com/archives/C1/p{posted['ts'].replace('.', '')}"
    assert float(ephemeral["message_ts"]) > float(posted["ts"])
    with pytest.raises(SlackApiError) as again:
        await client.reactions_add(channel="C1", timestamp=posted["ts"], name="eyes")
    assert again.value.response["error"] == "already_reacted"
    with pytest.raises(SlackApiError) as missing:
        await client.chat_update(channel="C1", ts="1.000001", text="x")
    assert missing.value.response["error"] == "message_not_found"


async def test_dm_users_info_and_usergroups(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.usergroups = {"S0MANAGERS": ["U1", "U2"]}
    slack.users = {"U2": {"locale": "en-US", "real_name": "Bob"}}

    opened = await client.conversations_open(users="U0ALICE01")
    to_user = await client.chat_postMessage(channel="U0ALICE01", text="hi")
    bob = await client.users_info(user="U2", include_locale=True)
    no_locale = await client.users_info(user="U1")
    group = await client.usergroups_users_list(usergroup="S0MANAGERS")

    assert opened["channel"]["id"] == "D0ALICE01"
    assert to_user["channel"] == "D0ALICE01"
    assert (bob["user"]["locale"], bob["user"]["real_name"], bob["user"]["tz"]) == (
        "en-US",
        "Bob",
        "Asia/Tokyo",
    )
    assert "locale" not in no_locale["user"]
    assert group["users"] == ["U1", "U2"]
    [info_call] = slack.calls_to("users.info")[:1]
    assert info_call.params == {"user": "U2", "include_locale": "1"}  # sent as a GET query string
    with pytest.raises(SlackApiError) as unknown:
        await client.usergroups_users_list(usergroup="S0NOPE")
    assert unknown.value.response["error"] == "no_such_subteam"


async def test_views_open_update_publish_envelopes(slack: FakeSlack, client: AsyncWebClient) -> None:
    modal = {
        "type": "modal",
        "callback_id": "digest_settings",
        "title": {"type": "plain_text", "text": "Digest settings"},
        "blocks": [_section("hello")],
        "private_metadata": '{"digest_id":17}',
    }
    opened = await client.views_open(trigger_id=payloads.trigger_id(), view=modal)
    view = opened["view"]
    updated = await client.views_update(view_id=view["id"], hash=view["hash"], view=modal)
    home = await client.views_publish(user_id="U1", view={"type": "home", "blocks": [_section("home")]})
    home_again = await client.views_publish(user_id="U1", view={"type": "home", "blocks": [_section("home")]})

    assert view["id"].startswith("V")
    assert (view["root_view_id"], view["callback_id"], view["state"]) == (
        view["id"],
        "digest_settings",
        {"values": {}},
    )
    assert view["private_metadata"] == '{"digest_id":17}'
    assert updated["view"]["id"] == view["id"] and updated["view"]["hash"] != view["hash"]
    assert home["view"]["type"] == "home" and home_again["view"]["id"] == home["view"]["id"]
    with pytest.raises(SlackApiError) as conflict:
        await client.views_update(view_id=view["id"], hash=view["hash"], view=modal)
    assert conflict.value.response["error"] == "hash_conflict"


async def test_files_upload_v2_full_flow(slack: FakeSlack, client: AsyncWebClient) -> None:
    content = "week,posts\n2026-W01,12\n"

    result = await client.files_upload_v2(
        channel="C1", filename="digest.csv", content=content, title="Digest CSV", initial_comment="This week"
    )

    file_id = result["file"]["id"]
    assert [c.method for c in slack.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    assert slack.uploads[file_id] == content.encode()
    assert result["files"][0] == slack.files[file_id]
    assert (result["file"]["title"], result["file"]["name"]) == ("Digest CSV", "digest.csv")
    [shared] = slack.messages("C1")
    assert (shared["text"], [f["id"] for f in shared["files"]]) == ("This week", [file_id])
    assert "authorization" not in slack.calls_to("upload")[0].headers


# ---------------------------------------------------------------- Block Kit validation


async def test_views_open_with_25_char_title_is_rejected_and_recorded(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25}, "blocks": [_section("a")]}

    with pytest.raises(SlackApiError) as rejected:
        await client.views_open(trigger_id=payloads.trigger_id(), view=modal)

    assert rejected.value.response["error"] == "invalid_arguments"
    messages = rejected.value.response["response_metadata"]["messages"]
    assert messages == ["[ERROR] title must be between 1 and 24 characters [json-pointer:/view]"]
    assert [(v.method, v.error) for v in slack.invalid_payloads] == [("views.open", "invalid_arguments")]
    with pytest.raises(AssertionError, match="title must be between 1 and 24"):
        slack.assert_no_invalid_payloads()


async def test_51_message_blocks_are_rejected_50_accepted(slack: FakeSlack, client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel="C1", text="ok", blocks=[_section(str(i)) for i in range(50)])

    with pytest.raises(SlackApiError) as rejected:
        await client.chat_postMessage(
            channel="C1", text="too many", blocks=[_section(str(i)) for i in range(51)]
        )

    assert rejected.value.response["error"] == "invalid_blocks"
    assert rejected.value.response["response_metadata"]["messages"] == [
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
    ]
    assert len(slack.messages("C1")) == 1
    assert len(slack.invalid_payloads) == 1


def test_blockkit_catches_gaps_in_slack_sdk_validation() -> None:
    long_field = {"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}
    typo = {"type": "section", "text": {"type": "mrkdwn", "txt": "oops"}}
    big = [_section("y" * 2500) for _ in range(5)]

    assert blockkit.block_errors([long_field]) == [
        "[ERROR] must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]"
    ]
    assert blockkit.block_errors([typo]) == [
        "[ERROR] TypeError: MarkdownTextObject.__init__() got an unexpected keyword argument 'txt' "
        "[json-pointer:/blocks/0]"
    ]
    assert blockkit.block_errors([{"type": "divider", "blok_id": "x"}]) == [
        "[ERROR] unknown or malformed key [json-pointer:/blocks/0/blok_id]"
    ]
    assert blockkit.block_errors([{"type": "bogus"}]) == [
        "[ERROR] unknown block type 'bogus' [json-pointer:/blocks/0]"
    ]
    assert blockkit.message_errors(big) == (
        "msg_blocks_too_long",
        ["[ERROR] blocks hold 12500 chars of text (> 12000)"],
    )
    input_modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "T"},
        "blocks": [
            {
                "type": "input",
                "block_id": "b",
                "label": {"type": "plain_text", "text": "L"},
                "element": {"type": "plain_text_input", "action_id": "a"},
            }
        ],
    }
    assert blockkit.view_errors(input_modal) == [
        "[ERROR] submit is required when a modal has input blocks [json-pointer:/view/submit]"
    ]


async def test_form_body_blocks_string_is_parsed_and_missing_text_recorded(slack: FakeSlack) -> None:
    form = {"channel": "C1", "blocks": json.dumps([_section("no fallback")])}
    async with aiohttp.ClientSession() as session:
        async with session.post(slack.api_url + "chat.postMessage", data=form) as response:
            body = await response.json()

    assert body["ok"] is True
    assert slack.calls[0].params["blocks"] == [_section("no fallback")]
    assert [(v.method, v.error) for v in slack.invalid_payloads] == [("chat.postMessage", "missing_text")]


# ---------------------------------------------------------------- faults and retry handlers


async def test_429_is_retried_once_by_rate_limit_handler(slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    slack.fail("chat.postMessage", status=429, retry_after=0)

    response = await client.chat_postMessage(channel="C1", text="hi")

    assert response["ok"] is True
    assert len(slack.calls_to("chat.postMessage")) == 2
    assert len(slack.messages("C1")) == 1  # the rejected attempt stored nothing


async def test_429_without_handler_surfaces_status_and_integer_retry_after(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.fail("chat.postMessage", retry_after=7)

    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel="C1", text="hi")

    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"
    assert limited.value.response["error"] == "ratelimited"


async def test_500_html_is_retried_by_server_error_handler(slack: FakeSlack) -> None:
    client = AsyncWebClient(
        token="xoxb-test", base_url=slack.api_url, retry_handlers=[AsyncServerErrorRetryHandler()]
    )
    slack.fail("views.publish", status=500)

    response = await client.views_publish(user_id="U1", view={"type": "home", "blocks": [_section("home")]})

    assert response["view"]["type"] == "home"
    assert len(slack.calls_to("views.publish")) == 2


async def test_dropped_connection_is_retried_by_default_connection_handler(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.fail("chat.postMessage", drop=True)

    response = await client.chat_postMessage(channel="C1", text="hi")

    assert response["ok"] is True
    assert len(slack.calls_to("chat.postMessage")) == 2


async def test_scoped_forever_error_and_slow_answer(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail("chat.postMessage", error="channel_not_found", times=None, when=lambda p: p["channel"] == "C1")
    slack.fail("auth.test", delay=0.3)

    for _ in range(2):
        with pytest.raises(SlackApiError) as missing:
            await client.chat_postMessage(channel="C1", text="hi")
        assert (missing.value.response.status_code, missing.value.response["error"]) == (
            200,
            "channel_not_found",
        )
    ok = await client.chat_postMessage(channel="C2", text="hi")
    started = time.monotonic()
    slow = await client.auth_test()

    assert ok["channel"] == "C2"
    assert slow["ok"] is True and time.monotonic() - started >= 0.3
    slack.reset()
    assert (await client.chat_postMessage(channel="C1", text="hi"))["ok"] is True


async def test_wait_for_returns_calls_and_times_out_with_summary(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel="C1", text="late")

    task = asyncio.create_task(later())
    [call] = await slack.wait_for("chat.postMessage", timeout=2)
    await task

    assert call.params["text"] == "late"
    with pytest.raises(AssertionError, match=r"views.open called 0x, expected 1 .*chat.postMessage"):
        await slack.wait_for("views.open", timeout=0.05)


def test_thread_mode_serves_a_sync_client() -> None:
    with FakeSlack() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        posted = client.chat_postMessage(channel="C1", text="from a thread")
        assert posted["channel"] == "C1"
        assert [m["text"] for m in slack.messages("C1")] == ["from a thread"]


# ---------------------------------------------------------------- signing and the Bolt round trip


def test_sign_matches_official_test_vector() -> None:
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )

    headers = sign("8f742231b10e8888abcd99yyyzzz85a5", body, 1531420618)

    assert headers == {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    }


@pytest.mark.parametrize(
    "body",
    [
        slash_command_body(payloads.slash_command("/sns-review", "today <@U1|bob>")),
        interactivity_body(payloads.block_action("review.approve", "42")),
        event_body(payloads.event(payloads.app_home_opened())),
    ],
)
def test_signed_bodies_verify_with_slack_sdk(body: bytes) -> None:
    headers = sign(SECRET, body, 1767225600)

    assert SignatureVerifier(SECRET, clock=FixedClock(1767225600 + 299)).is_valid_request(body, headers)
    assert not SignatureVerifier(SECRET, clock=FixedClock(1767225600 + 301)).is_valid_request(body, headers)
    assert not SignatureVerifier(SECRET, clock=FixedClock(1767225600)).is_valid_request(body + b"x", headers)


def test_interactivity_body_round_trips_payload() -> None:
    payload = payloads.view_submission(
        "digest_settings",
        {
            "freq": {"freq_select": payloads.selected_option("weekly", "Weekly")},
            "t": {"a": payloads.text_input(None)},
        },
        private_metadata='{"digest_id":17}',
    )

    [decoded] = parse_qs(interactivity_body(payload).decode())["payload"]
    assert json.loads(decoded) == payload
    assert payload["view"]["state"]["values"]["t"]["a"] == {"type": "plain_text_input", "value": None}


async def test_bolt_app_through_sender_and_fake(slack: FakeSlack) -> None:
    app = AsyncApp(client=AsyncWebClient(token="xoxb-test", base_url=slack.api_url), signing_secret=SECRET)

    async def handle_digest_command(ack: AsyncAck, say: AsyncSay) -> None:
        await ack("Working on it")
        await say(text="Digest", blocks=[_section("*Digest*")])

    async def handle_open_action(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(text="Opened", replace_original=False)

    app.command("/digest")(handle_digest_command)
    app.action("open_item")(handle_open_action)

    async with TestClient(TestServer(app.web_app())) as http:
        sender = SlackSender(http, secret=SECRET)
        command = await sender.command(payloads.slash_command("/digest", "today"))
        await slack.wait_for("chat.postMessage")
        click = payloads.block_action("open_item", "item-42", response_url=slack.response_url("click"))
        action = await sender.interactive(click, retry_num=1, retry_reason="http_timeout")
        [responded] = await slack.wait_for("response_url")
        stale = await sender.command(payloads.slash_command("/digest"), timestamp=int(time.time()) - 301)
        tampered = await sender.command(payloads.slash_command("/digest"), signature="v0=" + "0" * 64)

    assert (command.status, command.text) == (200, "Working on it")
    assert action.status == 200
    assert (responded.path, responded.params["text"]) == ("/response/click", "Opened")
    assert (stale.status, tampered.status) == (401, 401)
    assert stale.json() == {"error": "invalid request"}
    assert [m["text"] for m in slack.messages("C0DIGEST1")] == ["Digest"]
    assert len(slack.calls_to("auth.test")) == 1
    slack.assert_no_invalid_payloads()
