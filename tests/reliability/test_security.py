"""Security (issue 8 item 6): request signatures and the replay window, mrkdwn escaping as a property
(pure and in every payload the bot really sends), secrets kept out of logs, errors and messages,
SQL-looking text stored verbatim, and tampered private_metadata refused against the store.
(The action × role table is in test_authorization_matrix.py.)"""

from __future__ import annotations

import io
import json
import logging
import re
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.config import Settings
from bot.digest.ids import WinTarget
from bot.digest.models import Win
from bot.home.ids import ActionId as HomeActionId
from bot.i18n import catalog
from bot.kpi.jobs import collect_all
from bot.kpi.models import CollectorRun, KpiValue
from bot.logs import configure_logging
from bot.platforms.x import XClient
from bot.review.ids import ActionId, BlockId, CallbackId, Decision, ModalMeta, RequestRef
from bot.review.models import ReviewEvent, ReviewRequest, ReviewRevision
from bot.runtime.deps import Deps
from bot.slack.blocks import escape, link, quote_sections, truncate
from tests.conftest import (
    ADMIN,
    APP_TOKEN,
    BOT_TOKEN,
    MANAGER,
    MANAGER2,
    NOW,
    OPERATOR,
    REVIEW_CHANNEL,
    SIGNING_SECRET,
    TEST_ENV,
    make_settings,
)
from tests.fakes import payloads
from tests.fakes.signing import FORM, SlackSender, sign, slash_command_body
from tests.fakes.slack import FakeSlack

#: Case counts of the end-to-end properties (shown with ``--log-cli-level=INFO``).
CASES = logging.getLogger("reliability.cases")

# ---------------------------------------------------------------------------------------------
# Signatures and the replay window
# ---------------------------------------------------------------------------------------------

WRITE = "set recruiting_entries 12"  # an admin's command that would write a KPI value if it ran
BYSTANDER = "U0BOB0001"  # neither an approver, a reviewer the requester picked, nor a manager


def _headers(body: bytes, *, ts: int, secret: str = SIGNING_SECRET) -> dict[str, str]:
    return {"Content-Type": FORM, **sign(secret, body, ts)}


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("unsigned", 401),
        ("no timestamp", 401),
        ("tampered signature", 401),
        ("body changed after signing", 401),
        ("signed with another secret", 401),
        ("stale (6 minutes old)", 401),
        ("future (6 minutes ahead)", 401),
        ("timestamp not a number", 401),
        ("signature not ASCII", 401),
        ("fresh (1 minute old)", 200),
    ],
)
async def test_only_fresh_correctly_signed_requests_are_served(
    slack_client: Any, fake_slack: FakeSlack, deps: Deps, case: str, status: int
) -> None:
    body = slash_command_body(
        payloads.slash_command("/sns-kpi", WRITE, user_id=ADMIN, response_url=fake_slack.response_url("sig"))
    )
    now = int(time.time())
    headers = _headers(body, ts=now)
    if case == "unsigned":
        headers = {"Content-Type": FORM}
    elif case == "no timestamp":
        del headers["X-Slack-Request-Timestamp"]
    elif case == "tampered signature":
        headers["X-Slack-Signature"] = headers["X-Slack-Signature"][:-4] + "beef"
    elif case == "body changed after signing":
        body = body.replace(b"12", b"99")
    elif case == "signed with another secret":
        headers = _headers(body, ts=now, secret="0" * 32)
    elif case.startswith("stale"):
        headers = _headers(body, ts=now - 360)
    elif case.startswith("future"):
        headers = _headers(body, ts=now + 360)
    elif case == "timestamp not a number":
        headers["X-Slack-Request-Timestamp"] = "yesterday"
    elif case == "signature not ASCII":
        headers["X-Slack-Signature"] = "v0=é" + headers["X-Slack-Signature"][4:]
    elif case.startswith("fresh"):
        headers = _headers(body, ts=now - 60)
    response = await slack_client.post("/slack/events", data=body, headers=headers)
    assert response.status == status
    await deps.inflight.drain(5)
    async with deps.sessions() as session:
        written = await session.scalar(select(func.count()).select_from(KpiValue))
    assert written == (1 if status == 200 else 0)
    if status == 401:
        assert fake_slack.calls == []  # nothing ran: no answer, no Web API call


# ---------------------------------------------------------------------------------------------
# mrkdwn escaping
# ---------------------------------------------------------------------------------------------

