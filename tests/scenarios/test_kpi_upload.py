"""Import from Slack, through signed events and clicks and the fake Slack: a file dropped into the bot's
DM gives one preview for its two events (and their retries), Import stores it once and updates the
message in place, Cancel stores nothing, and someone who may not record values is refused politely."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.kpi.ids import ActionId
from bot.kpi.models import KpiUpload, KpiValue, Post
from bot.runtime.deps import Deps
from tests.conftest import BOT_TOKEN, MANAGER, OPERATOR
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack

DATA = Path(__file__).parents[1] / "kpi" / "data"


def _dm(user: str) -> str:
    return "D" + user[1:]


def _file_share(info: dict[str, Any], *, user: str) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "file_share",
        "text": "",
        "user": user,
        "upload": True,
        "display_as_bot": False,
        "files": [info],
        "ts": "1767225700.000100",
        "channel": _dm(user),
        "event_ts": "1767225700.000100",
        "channel_type": "im",
    }


def _file_shared(info: dict[str, Any], *, user: str) -> dict[str, Any]:
    return {
        "type": "file_shared",
        "channel_id": _dm(user),
        "file_id": info["id"],
        "user_id": user,
        "file": {"id": info["id"]},
        "event_ts": "1767225700.000300",
    }


async def _drop(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps, *, user: str, name: str, content: bytes
) -> dict[str, Any]:
    """Upload a file the way Slack reports it: both events, in parallel, and a retry of one."""
    info = fake_slack.share_file(user=user, channel=_dm(user), name=name, content=content)
    answers = await asyncio.gather(
        sender.event(payloads.event(_file_share(info, user=user), event_id=f"Ev{info['id']}S")),
        sender.event(payloads.event(_file_shared(info, user=user), event_id=f"Ev{info['id']}F")),
    )
    retry = await sender.event(
        payloads.event(_file_shared(info, user=user), event_id=f"Ev{info['id']}F"),
        retry_num=1,
        retry_reason="timeout",
    )
    assert [a.status for a in answers] + [retry.status] == [200, 200, 200]
    await deps.inflight.drain(10)
    return info


def _bot_messages(fake_slack: FakeSlack, user: str) -> list[dict[str, Any]]:
    return [m for m in fake_slack.messages(_dm(user)) if m.get("bot_id")]


def _texts(message: dict[str, Any]) -> str:
    out: list[str] = []
    for block in message.get("blocks") or []:
        if isinstance(block.get("text"), dict):
            out.append(block["text"]["text"])
        out += [f["text"] for f in block.get("fields") or []]
        out += [
            e.get("text", "")
            for e in block.get("elements") or []
            if isinstance(e, dict) and e.get("type") == "mrkdwn"
        ]
    return "\n".join(out)


def _buttons(message: dict[str, Any]) -> dict[str, str]:
    return {
        e["action_id"]: e["value"]
        for b in message.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
    }


def _click(
    action: str, value: str, *, user: str, message: dict[str, Any], fake_slack: FakeSlack
) -> dict[str, Any]:
    return payloads.block_action(
        action,
        value,
        user_id=user,
        channel_id=_dm(user),
        message=message,
        response_url=fake_slack.response_url(f"click-{action}"),
    )


async def _count(deps: Deps, column: Any) -> int:
    async with deps.sessions() as session:
        return int((await session.execute(select(func.count(column)))).scalar_one())


async def test_both_events_of_one_upload_give_one_preview_and_import_stores_it_once(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.download_token = BOT_TOKEN
    info = await _drop(
        sender,
        fake_slack,
        deps,
        user=MANAGER,
        name="posts.csv",
        content=(DATA / "x_content_en.csv").read_bytes(),
    )

    # One preview for the two events and the retry; nothing stored yet.
    (preview,) = _bot_messages(fake_slack, MANAGER)
    assert len(fake_slack.calls_to("download")) == 1
    download = fake_slack.calls_to("download")[0]
    assert download.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert [c.params["file"] for c in fake_slack.calls_to("files.info")] == [info["id"]]
    body = _texts(preview)
    assert "*posts.csv*" in body and "まだ何も保存していません" in body
    assert "*形式*\nX アナリティクス「コンテンツ」" in body
    assert "*アカウント*\nX 公式 (@example_corp)" in body
    assert "*期間*\n2026-06-05 〜 2026-07-14" in body
    assert "*投稿*\n新規 2 件、更新 0 件、変更なし 0 件" in body
    assert await _count(deps, Post.id) == 0
    buttons = _buttons(preview)
    assert set(buttons) == {ActionId.UPLOAD_IMPORT, ActionId.UPLOAD_CANCEL}

    # Import, clicked twice: imported once; the message is updated in place with the report.
    click = _click(
        ActionId.UPLOAD_IMPORT,
        buttons[ActionId.UPLOAD_IMPORT],
        user=MANAGER,
        message=preview,
        fake_slack=fake_slack,
    )
    first, second = await asyncio.gather(sender.interactive(click), sender.interactive(click))
    assert (first.status, second.status) == (200, 200)
    await deps.inflight.drain(10)
    assert await _count(deps, Post.id) == 2
    (done,) = _bot_messages(fake_slack, MANAGER)
    assert done["ts"] == preview["ts"]
    report = _texts(done)
    assert "インポートが完了しました" in report
    assert "投稿: 新規 2 件、更新 0 件、変更なし 0 件。" in report
    assert f"<@{MANAGER}> さんが Slack からインポートしました。" in report
    assert _buttons(done) == {}
    told = [c.params["text"] for c in fake_slack.calls_to("response_url")]
    assert told == ["このファイルはすでにインポート中です。"] or told == [
        "このファイルはすでにインポート済みです。"
    ]
    async with deps.sessions() as session:
        sources = set((await session.execute(select(Post.source))).scalars())
        status = (await session.execute(select(KpiUpload.status))).scalar_one()
    assert sources == {"import_slack"}
    assert status == "imported"
    # Progress was shown in the same message before the report.
    updates = [c.params for c in fake_slack.calls_to("chat.update") if c.params["ts"] == preview["ts"]]
    assert any("インポートしています" in u["text"] for u in updates)


async def test_a_kpi_file_imports_values_recorded_by_the_uploader_via_slack(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    content = b"kpi,period,value\nrecruiting_entries,2026-11,21\nbranded_search,2026-11,9000\n"
    await _drop(sender, fake_slack, deps, user=MANAGER, name="kpi.csv", content=content)
    (preview,) = _bot_messages(fake_slack, MANAGER)
    assert "*指標の値*\n新規 2 件、変更なし 0 件" in _texts(preview)
    click = _click(
        ActionId.UPLOAD_IMPORT,
        _buttons(preview)[ActionId.UPLOAD_IMPORT],
        user=MANAGER,
        message=preview,
        fake_slack=fake_slack,
    )
    await sender.interactive(click)
    await deps.inflight.drain(10)
    async with deps.sessions() as session:
        rows = (
            await session.execute(
                select(KpiValue.kpi_key, KpiValue.value, KpiValue.source, KpiValue.recorded_by)
            )
        ).all()
    assert sorted(rows) == [
        ("branded_search", 9000.0, "import_slack", MANAGER),
        ("recruiting_entries", 21.0, "import_slack", MANAGER),
    ]


async def test_cancel_stores_nothing_and_import_after_cancel_does_nothing(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    await _drop(
        sender,
        fake_slack,
        deps,
        user=MANAGER,
        name="posts.csv",
        content=(DATA / "x_content_en.csv").read_bytes(),
    )
    (preview,) = _bot_messages(fake_slack, MANAGER)
    buttons = _buttons(preview)
    await sender.interactive(
        _click(
            ActionId.UPLOAD_CANCEL,
            buttons[ActionId.UPLOAD_CANCEL],
            user=MANAGER,
            message=preview,
            fake_slack=fake_slack,
        )
    )
    await deps.inflight.drain(10)
    await sender.interactive(
        _click(
            ActionId.UPLOAD_IMPORT,
            buttons[ActionId.UPLOAD_IMPORT],
            user=MANAGER,
            message=preview,
            fake_slack=fake_slack,
        )
    )
    await deps.inflight.drain(10)
    assert await _count(deps, Post.id) == 0
    (cancelled,) = _bot_messages(fake_slack, MANAGER)
    assert "インポートをキャンセルしました" in _texts(cancelled)
    assert [c.params["text"] for c in fake_slack.calls_to("response_url")] == [
        "このインポートはキャンセル済みです。取り込む場合は、もう一度ファイルを送ってください。"
    ]


async def test_someone_who_may_not_record_values_is_refused_politely_and_nothing_is_downloaded(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    await _drop(
        sender,
        fake_slack,
        deps,
        user=OPERATOR,
        name="posts.csv",
        content=(DATA / "x_content_en.csv").read_bytes(),
    )
    (answer,) = _bot_messages(fake_slack, OPERATOR)
    assert answer["text"].startswith(
        "ファイルをお送りいただきありがとうございます。指標の実績を記録できるのは管理職と管理者のみです。"
    )
    assert fake_slack.calls_to("download") == [] and fake_slack.calls_to("files.info") == []
    assert _buttons(answer) == {}


async def test_someone_elses_click_does_nothing(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    await _drop(
        sender,
        fake_slack,
        deps,
        user=MANAGER,
        name="posts.csv",
        content=(DATA / "x_content_en.csv").read_bytes(),
    )
    (preview,) = _bot_messages(fake_slack, MANAGER)
    click = _click(
        ActionId.UPLOAD_IMPORT,
        _buttons(preview)[ActionId.UPLOAD_IMPORT],
        user=OPERATOR,
        message=preview,
        fake_slack=fake_slack,
    )
    await sender.interactive(click)
    await deps.inflight.drain(10)
    assert await _count(deps, Post.id) == 0
    assert [c.params["text"] for c in fake_slack.calls_to("response_url")] == [
        "インポートまたはキャンセルできるのは、このファイルを共有した方のみです。"
    ]


async def test_unknown_format_and_too_large_files_get_a_clear_error(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    await _drop(sender, fake_slack, deps, user=MANAGER, name="notes.csv", content=b"hello,world\n1,2\n")
    big = b"kpi,period,value\n" + b"recruiting_entries,2026-11,1\n" * 800_000  # ~23 MB > 20 MB
    await _drop(sender, fake_slack, deps, user=MANAGER, name="huge.csv", content=big)
    unknown, huge = _bot_messages(fake_slack, MANAGER)
    assert "*notes.csv* をインポートできませんでした" in _texts(unknown)
    assert "データは保存していません。" in _texts(unknown)
    assert "Slack から取り込めるのは 20 MB までです" in _texts(huge)
    assert len(fake_slack.calls_to("download")) == 1  # the large one was never downloaded
    assert _buttons(unknown) == _buttons(huge) == {}


async def test_a_download_without_the_token_is_refused_as_html(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.download_token = "xoxb-some-other-token"  # Slack serves its sign-in page instead
    await _drop(
        sender,
        fake_slack,
        deps,
        user=MANAGER,
        name="posts.csv",
        content=(DATA / "x_content_en.csv").read_bytes(),
    )
    (answer,) = _bot_messages(fake_slack, MANAGER)
    assert "Slack にダウンロードを拒否されました" in _texts(answer)
    assert await _count(deps, Post.id) == 0


async def test_the_search_console_zip_dropped_in_a_dm_previews_and_imports_through_import_file(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    from bot.kpi.models import DailyMetric
    from tests.kpi.test_imports import japanese_search_console_zip

    fake_slack.download_token = BOT_TOKEN
    content = japanese_search_console_zip(tmp_path).read_bytes()
    await _drop(sender, fake_slack, deps, user=MANAGER, name="example.com-Performance.zip", content=content)
    (preview,) = _bot_messages(fake_slack, MANAGER)
    body = _texts(preview)
    assert "*形式*\nGoogle Search Console 検索パフォーマンスのエクスポート（zip）" in body
    assert "*期間*\n2026-11-01 〜 2026-11-30" in body  # what Filters.csv states
    assert "*日別の値*\n新規 4 件、更新 0 件、変更なし 0 件" in body
    assert "*指標の値*\n新規 1 件、変更なし 0 件" in body
    # The configured "example" and "イグザンプル" match "ＥＸＡＭＰＬＥ 採用" and the NFD "イグザンプル ぷらす".
    assert "指名検索: 該当クエリ 3 件、クリック数 20、表示回数 490。" in body
    assert await _count(deps, DailyMetric.id) == 0
    click = _click(
        ActionId.UPLOAD_IMPORT,
        _buttons(preview)[ActionId.UPLOAD_IMPORT],
        user=MANAGER,
        message=preview,
        fake_slack=fake_slack,
    )
    await sender.interactive(click)
    await deps.inflight.drain(10)
    assert await _count(deps, DailyMetric.id) == 4
    async with deps.sessions() as session:
        row = (
            await session.execute(select(KpiValue.kpi_key, KpiValue.month, KpiValue.value, KpiValue.source))
        ).one()
    assert tuple(row) == ("branded_search", "2026-11", 490.0, "import_slack")


async def test_the_uploader_reads_the_preview_in_their_own_language(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.users[MANAGER] = {"locale": "en-US"}
    await _drop(
        sender,
        fake_slack,
        deps,
        user=MANAGER,
        name="posts.csv",
        content=(DATA / "x_content_en.csv").read_bytes(),
    )
    (preview,) = _bot_messages(fake_slack, MANAGER)
    body = _texts(preview)
    assert "*posts.csv*: here is what importing it would do. Nothing is saved yet." in body
    assert "*Posts*\n2 new, 0 updated, 0 unchanged" in body
