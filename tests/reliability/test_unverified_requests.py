"""Issue 13 item 1: a request that is not proven to come from Slack has no effect.

The attack found from outside: an unsigned request whose ``X-Slack-Request-Timestamp`` had thousands
of digits passed the old header check, made slack_sdk's verifier raise, and Bolt's error path then
answered the *unverified* body: a DM to its ``user.id`` and a POST to its ``response_url`` (any URL).
Here the real HTTP app gets that attack, then a generated mix of odd headers and bodies, and must
answer 401 with no Web API call, no outbound request and no traceback, unless the request really is
signed (then it is served, and still never calls a ``response_url`` outside Slack's hosts).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import strategies as st
from multidict import CIMultiDict

from bot.runtime.deps import Deps
from bot.slack.verify import SignatureCheck, response_url_allowed
from tests.conftest import ADMIN, MGMT_CHANNEL, SIGNING_SECRET
from tests.fakes import payloads
from tests.fakes.signing import FORM, JSON, slash_command_body
from tests.fakes.slack import FakeSlack
from tests.reliability.test_security import draw

CASES = logging.getLogger("reliability.cases")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The store plays no part in refusing a request: SQLite only."""
    return f"sqlite:///{tmp_path / 'bot.db'}"


class Elsewhere:
    """A server that is not Slack: any request reaching it is an outbound call the bot must not make."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.server: TestServer | None = None

    async def _record(self, request: web.Request) -> web.Response:
        self.hits.append(f"{request.method} {request.path}")
        return web.Response(text="ok")

    async def __aenter__(self) -> Elsewhere:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._record)
        self.server = TestServer(app)
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        await self.server.close()

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))


@pytest.fixture
async def elsewhere() -> AsyncIterator[Elsewhere]:
    async with Elsewhere() as server:
        yield server


def signature(body: bytes, ts: str, secret: str = SIGNING_SECRET) -> str:
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def hostile_bodies(response_url: str) -> dict[str, tuple[str, bytes]]:
    """Bodies naming a user in a channel and a response_url elsewhere, as the attack did."""
    action = payloads.block_action(
        "review.approve", value="1", user_id=MGMT_CHANNEL, response_url=response_url
    )
    command = payloads.slash_command("/sns-kpi", "help", user_id=ADMIN, response_url=response_url)
    return {
        "interactive": (FORM, f"payload={quote(json.dumps(action))}".encode()),
        "command": (FORM, slash_command_body(command)),
        "event": (JSON, json.dumps(payloads.event(payloads.app_home_opened(user_id=ADMIN))).encode()),
        "payload not json": (FORM, b"payload=%7Bnot-json"),
        "not form or json": ("text/plain", b"\x00\xff\xfe garbage \x80"),
        "empty": (FORM, b""),
    }


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()[:200]}"
        for r in caplog.records
        if r.levelno >= logging.ERROR or r.exc_info is not None
    ]


async def test_a_timestamp_too_long_for_int_is_refused_and_answers_nobody(
    slack_client: TestClient[Any, Any],
    fake_slack: FakeSlack,
    elsewhere: Elsewhere,
    deps: Deps,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The attack as found: 50 unsigned requests with a 5,000-digit timestamp (before: 50 bot messages)."""
    caplog.set_level(logging.INFO)
    _content_type, body = hostile_bodies(elsewhere.url("/steal"))["interactive"]
    for n in range(50):
        response = await slack_client.post(
            "/slack/events",
            data=body,
            headers={
                "Content-Type": FORM,
                "X-Slack-Request-Timestamp": "9" * (4400 + n),
                "X-Slack-Signature": "v0=" + "0" * 64,
            },
        )
        assert response.status == 401
    await deps.inflight.drain(5)
    assert fake_slack.calls == []
    assert elsewhere.hits == []
    assert errors_logged(caplog) == []


async def test_a_signed_request_never_answers_through_a_response_url_outside_slack(
    slack_client: TestClient[Any, Any],
    fake_slack: FakeSlack,
    elsewhere: Elsewhere,
    deps: Deps,
) -> None:
    """Even signed, a body's response_url off Slack's hosts is never called (the answer is not sent)."""
    content_type, body = hostile_bodies(elsewhere.url("/hook"))["command"]
    ts = str(int(time.time()))
    response = await slack_client.post(
        "/slack/events",
        data=body,
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature(body, ts),
        },
    )
    assert response.status == 200
    await deps.inflight.drain(5)
    assert elsewhere.hits == []
    assert fake_slack.calls_to("response_url") == []