#: Everything that could ping, link or break out of an escape if it slipped through.
PINGS = st.sampled_from(
    [
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<@U0EVIL001>",
        "<#C0EVIL01>",
        "<!subteam^S0EVIL01>",
        "<https://evil.example|見てね>",
        "<mailto:evil@example.com>",
        "&lt;!channel&gt;",
        "&amp;",
        "<",
        ">",
        "&",
        "|",
        "evil",
        "!here",
        "@channel",
        "<<!here>>",
        "&lt;",
        "<\n!channel>",
        "*太字*",
    ]
)
HOSTILE = st.lists(st.one_of(PINGS, st.text(max_size=5)), min_size=1, max_size=8).map("".join)
ENTITY = re.compile(r"&(amp|lt|gt);")


@examples(max_examples=300, deadline=None, database=None)
@given(HOSTILE, st.integers(min_value=2, max_value=60))
def test_escaped_text_cannot_contain_a_control_sequence(text: str, limit: int) -> None:
    escaped = escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert ENTITY.sub(lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], escaped) == text
    # A cut never leaves half an entity that Slack would show as "&am".
    cut = truncate(escaped, limit)
    assert all(ENTITY.match(cut, i) for i, ch in enumerate(cut) if ch == "&")
    for quoted in quote_sections(text, limit=limit + 10):
        assert "<" not in quoted and ">" not in quoted.replace("&gt; ", "").replace("&gt;", "")
        assert all(ENTITY.match(quoted, i) for i, ch in enumerate(quoted) if ch == "&")


@examples(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=30), HOSTILE)
def test_links_have_exactly_the_target_the_bot_chose(url: str, label: str) -> None:
    out = link("https://acme.slack.com/archives/C0REVIEW01/p1" + url, label)
    assert re.fullmatch(r"<[^<>|]*\|[^<>|]*>", out, flags=re.DOTALL), out
    assert out.startswith("<https://acme.slack.com/archives/C0REVIEW01/p1")


def mrkdwn_texts(value: Any, *, top_level: bool) -> list[str]:
    """Texts Slack parses as mrkdwn: ``mrkdwn`` objects, and a message's top-level ``text``."""
    out: list[str] = []
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
            out.append(value["text"])
        for key, inner in value.items():
            if top_level and key == "text" and isinstance(inner, str):
                out.append(inner)
            elif isinstance(inner, dict | list):
                out += mrkdwn_texts(inner, top_level=False)
    elif isinstance(value, list):
        for inner in value:
            out += mrkdwn_texts(inner, top_level=False)
    return out


TOKEN = re.compile(r"<([^<>]*)>")
ALLOWED_TARGET = re.compile(
    r"@(U0MANAGER1|U0MANAGER2|U0ALICE01|U0ADMIN001|U0GROUPM01)|#C0[A-Z0-9]+|!date\^\d+\^[^|]*|https://(acme\.)?slack\.com/.*"
)


def pings_in(fake_slack: FakeSlack) -> list[str]:
    """Every ``<…>`` control sequence in what the bot sent whose target it did not choose itself."""
    bad = []
    for call in fake_slack.calls:
        if call.method not in (
            "chat.postMessage",
            "chat.update",
            "chat.postEphemeral",
            "response_url",
            "views.open",
            "views.update",
            "views.push",
            "views.publish",
            "files.completeUploadExternal",
        ):
            continue
        is_view = call.method.startswith("views.")
        for text in mrkdwn_texts(call.params, top_level=not is_view):
            for token in TOKEN.findall(text):
                target = token.split("|", 1)[0]
                if not ALLOWED_TARGET.fullmatch(target):
                    bad.append(f"{call.method}: <{token}>")
    return bad


def draw(strategy: st.SearchStrategy[str], n: int) -> list[str]:
    out: list[str] = []

    @examples(max_examples=n, deadline=None, database=None)
    @given(strategy)
    def collect(value: str) -> None:
        out.append(value)

    collect()
    return out


