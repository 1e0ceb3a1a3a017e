"""Late data corrects what was posted: a posted monthly digest is edited in place (``chat.update``) with
a new chart and CSV in its thread and an "updated on …" line, once per request and one update at a
time across replicas; from the command line (``--post --update``) and from the admin's preview."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from sqlalchemy import select

from bot import db
from bot.clock import FixedClock
from bot.digest.cli import digest_command
from bot.digest.ids import ActionId
from bot.digest.jobs import run_digest_job
from bot.digest.models import DigestRun
from bot.digest.updates import UpdateOutcome, update_digest
from bot.periods import PeriodKind, parse_period
from bot.runtime.deps import Deps
from tests.conftest import ADMIN, MGMT_CHANNEL, OPERATOR
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.scenarios.digest_seed import add_kpi, jst
from tests.scenarios.test_digest_monthly import seed_year

NOVEMBER = parse_period(PeriodKind.MONTHLY, "2026-11")


async def _stamped(deps: Deps) -> None:
    """The store the fixtures built holds the models' schema: tell Alembic so, as the CLI migrates."""
    from alembic import command

    await asyncio.to_thread(command.stamp, db.alembic_config(deps.settings.database.url), "head")


async def _posted(deps: Deps, clock: FixedClock, fake_slack: FakeSlack) -> str:
    await seed_year(deps)
    clock.set(jst(2026, 12, 1, 9))
    await run_digest_job(deps, "monthly")
    (top,) = [m for m in fake_slack.messages(MGMT_CHANNEL) if m.get("thread_ts", m["ts"]) == m["ts"]]
    # Search Console lags: November's branded searches arrive two days later.
    clock.set(jst(2026, 12, 3, 14))
    async with deps.sessions.begin() as s:
        await add_kpi(s, kpi="branded_search", month="2026-11", value=13100)
    return str(top["ts"])


def _thread_files(fake_slack: FakeSlack, ts: str) -> list[str]:
    return sorted(
        f["name"]
        for m in fake_slack.messages(MGMT_CHANNEL)
        if m.get("thread_ts") == ts and m["ts"] != ts
        for f in m.get("files") or []
    )


