""" "Share as SNS win": message shortcut → modal → stored win with permalink → next weekly digest."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.clock import FixedClock
from bot.digest.ids import ActionId, BlockId, CallbackId
from bot.digest.jobs import run_digest_job
from bot.digest.models import Win
from bot.runtime.deps import Deps
from tests.conftest import MANAGER, OPERATOR
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.scenarios.digest_seed import jst

MESSAGE = payloads.bot_message(
    text="採用リールが 2 日で 12 件のエントリーにつながりました <!here>", ts="1763600000.000100"
)
MESSAGE["user"] = OPERATOR


def values(what: str | None, kpi: str | None) -> dict[str, dict[str, dict[str, object]]]:
    return {
        BlockId.WIN_WHAT: {ActionId.WIN_WHAT: payloads.text_input(what)},
        BlockId.WIN_KPI: {
            ActionId.WIN_KPI: payloads.selected_option(kpi)
            if kpi
            else {"type": "static_select", "selected_option": None}
        },
    }


async def test_a_shared_win_is_stored_and_appears_in_the_next_weekly_digest(
    deps: Deps, clock: FixedClock, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    shortcut = payloads.message_shortcut(CallbackId.SHARE_WIN, MESSAGE, user_id=MANAGER)
    response = await sender.interactive(shortcut)
    assert response.status == 200
    (opened,) = await fake_slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == CallbackId.WIN_MODAL
    assert view["title"]["text"] == "SNS の成果として共有"

    submission = payloads.view_submission(
        CallbackId.WIN_MODAL,
        values("採用リールから 2 日で 12 件のエントリー", "recruiting_entries"),
        private_metadata=view["private_metadata"],
        user_id=MANAGER,
    )
    answer = await sender.interactive(submission)
    body = answer.json()
    assert body["response_action"] == "update"
    # Wednesday 2026-11-18: this week's wins are in the digest of Monday 2026-11-23 09:00.
    assert body["view"]["blocks"][0]["text"]["text"] == (
        ":tada: ありがとうございます！この成果は2026-11-23 09:00 の週次ハイライトで紹介されます。"
    )
    await deps.inflight.drain(5)
    async with deps.sessions() as session:
        win = (await session.scalars(select(Win))).one()
    assert (win.channel_id, win.message_ts, win.message_author, win.kpi_key, win.nominated_by) == (
        "C0DIGEST1",
        "1763600000.000100",
        OPERATOR,
        "recruiting_entries",
        MANAGER,
    )
    assert win.permalink == "https://acme.slack.com/archives/C0DIGEST1/p1763600000000100"

    clock.set(jst(2026, 11, 23, 9))
    await run_digest_job(deps, "weekly")
    (post,) = fake_slack.calls_to("chat.postMessage")
    wins = next(
        b["text"]["text"]
        for b in post.params["blocks"]
        if "text" in b and "共有された成果*" in b["text"]["text"]
    )
    assert wins == (
        "*:tada: チームから共有された成果*\n"
        f"• 採用リールから 2 日で 12 件のエントリー（<@{MANAGER}> さんが共有）・指標: 採用エントリー数 "
        "<https://acme.slack.com/archives/C0DIGEST1/p1763600000000100|メッセージ>"
    )


async def test_an_empty_win_is_refused_inline(deps: Deps, sender: SlackSender, fake_slack: FakeSlack) -> None:
    submission = payloads.view_submission(
        CallbackId.WIN_MODAL,
        values("   ", None),
        private_metadata=json.dumps({"channel_id": "C0DIGEST1", "message_ts": "1.2", "author": None}),
    )
    answer = await sender.interactive(submission)
    assert answer.json() == {
        "response_action": "errors",
        "errors": {BlockId.WIN_WHAT: "どんな成果があったかを入力してください。"},
    }
    await deps.inflight.drain(5)
    async with deps.sessions() as session:
        assert (await session.scalars(select(Win))).all() == []