# ---------------------------------------------------------------------------------------------
# The property: generated header and body combinations
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    body_kind: str
    content_type: str | None
    timestamps: tuple[str, ...]  # every X-Slack-Request-Timestamp header sent (repeats included)
    signatures: tuple[str, ...]
    huge: bool


#: Any text a client can put in a header value (no control characters: HTTP clients refuse them).
HEADER_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=60)


def _timestamps(now: int) -> st.SearchStrategy[str]:
    fresh = str(now)
    return st.one_of(
        st.just(fresh),
        st.just(str(now - 400)),
        st.integers(min_value=4301, max_value=12_000).map(lambda n: "9" * n),
        st.integers(min_value=13, max_value=200).map(lambda n: "1" * n),
        st.sampled_from(
            [
                f" {fresh} ",
                f"+{fresh}",
                f"-{fresh}",
                f"{fresh[:4]}_{fresh[4:]}",
                f"{fresh}.0",
                fresh.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
                fresh.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
                hex(now),
                "",
                "0",
                "NaN",
                "1e10",
            ]
        ),
        HEADER_TEXT,
    )


def _signatures() -> st.SearchStrategy[str]:
    hex64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
    return st.one_of(
        st.just("<correct>"),  # replaced by the signature of this body and first timestamp
        st.just("<correct-upper>"),
        st.just("<other-secret>"),
        hex64.map(lambda h: f"v0={h}"),
        hex64.map(lambda h: f"v1={h}"),
        st.integers(min_value=100, max_value=7000).map(lambda n: "v0=" + "a" * n),
        st.sampled_from(["", "v0=", "v0=é" + "a" * 62, "v0=" + "A" * 64, "sha256=" + "0" * 64]),
        HEADER_TEXT,
    )


def _cases(now: int, bodies: list[str]) -> st.SearchStrategy[Case]:
    return st.builds(
        Case,
        body_kind=st.sampled_from(bodies),
        content_type=st.sampled_from([None, FORM, JSON, "text/plain", "multipart/form-data; boundary=x"]),
        timestamps=st.lists(_timestamps(now), min_size=0, max_size=3).map(tuple),
        signatures=st.lists(_signatures(), min_size=0, max_size=3).map(tuple),
        huge=st.booleans() | st.just(False),
    )


def _headers_for(case: Case, body: bytes, content_type: str) -> tuple[CIMultiDict[str], bool]:
    """The headers to send, and whether the request is really signed (the oracle, written apart
    from the code under test: one timestamp of ASCII digits within 5 minutes, one correct signature)."""
    headers: CIMultiDict[str] = CIMultiDict()
    headers["Content-Type"] = case.content_type or content_type
    first_ts = case.timestamps[0] if case.timestamps else ""
    for ts in case.timestamps:
        headers.add("X-Slack-Request-Timestamp", ts)
    for sig in case.signatures:
        if sig == "<correct>":
            sig = signature(body, first_ts)
        elif sig == "<correct-upper>":
            sig = signature(body, first_ts).upper()
        elif sig == "<other-secret>":
            sig = signature(body, first_ts, secret="0" * 32)
        headers.add("X-Slack-Signature", sig)
    sent_sigs = headers.getall("X-Slack-Signature", [])
    signed = (
        len(case.timestamps) == 1
        and first_ts.isascii()
        and first_ts.isdigit()
        and len(first_ts) <= 12
        and abs(time.time() - int(first_ts)) <= 290  # a margin for the time the request takes
        and len(sent_sigs) == 1
        and sent_sigs[0] == signature(body, first_ts)
        and len(body) < 1024**2
    )
    return headers, signed