async def test_post_update_edits_the_digest_in_place_and_replaces_chart_and_csv(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    ts = await _posted(deps, clock, fake_slack)
    old_files = set(fake_slack.uploads)
    out, err = io.StringIO(), io.StringIO()
    await _stamped(deps)

    code = await digest_command(
        deps, kind=PeriodKind.MONTHLY, period="2026-11", post=True, chart=None, update=True, out=out, err=err
    )

    assert (code, err.getvalue()) == (0, "")
    assert out.getvalue() == f"月次 KPI レポート 2026-11 → {MGMT_CHANNEL}: その場で更新しました。\n"
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # nothing new in the channel
    (edit,) = fake_slack.calls_to("chat.update")
    assert (edit.params["channel"], edit.params["ts"]) == (MGMT_CHANNEL, ts)
    (top,) = [m for m in fake_slack.messages(MGMT_CHANNEL) if m.get("thread_ts", m["ts"]) == m["ts"]]
    assert "指名検索数は前月から 600 増えて 13,100（目標比 109%）となりました。" in top["text"]
    assert top["text"].endswith(":arrows_counterclockwise: 2026年12月3日 に最新のデータで更新しました。")
    assert top["blocks"][-1]["elements"][0]["text"] == (
        ":arrows_counterclockwise: 2026年12月3日 に最新のデータで更新しました。"
    )
    assert top["metadata"]["event_payload"] == {
        "kind": "monthly",
        "period": "2026-11",
        "channel": MGMT_CHANNEL,
    }
    # The old chart and CSV are deleted, new ones are in the thread.
    assert set(fake_slack.deleted_files) == old_files
    assert _thread_files(fake_slack, ts) == ["sns-kpi-2026-11.csv", "sns-kpi-2026-11.png"]
    new_csv = next(
        data
        for f, data in fake_slack.uploads.items()
        if f not in old_files and fake_slack.files[f]["name"].endswith(".csv")
    )
    assert "branded_search,指名検索数,2026-11,13100" in new_csv.decode("utf-8-sig")
    async with deps.sessions() as session:
        run = (await session.execute(select(DigestRun).where(DigestRun.kind == "monthly"))).scalar_one()
    assert (run.status, run.updated_at, run.update_by, run.update_lease_until) == (
        "posted",
        jst(2026, 12, 3, 14),
        None,
        None,
    )


async def test_one_request_updates_once_and_two_at_once_take_turns(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await _posted(deps, clock, fake_slack)
    first = await update_digest(deps, kind=PeriodKind.MONTHLY, period=NOVEMBER, request="req-1")
    again = await update_digest(deps, kind=PeriodKind.MONTHLY, period=NOVEMBER, request="req-1")
    assert [r.outcome for r in first] == [UpdateOutcome.UPDATED]
    assert [r.outcome for r in again] == [UpdateOutcome.DONE_BEFORE]
    assert len(fake_slack.calls_to("chat.update")) == 1

    # Two replicas with two different requests at the same moment: one edits, the other is told.
    fake_slack.fail("chat.update", delay=0.3)
    a, b = await asyncio.gather(
        update_digest(deps, kind=PeriodKind.MONTHLY, period=NOVEMBER, request="req-2", owner="replica-a"),
        update_digest(deps, kind=PeriodKind.MONTHLY, period=NOVEMBER, request="req-3", owner="replica-b"),
    )
    assert sorted(r.outcome for r in a + b) == [UpdateOutcome.BUSY, UpdateOutcome.UPDATED]
    assert len(fake_slack.calls_to("chat.update")) == 2


async def test_update_before_anything_was_posted_posts_it(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await seed_year(deps)
    clock.set(jst(2026, 12, 3, 14))
    out = io.StringIO()
    await _stamped(deps)
    code = await digest_command(
        deps, kind=PeriodKind.MONTHLY, period="2026-11", post=True, chart=None, update=True, out=out
    )
    assert code == 0
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert fake_slack.calls_to("chat.update") == []
    assert "2026-11" in out.getvalue() and MGMT_CHANNEL in out.getvalue()


async def test_update_needs_post(deps: Deps) -> None:
    err = io.StringIO()
    code = await digest_command(
        deps, kind=PeriodKind.MONTHLY, period="2026-11", post=False, chart=None, update=True, err=err
    )
    assert code == 1
    assert (
        err.getvalue()
        == "--update は投稿済みのレポートを更新するオプションです。--post と一緒に指定してください。\n"
    )


def _offer_button(fake_slack: FakeSlack) -> tuple[dict[str, Any], dict[str, Any]]:
    for call in fake_slack.calls_to("chat.postMessage"):
        for block in call.params.get("blocks") or []:
            if block["type"] == "actions":
                for element in block["elements"]:
                    if (
                        element["action_id"] == ActionId.UPDATE_POSTED
                        and element["value"] == "monthly:2026-11"
                    ):
                        message = next(
                            m
                            for m in fake_slack.messages(call.params["channel"].replace("U", "D", 1))
                            if m["text"] == call.params["text"]
                        )
                        return element, message
    raise AssertionError("no update button")


async def test_the_admins_preview_offers_the_update_and_a_click_updates_once(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack, sender: SlackSender
) -> None:
    ts = await _posted(deps, clock, fake_slack)
    home = {"id": "V0HOME0001", "type": "home", "state": {"values": {}}}
    await sender.interactive(payloads.block_action("home.digest_preview", "weekly", user_id=ADMIN, view=home))
    await deps.inflight.drain(10)
    button, offer = _offer_button(fake_slack)
    assert button["text"]["text"] == "月次 KPI レポート 2026-11 を更新"
    assert button["confirm"]["title"]["text"] == "投稿済みのレポートを更新しますか？"

    def click(user: str) -> dict[str, Any]:
        return payloads.block_action(
            ActionId.UPDATE_POSTED,
            button["value"],
            user_id=user,
            channel_id="D" + ADMIN[1:],
            message=offer,
            response_url=fake_slack.response_url(f"update-{user}"),
        )

    refused = await sender.interactive(click(OPERATOR))
    assert refused.status == 200
    await deps.inflight.drain(10)
    assert [c.params["ts"] for c in fake_slack.calls_to("chat.update")] == []

    # A double click (or Slack's retry) of the same button: one update.
    await asyncio.gather(sender.interactive(click(ADMIN)), sender.interactive(click(ADMIN)))
    await deps.inflight.drain(10)
    edits = [c.params for c in fake_slack.calls_to("chat.update")]
    assert [e["ts"] for e in edits if e["channel"] == MGMT_CHANNEL] == [ts]
    answer = next(e for e in edits if e["channel"] == "D" + ADMIN[1:])
    assert answer["text"] == f"月次 KPI レポート 2026-11 → <#{MGMT_CHANNEL}>: その場で更新しました。"
