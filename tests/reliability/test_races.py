"""Retries and races, on SQLite and PostgreSQL with truly concurrent signed requests: an Events API
redelivery, a double-clicked button, a modal submitted twice and several managers deciding at once
each have exactly one effect."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import select

from bot.keys import ProcessedKey
from bot.kpi.ids import BlockId as KpiBlockId
from bot.kpi.ids import CallbackId as KpiCallbackId
from bot.kpi.models import KpiValue, Post
from bot.review.ids import ActionId, BlockId, CallbackId, Decision, ModalMeta
from bot.review.models import ReviewEvent, ReviewRequest
from bot.runtime.deps import Deps
from tests.conftest import ADMIN, MANAGER, MANAGER2, NOW, OPERATOR, REVIEW_CHANNEL
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.reliability.faults_support import (
    count,
    decision_click,
    decision_submission,
    dm,
    replies,
    request_submission,
    seed_request,
    top_level,
)

NOT_RECORDED = "記録されませんでした"


async def test_an_events_api_redelivery_has_no_second_effect(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    envelope = payloads.event(payloads.app_home_opened(user_id=MANAGER), event_id="Ev0RETRY001")
    assert (await sender.event(envelope)).status == 200
    await fake_slack.wait_for("views.publish")
    await deps.inflight.drain(10)
    # Slack did not see the answer in time and sends the same event again, twice, one at once.
    again = await asyncio.gather(
        sender.event(envelope, retry_num=1, retry_reason="http_timeout"),
        sender.event(envelope, retry_num=2, retry_reason="http_timeout"),
    )
    assert [r.status for r in again] == [200, 200]
    await deps.inflight.drain(10)
    assert len(fake_slack.calls_to("views.publish")) == 1
    assert await count(deps, ProcessedKey, ProcessedKey.key == "event:Ev0RETRY001") == 1

    # A new event (another opening of the Home) is not a redelivery: it publishes.
    other = payloads.event(payloads.app_home_opened(user_id=MANAGER), event_id="Ev0RETRY002")
    await sender.event(other)
    await fake_slack.wait_for("views.publish", count=2)


async def test_a_double_clicked_approve_and_both_forms_submitted_make_one_decision(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    request = await seed_request(deps)
    clicks = await asyncio.gather(
        sender.interactive(decision_click(fake_slack, request, MANAGER, name="c1")),
        sender.interactive(decision_click(fake_slack, request, MANAGER, name="c2")),
    )
    assert [c.status for c in clicks] == [200, 200]
    await deps.inflight.drain(10)
    assert await count(deps, ReviewEvent) == 1  # clicks decide nothing; only "requested"

    answers = await asyncio.gather(
        sender.interactive(decision_submission(request, MANAGER, view_id="V0DBL0001")),
        sender.interactive(decision_submission(request, MANAGER, view_id="V0DBL0002")),
    )
    await deps.inflight.drain(10)
    bodies = sorted((a.body for a in answers), key=len)
    assert bodies[0] == b""
    assert json.loads(bodies[1])["view"]["title"]["text"] == NOT_RECORDED
    assert await count(deps, ReviewEvent, ReviewEvent.kind == "approved") == 1
    (message,) = top_level(fake_slack, REVIEW_CHANNEL)
    assert len(fake_slack.calls_to("chat.update")) == 1
    assert len(replies(fake_slack, REVIEW_CHANNEL, message["ts"])) == 1
    assert len(fake_slack.messages(dm(OPERATOR))) == 1


async def test_the_request_form_submitted_twice_creates_one_request(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    same = request_submission(view_id="V0TWICE01")
    answers = await asyncio.gather(*(sender.interactive(same) for _ in range(3)))
    assert [(a.status, a.body) for a in answers] == [(200, b"")] * 3
    await deps.inflight.drain(10)
    assert await count(deps, ReviewRequest) == 1
    assert len(top_level(fake_slack, REVIEW_CHANNEL)) == 1
    assert len(fake_slack.messages(dm(OPERATOR))) == 1


async def test_the_home_kpi_form_submitted_twice_records_once(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    same = payloads.view_submission(
        KpiCallbackId.RECORD,
        {
            KpiBlockId.KPI: {"home.input.kpi": payloads.selected_option("recruiting_entries")},
            KpiBlockId.VALUE: {"home.input.value": payloads.text_input("17")},
            KpiBlockId.MONTH: {"home.input.month": payloads.selected_option("2026-11")},
        },
        user_id=MANAGER,
        view_id="V0KPITWICE",
    )
    answers = await asyncio.gather(sender.interactive(same), sender.interactive(same))
    assert [a.status for a in answers] == [200, 200]
    await deps.inflight.drain(10)
    async with deps.sessions() as session:
        rows = (await session.scalars(select(KpiValue))).all()
    assert [(r.kpi_key, r.month, r.value, r.recorded_by) for r in rows] == [
        ("recruiting_entries", "2026-11", 17.0, MANAGER)
    ]


async def test_three_deciders_at_once_make_exactly_one_decision(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    request = await seed_request(deps)
    answers = await asyncio.gather(
        sender.interactive(decision_submission(request, MANAGER, view_id="V0R1")),
        sender.interactive(decision_submission(request, MANAGER2, decision=Decision.REJECT, view_id="V0R2")),
        sender.interactive(
            decision_submission(request, ADMIN, decision=Decision.REQUEST_CHANGES, view_id="V0R3")
        ),
    )
    await deps.inflight.drain(10)
    assert sorted(a.body == b"" for a in answers) == [False, False, True]
    for loser in (a for a in answers if a.body):
        assert json.loads(loser.body)["view"]["title"]["text"] == NOT_RECORDED
    async with deps.sessions() as session:
        row = await session.get(ReviewRequest, request.id)
        kinds = (
            await session.scalars(select(ReviewEvent.kind).where(ReviewEvent.request_id == request.id))
        ).all()
    assert row is not None
    assert row.version == 2
    assert len(kinds) == 2 and kinds[0] == "requested"
    assert row.status == kinds[1]
    (message,) = top_level(fake_slack, REVIEW_CHANNEL)
    assert len(fake_slack.calls_to("chat.update")) == 1
    assert len(replies(fake_slack, REVIEW_CHANNEL, message["ts"])) == 1
    assert len(fake_slack.messages(dm(OPERATOR))) == 1


async def test_the_publish_form_submitted_twice_records_one_post(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    request = await seed_request(deps)
    await sender.interactive(decision_submission(request, MANAGER))
    await deps.inflight.drain(10)
    async with deps.sessions() as session:
        row = await session.get(ReviewRequest, request.id)
        assert row is not None
        ref_version = row.version
    meta = ModalMeta(ref=type(request.ref)(request.id, 1, ref_version)).encode()
    url = "https://x.com/example_corp/status/1861000000000000009"
    same = payloads.view_submission(
        CallbackId.PUBLISH,
        {
            BlockId.POST_URL: {ActionId.POST_URL: payloads.text_input(url, kind="url_text_input")},
            BlockId.PUBLISHED_AT: {
                ActionId.PUBLISHED_AT: {
                    "type": "datetimepicker",
                    "selected_date_time": int((NOW - timedelta(hours=1)).timestamp()),
                }
            },
        },
        private_metadata=meta,
        user_id=OPERATOR,
        view_id="V0PUB0001",
    )
    await asyncio.gather(sender.interactive(same), sender.interactive(same))
    await deps.inflight.drain(10)
    assert await count(deps, Post) == 1
    assert await count(deps, ReviewEvent, ReviewEvent.kind == "published") == 1