async def test_no_request_that_slack_did_not_sign_has_any_effect(
    slack_client: TestClient[Any, Any],
    fake_slack: FakeSlack,
    elsewhere: Elsewhere,
    deps: Deps,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Property: for generated header/body combinations, every response is 401 with nothing sent
    (no Web API call, no outbound request, no traceback), or the request really was signed."""
    caplog.set_level(logging.INFO)
    bodies = hostile_bodies(elsewhere.url("/steal"))
    now = int(time.time())
    cases = draw(_cases(now, sorted(bodies)), 160)
    # The property needs both sides: make sure some cases really are signed.
    cases += [Case(kind, None, (str(now),), ("<correct>",), False) for kind in ("command", "event")]
    refused = served = 0
    for case in cases:
        content_type, body = bodies[case.body_kind]
        if case.huge:
            body += b"&pad=" + b"x" * (1024**2 + 10)
        headers, signed = _headers_for(case, body, content_type)
        fake_slack.reset()
        before = len(caplog.records)
        data = io.BytesIO(body) if case.huge else body  # aiohttp warns about large raw bytes
        response = await slack_client.post("/slack/events", data=data, headers=headers)
        await deps.inflight.drain(5)
        assert elsewhere.hits == [], case
        new = caplog.records[before:]
        assert [r for r in new if r.levelno >= logging.ERROR or r.exc_info] == [], case
        if signed:
            served += 1
            assert response.status != 401, case
            continue
        refused += 1
        # A header line over the HTTP parser's 8 KiB limit never becomes a request: aiohttp says 400.
        too_long = any(len(f"{k}: {v}".encode()) > 8190 for k, v in headers.items())
        assert response.status == (400 if too_long else 401), case
        assert fake_slack.calls == [], case
    CASES.info("unverified requests: %d refused, %d signed and served", refused, served)
    assert refused >= 100 and served >= 2


# ---------------------------------------------------------------------------------------------
# The pure parts
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timestamps", "signatures", "ok"),
    [
        (["{now}"], ["{sig}"], True),
        (["{now}", "{now}"], ["{sig}"], False),  # repeated header: which one was signed?
        (["{now}"], ["{sig}", "{sig}"], False),
        ([" {now}"], ["{sig}"], False),
        (["{fullwidth}"], ["{sig}"], False),  # int() reads it; Slack never sends it
        (["9" * 5000], ["{sig}"], False),  # int() raises past 4,300 digits
        (["{now}"], ["{SIG}"], False),
        ([], ["{sig}"], False),
    ],
)
def test_the_signature_check_refuses_every_form_slack_does_not_send(
    timestamps: list[str], signatures: list[str], ok: bool
) -> None:
    now = 1_767_225_600
    body = b"token=x&command=%2Fsns-kpi"
    sig = signature(body, str(now))
    fullwidth = str(now).translate(str.maketrans("0123456789", "０１２３４５６７８９"))

    def fill(value: str) -> str:
        return value.format(now=now, sig=sig, SIG=sig.upper(), fullwidth=fullwidth)

    check = SignatureCheck(SIGNING_SECRET, now=lambda: float(now))
    result = check.verify(
        timestamp=[fill(t) for t in timestamps], signature=[fill(s) for s in signatures], body=body
    )
    assert result is ok
    assert (
        SignatureCheck(None, now=lambda: float(now)).verify(timestamp=[str(now)], signature=[sig], body=body)
        is False
    )


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hooks.slack.com/commands/T0001/1/abc", True),
        ("https://hooks.slack.com/actions/T0001/1/abc", True),
        ("http://hooks.slack.com/commands/T0001/1/abc", False),
        ("https://hooks.slack.com:8443/commands/T0001/1/abc", False),
        ("https://user:pw@hooks.slack.com/commands/x", False),
        ("https://hooks.slack.com.evil.example/commands/x", False),
        ("https://evil.example/?https://hooks.slack.com/", False),
        ("http://169.254.169.254/latest/meta-data/", False),
        ("http://127.0.0.1:8889/response/x", True),  # SLACK_API_URL's host (tests)
        ("http://127.0.0.1:8890/response/x", False),
        ("https://[::1/x", False),
        ("javascript:alert(1)", False),
        (None, False),
    ],
)
def test_response_urls_are_called_only_on_slacks_hosts(url: Any, ok: bool) -> None:
    assert response_url_allowed(url, api_url="http://127.0.0.1:8889/api/") is ok


async def test_the_error_handler_answers_only_requests_slack_signed(
    deps: Deps, fake_slack: FakeSlack, elsewhere: Elsewhere, caplog: pytest.LogCaptureFixture
) -> None:
    """Behind the HTTP edge too: Bolt's own dispatch of a request whose verification raises (the
    verifier's ``int()`` on a 5,000-digit timestamp) must not answer the body's user or URL."""
    from slack_bolt.request.async_request import AsyncBoltRequest

    from bot.app import build_app

    caplog.set_level(logging.INFO)
    app = build_app(deps)
    _content_type, body = hostile_bodies(elsewhere.url("/steal"))["interactive"]
    request = AsyncBoltRequest(
        body=body.decode(),
        headers={
            "content-type": FORM,
            "x-slack-request-timestamp": "9" * 5000,
            "x-slack-signature": "v0=" + "0" * 64,
        },
    )
    response = await app.async_dispatch(request)
    await deps.inflight.drain(5)
    assert response.status == 401
    assert fake_slack.calls == []
    assert elsewhere.hits == []