async def test_no_user_text_reaches_slack_as_a_ping_or_a_link(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps, clock: Any
) -> None:
    """Drafts, requests for feedback, comments, reasons, KPI errors that echo the input, the unknown
    subcommand line, wins and the digest that shows them, and the Home: every mrkdwn the bot sent."""
    texts = draw(HOSTILE.filter(lambda s: bool(s.strip()) and len(s) < 200), 12)
    texts += ["<!channel> 今すぐ <@U0EVIL001> <https://evil.example|ここ>", "&lt;!here&gt; <<!here>>"]
    for number, text in enumerate(texts):
        url = fake_slack.response_url(f"e{number}")
        # 1. A review request with the text as draft and as what feedback is wanted.
        values = {
            BlockId.ACCOUNT: {ActionId.ACCOUNT: payloads.selected_option("x_corp")},
            BlockId.DRAFT: {ActionId.DRAFT: payloads.text_input(text + " 下書き")},
            BlockId.PLANNED: {
                ActionId.PLANNED: {
                    "type": "datetimepicker",
                    "selected_date_time": int((NOW + timedelta(days=2)).timestamp()),
                }
            },
            "review_reviewers.x_corp": {
                ActionId.REVIEWERS: {"type": "multi_users_select", "selected_users": [MANAGER]}
            },
            BlockId.WANTED: {ActionId.WANTED: payloads.text_input(text)},
        }
        done = await sender.interactive(
            payloads.view_submission(
                CallbackId.REQUEST, values, user_id=OPERATOR, view_id=f"V0ESC{number:04d}"
            )
        )
        assert (done.status, done.body) == (200, b""), text
        await deps.inflight.drain(5)
        async with deps.sessions() as session:
            request_id = await session.scalar(select(func.max(ReviewRequest.id)))
        ref = RequestRef(int(request_id or 0), 1, 1)
        # 2. A comment, then changes requested, with the text in every feedback field.
        for decision, callback in (
            (Decision.COMMENT, CallbackId.FEEDBACK),
            (Decision.REQUEST_CHANGES, CallbackId.FEEDBACK),
        ):
            feedback = {
                BlockId.REASONS: {
                    ActionId.REASONS: {
                        "type": "checkboxes",
                        "selected_options": [
                            {"text": {"type": "plain_text", "text": "tone"}, "value": "tone"}
                        ]
                        if decision.needs_reasons
                        else [],
                    }
                },
                BlockId.WHAT_WORKS: {ActionId.WHAT_WORKS: payloads.text_input(text)},
                BlockId.WHAT_TO_CHANGE: {ActionId.WHAT_TO_CHANGE: payloads.text_input(text)},
                BlockId.COMMENT: {ActionId.FEEDBACK_COMMENT: payloads.text_input(text)},
            }
            reply = await sender.interactive(
                payloads.view_submission(
                    callback,
                    feedback,
                    private_metadata=ModalMeta(ref, decision, 0 if decision.needs_reasons else None).encode(),
                    user_id=MANAGER,
                )
            )
            assert (reply.status, reply.body) == (200, b""), text
            await deps.inflight.drain(5)
        # 3. KPI answers that echo what was typed.
        for command in (f"set recruiting_entries {text}", f"set {text} 5", f"{text} {text}", text):
            response = await sender.command(
                payloads.slash_command("/sns-kpi", command, user_id=ADMIN, response_url=url)
            )
            assert response.status == 200
        # 4. A win with the text, later shown in the digest preview.
        win = payloads.view_submission(
            "digest.win_modal",
            {"digest.win_what": {"digest.win_what_input": payloads.text_input(text)}},
            private_metadata=WinTarget("C0WINS001", f"1767225601.{number:06d}", OPERATOR).encode(),
            user_id=MANAGER2,
        )
        assert (await sender.interactive(win)).status == 200
        await deps.inflight.drain(5)
    # /sns-review list, the Homes and the digest preview show all of it at once.
    await sender.command(
        payloads.slash_command(
            "/sns-review", "list", user_id=OPERATOR, response_url=fake_slack.response_url("list")
        )
    )
    clock.advance(hours=24 * 7)
    home = {"id": "V0HOME0001", "type": "home", "state": {"values": {}}}
    await sender.interactive(payloads.block_action(HomeActionId.DIGEST_PREVIEW, user_id=ADMIN, view=home))
    for user in (OPERATOR, MANAGER):
        await sender.event(payloads.event(payloads.app_home_opened(user_id=user), event_id=f"Ev0HOME{user}"))
    await deps.inflight.drain(10)
    await fake_slack.wait_for("views.publish", count=2)
    assert await _count(deps, Win) == len(texts)
    assert len(fake_slack.messages(REVIEW_CHANNEL)) >= 3 * len(texts)
    assert pings_in(fake_slack) == []
    CASES.info(f"escaping end-to-end cases={len(texts)} payloads={len(fake_slack.calls)}")


