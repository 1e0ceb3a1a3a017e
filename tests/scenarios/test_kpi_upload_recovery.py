"""Import from Slack when things go wrong or take long: an import whose process died keeps its upload
"importing"; past the lease a later Import click (or the uploader's next drop, which gives its message
Import back) imports it, with a clear message; a long import shows rows/s and the time left."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from bot.clock import FixedClock
from bot.kpi import uploads
from bot.kpi.ids import ActionId
from bot.kpi.models import KpiUpload, Post
from bot.kpi.upload_store import IMPORT_LEASE
from bot.runtime.deps import Deps
from tests.conftest import MANAGER
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.scenarios.test_kpi_upload import DATA, _bot_messages, _buttons, _click, _count, _drop, _texts


async def _previewed(deps: Deps, sender: SlackSender, fake_slack: FakeSlack, name: str) -> dict[str, Any]:
    content = (DATA / "x_content_en.csv").read_bytes()
    await _drop(sender, fake_slack, deps, user=MANAGER, name=name, content=content)
    return _bot_messages(fake_slack, MANAGER)[-1]


async def _die_mid_import(deps: Deps, clock: FixedClock) -> None:
    """What a process that died after Import leaves: the row "importing" since then, nothing stored
    (the import is one transaction)."""
    async with deps.sessions.begin() as session:
        await session.execute(update(KpiUpload).values(status="importing", updated_at=clock.now()))


async def _status(deps: Deps) -> list[str]:
    async with deps.sessions() as session:
        return list((await session.scalars(select(KpiUpload.status).order_by(KpiUpload.id))).all())


async def _import_click(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps, message: dict[str, Any]
) -> None:
    click = _click(
        ActionId.UPLOAD_IMPORT,
        _buttons(message)[ActionId.UPLOAD_IMPORT],
        user=MANAGER,
        message=message,
        fake_slack=fake_slack,
    )
    assert (await sender.interactive(click)).status == 200
    assert await deps.inflight.drain(10)


async def test_an_import_that_died_is_imported_by_a_later_click_once_its_lease_ran_out(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    preview = await _previewed(deps, sender, fake_slack, "posts.csv")
    await _die_mid_import(deps, clock)

    # Within the lease the import may still be running elsewhere: the click is told so.
    clock.advance(minutes=5)
    await _import_click(sender, fake_slack, deps, preview)
    assert [c.params["text"] for c in fake_slack.calls_to("response_url")] == [
        "このファイルはすでにインポート中です。"
    ]
    assert await _count(deps, Post.id) == 0 and await _status(deps) == ["importing"]

    # Past the lease the click takes it over and imports, saying so.
    clock.advance(seconds=IMPORT_LEASE.total_seconds())
    await _import_click(sender, fake_slack, deps, preview)
    assert await _count(deps, Post.id) == 2 and await _status(deps) == ["imported"]
    updates = [c.params for c in fake_slack.calls_to("chat.update") if c.params["ts"] == preview["ts"]]
    restarted = [u for u in updates if "前回のインポートは完了前に中断されました" in _texts(u)]
    assert restarted and "インポートしています" in restarted[0]["text"]
    (done,) = _bot_messages(fake_slack, MANAGER)
    assert "インポートが完了しました" in _texts(done) and _buttons(done) == {}

    # A second click on the same old message changes nothing.
    await _import_click(sender, fake_slack, deps, preview)
    assert await _count(deps, Post.id) == 2
    assert (
        fake_slack.calls_to("response_url")[-1].params["text"] == "このファイルはすでにインポート済みです。"
    )


async def test_the_next_drop_gives_a_dead_import_its_import_button_back(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    first = await _previewed(deps, sender, fake_slack, "posts.csv")
    await _die_mid_import(deps, clock)
    clock.advance(seconds=IMPORT_LEASE.total_seconds() + 60)

    second = await _previewed(deps, sender, fake_slack, "posts-again.csv")
    assert second["ts"] != first["ts"]
    reopened = next(m for m in _bot_messages(fake_slack, MANAGER) if m["ts"] == first["ts"])
    assert "*posts.csv* のインポートは完了前に中断されました" in _texts(reopened)
    assert "保存済みの行が二重に数えられることはありません" in _texts(reopened)
    assert set(_buttons(reopened)) == {ActionId.UPLOAD_IMPORT, ActionId.UPLOAD_CANCEL}
    assert await _status(deps) == ["previewed", "previewed"]

    await _import_click(sender, fake_slack, deps, reopened)
    assert await _count(deps, Post.id) == 2
    assert await _status(deps) == ["imported", "previewed"]


async def test_a_drop_within_the_lease_leaves_a_running_import_alone(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    first = await _previewed(deps, sender, fake_slack, "posts.csv")
    await _die_mid_import(deps, clock)
    clock.advance(seconds=IMPORT_LEASE.total_seconds() - 60)
    await _previewed(deps, sender, fake_slack, "posts-again.csv")
    assert await _status(deps) == ["importing", "previewed"]
    still = next(m for m in _bot_messages(fake_slack, MANAGER) if m["ts"] == first["ts"])
    assert "中断" not in _texts(still)


async def test_a_long_import_shows_rows_per_second_and_the_time_left(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "CHUNK_ROWS", 10)  # several chunks from a small file
    monkeypatch.setattr(uploads, "PROGRESS_EVERY", 0.0)  # every chunk's progress is shown
    header = (
        "account,url,published_at,text,impressions,engagements,likes,comments,shares,clicks,external_id\n"
    )
    rows = "".join(
        f"x_corp,https://x.com/example_corp/status/{9000 + i},2026-11-02 09:00,告知 {i},{i},,1,1,1,1,\n"
        for i in range(60)
    )
    await _drop(sender, fake_slack, deps, user=MANAGER, name="posts.csv", content=(header + rows).encode())
    preview = _bot_messages(fake_slack, MANAGER)[-1]
    await _import_click(sender, fake_slack, deps, preview)
    assert await _count(deps, Post.id) == 60
    shown = [
        _texts(c.params)
        for c in fake_slack.calls_to("chat.update")
        if c.params["ts"] == preview["ts"] and "インポートしています" in c.params["text"]
    ]
    assert "開始しています…" in shown[0]
    ticks = [text for text in shown if "行を読み込みました" in text]
    assert ticks, shown
    assert all("毎秒" in text for text in ticks)
    assert any("残り約" in text and "%" in text for text in ticks[:-1]), ticks