async def _count(deps: Deps, model: Any) -> int:
    async with deps.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# ---------------------------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------------------------

X_TOKEN = "AAAAAAAAAAAAAAAAAAAAAXsecretbearer0123456789"
IG_TOKEN = "EAAGsecretinstagramtoken0123456789"
YT_KEY = "AIzaSyD-secret-youtube-key-0123456789"
SECRETS = (BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, X_TOKEN, IG_TOKEN, YT_KEY)


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    """Every secret the bot knows is configured, so any leak would show."""
    env = {
        **TEST_ENV,
        "X_BEARER_TOKEN": X_TOKEN,
        "INSTAGRAM_ACCESS_TOKEN": IG_TOKEN,
        "YOUTUBE_API_KEY": YT_KEY,
    }
    return make_settings(db_url=db_url, api_url=fake_slack.api_url, env=env)


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


async def test_secrets_appear_in_no_log_no_payload_and_no_answer(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps, caplog: pytest.LogCaptureFixture
) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging(level="DEBUG", fmt="json", secrets=SECRETS, stream=stream)  # the production handler
    root.addHandler(caplog.handler)  # and the raw records, before any redaction
    caplog.set_level(logging.DEBUG)
    try:
        # An unexpected failure (Slack refuses the modal), an HTML error page, and a refusal.
        fake_slack.fail("views.open", error="invalid_auth")
        fake_slack.fail("response_url", status=500, times=1)
        responses = [
            await sender.command(
                payloads.slash_command(
                    "/sns-review",
                    f"下書き {BOT_TOKEN}",
                    user_id=OPERATOR,
                    response_url=fake_slack.response_url("s1"),
                )
            ),
            await sender.command(
                payloads.slash_command(
                    "/sns-kpi",
                    f"set recruiting_entries {SIGNING_SECRET}",
                    user_id=OPERATOR,
                    response_url=fake_slack.response_url("s2"),
                )
            ),
            await sender.interactive(
                payloads.block_action(
                    ActionId.APPROVE, "1:1:1", user_id=MANAGER, response_url=fake_slack.response_url("s3")
                )
            ),
        ]
        await deps.inflight.drain(5)

        # A platform that answers 401 and echoes the credential it was sent (some do).
        def echo(request: httpx.Request) -> httpx.Response:
            sent = request.headers.get("authorization", "") + " " + str(request.url)
            return httpx.Response(
                401, json={"title": "Unauthorized", "detail": f"bad token {sent}", "status": 401}
            )

        async with httpx.AsyncClient(transport=httpx.MockTransport(echo)) as http:
            outcomes = await collect_all(
                sessions=deps.sessions,
                settings=deps.settings,
                platforms={"x": XClient(http, bearer_token=X_TOKEN, max_retries=0)},
                slack=deps.slack,
                now=NOW,
            )
        assert [o.status for o in outcomes] == ["failed"]
        rendered = [e.render(deps.t) for o in outcomes for e in o.errors]
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert fake_slack.calls_to("views.open") and fake_slack.calls_to("response_url")
    records = [
        r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
        for r in caplog.records
    ]
    assert any("unexpected error ref=" in r for r in records)  # the failure was logged…
    assert leaks("\n".join(records)) == []  # …without any secret, even before the redacting handler
    assert leaks(stream.getvalue()) == [] and "ref=" in stream.getvalue()
    # The one place a secret travels is the draft the person typed themselves, back into their modal.
    echoed = [c for c in fake_slack.calls if leaks(json.dumps(c.params, ensure_ascii=False))]
    assert [c.method for c in echoed] == ["views.open"]
    others = json.dumps([c.params for c in fake_slack.calls if c not in echoed], ensure_ascii=False)
    assert leaks(others) == [] and "Bearer ***" in others  # the platform's echo reached admins masked
    assert all(not leaks(r.text) for r in responses)
    assert all(not leaks(text) for text in rendered)
    async with deps.sessions() as session:
        stored = [r.error or "" for r in (await session.scalars(select(CollectorRun))).all()]
    assert stored and all(not leaks(text) for text in stored)


# ---------------------------------------------------------------------------------------------
# SQL-looking input, and private_metadata a client changed
# ---------------------------------------------------------------------------------------------

SQL = "Robert'); DROP TABLE review_request;-- \" OR 1=1; %s $1 ? \\' `x` /* */ UNION SELECT *"


async def test_sql_looking_text_is_stored_verbatim(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    values = {
        BlockId.ACCOUNT: {ActionId.ACCOUNT: payloads.selected_option("x_corp")},
        BlockId.DRAFT: {ActionId.DRAFT: payloads.text_input(SQL)},
        BlockId.PLANNED: {
            ActionId.PLANNED: {
                "type": "datetimepicker",
                "selected_date_time": int((NOW + timedelta(days=2)).timestamp()),
            }
        },
        "review_reviewers.x_corp": {
            ActionId.REVIEWERS: {"type": "multi_users_select", "selected_users": [MANAGER]}
        },
        BlockId.WANTED: {ActionId.WANTED: payloads.text_input(SQL)},
    }
    assert (
        await sender.interactive(payloads.view_submission(CallbackId.REQUEST, values, user_id=OPERATOR))
    ).body == b""
    await deps.inflight.drain(5)
    comment = {BlockId.COMMENT: {ActionId.FEEDBACK_COMMENT: payloads.text_input(SQL)}}
    meta = ModalMeta(RequestRef(1, 1, 1), Decision.COMMENT).encode()
    assert (
        await sender.interactive(
            payloads.view_submission(CallbackId.FEEDBACK, comment, private_metadata=meta, user_id=MANAGER)
        )
    ).body == b""
    win = payloads.view_submission(
        "digest.win_modal",
        {"digest.win_what": {"digest.win_what_input": payloads.text_input(SQL)}},
        private_metadata=WinTarget("C0WINS001", "1767225601.000200").encode(),
        user_id=MANAGER,
    )
    assert (await sender.interactive(win)).status == 200
    response = await sender.command(
        payloads.slash_command(
            "/sns-kpi", f"set {SQL}", user_id=ADMIN, response_url=fake_slack.response_url("sql")
        )
    )
    assert response.status == 200
    await deps.inflight.drain(5)
    async with deps.sessions() as session:
        assert (await session.scalars(select(ReviewRevision.text))).all() == [SQL]
        assert (await session.scalars(select(ReviewRequest.feedback_wanted))).all() == [SQL]
        assert (
            await session.scalars(select(ReviewEvent.comment).where(ReviewEvent.kind == "commented"))
        ).all() == [SQL]
        assert (await session.scalars(select(Win.what_happened))).all() == [SQL]
        assert await session.scalar(select(func.count()).select_from(KpiValue)) == 0


async def _request(
    sender: SlackSender, deps: Deps, *, requester: str, reviewer: str, view_id: str
) -> RequestRef:
    values = {
        BlockId.ACCOUNT: {ActionId.ACCOUNT: payloads.selected_option("x_corp")},
        BlockId.DRAFT: {ActionId.DRAFT: payloads.text_input("冬の限定ブレンド")},
        BlockId.PLANNED: {
            ActionId.PLANNED: {
                "type": "datetimepicker",
                "selected_date_time": int((NOW + timedelta(days=2)).timestamp()),
            }
        },
        "review_reviewers.x_corp": {
            ActionId.REVIEWERS: {"type": "multi_users_select", "selected_users": [reviewer]}
        },
    }
    done = await sender.interactive(
        payloads.view_submission(CallbackId.REQUEST, values, user_id=requester, view_id=view_id)
    )
    assert done.body == b""
    await deps.inflight.drain(5)
    async with deps.sessions() as session:
        return RequestRef(int(await session.scalar(select(func.max(ReviewRequest.id))) or 0), 1, 1)


async def test_private_metadata_changed_by_a_client_is_checked_against_the_store(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    mine = await _request(sender, deps, requester=OPERATOR, reviewer=MANAGER, view_id="V0R1")
    others = await _request(sender, deps, requester=MANAGER2, reviewer=ADMIN, view_id="V0R2")  # not MANAGER's
    t = deps.t
    reasons = {
        BlockId.REASONS: {
            ActionId.REASONS: {
                "type": "checkboxes",
                "selected_options": [{"text": {"type": "plain_text", "text": "tone"}, "value": "tone"}],
            }
        }
    }
    comment = {BlockId.COMMENT: {ActionId.FEEDBACK_COMMENT: payloads.text_input("ok")}}
    resubmit = {
        BlockId.DRAFT: {ActionId.DRAFT: payloads.text_input("書き直し")},
        BlockId.PLANNED: {
            ActionId.PLANNED: {
                "type": "datetimepicker",
                "selected_date_time": int((NOW + timedelta(days=2)).timestamp()),
            }
        },
    }
    publish = {
        BlockId.POST_URL: {
            ActionId.POST_URL: payloads.text_input(
                "https://x.com/example_corp/status/1", kind="url_text_input"
            )
        },
        BlockId.PUBLISHED_AT: {
            ActionId.PUBLISHED_AT: {"type": "datetimepicker", "selected_date_time": int(NOW.timestamp())}
        },
    }
    cases = [
        # (who, callback, values, metadata as the client sent it, the refusal)
        # Managers may decide any request (issue 13): someone who is neither approver nor manager.
        (
            BYSTANDER,
            CallbackId.APPROVE,
            comment,
            ModalMeta(others, Decision.APPROVE, 0),
            "review.errors.not_approver",
        ),
        (
            BYSTANDER,
            CallbackId.FEEDBACK,
            reasons,
            ModalMeta(others, Decision.REJECT, 0),
            "review.errors.not_approver",
        ),
        (
            OPERATOR,
            CallbackId.APPROVE,
            comment,
            ModalMeta(mine, Decision.APPROVE, 0),
            "review.errors.own_request",
        ),
        # A decision modal that does not say which step it showed, or names a step not reached yet.
        (
            MANAGER,
            CallbackId.APPROVE,
            comment,
            ModalMeta(mine, Decision.APPROVE),
            "review.errors.form_outdated",
        ),
        (
            MANAGER,
            CallbackId.APPROVE,
            comment,
            ModalMeta(mine, Decision.APPROVE, 1),
            "review.errors.wrong_step",
        ),
        (
            OPERATOR,
            CallbackId.FEEDBACK,
            comment,
            ModalMeta(others, Decision.COMMENT),
            "review.errors.not_reviewer",
        ),
        (
            MANAGER,
            CallbackId.APPROVE,
            comment,
            ModalMeta(RequestRef(mine.request_id, 7, 1), Decision.APPROVE, 0),
            "review.errors.stale",
        ),
        (
            MANAGER,
            CallbackId.APPROVE,
            comment,
            ModalMeta(RequestRef(999_999, 1, 1), Decision.APPROVE, 0),
            "review.errors.not_found",
        ),
        (OPERATOR, CallbackId.RESUBMIT, resubmit, ModalMeta(others), "review.errors.not_requester"),
        (OPERATOR, CallbackId.RESUBMIT, resubmit, ModalMeta(mine), "review.errors.not_resubmittable"),
        (OPERATOR, CallbackId.PUBLISH, publish, ModalMeta(mine), "review.errors.not_publishable"),
        (
            MANAGER,
            CallbackId.APPROVE,
            comment,
            ModalMeta(None, Decision.APPROVE),
            "review.errors.bad_reference",
        ),
    ]
    async with deps.sessions() as session:
        before = (
            await session.scalar(select(func.count()).select_from(ReviewEvent)),
            (await session.execute(select(ReviewRequest.status, ReviewRequest.version))).all(),
        )
    for user, callback, values, meta, key in cases:
        response = await sender.interactive(
            payloads.view_submission(callback, values, private_metadata=meta.encode(), user_id=user)
        )
        assert response.status == 200
        body = response.json() if response.body else {}
        if key == "review.errors.bad_reference":  # no request to show: the modal closes, a DM says why
            await deps.inflight.drain(5)
            assert not body and fake_slack.messages("D" + user[1:])[-1]["text"] == t(key)
            continue
        shown = json.dumps(body, ensure_ascii=False)
        assert body.get("response_action") in ("update", "errors"), (key, shown)
        # The refusal says why: the catalog text up to its first placeholder.
        assert catalog(t.locale)[key].split("{")[0][:6] in shown, (key, shown)
    await deps.inflight.drain(5)
    async with deps.sessions() as session:
        after = (
            await session.scalar(select(func.count()).select_from(ReviewEvent)),
            (await session.execute(select(ReviewRequest.status, ReviewRequest.version))).all(),
        )
    assert after == before
