"""`sns-bot import` and `sns-bot collect` as a person runs them: report lines, exit codes, one transaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.clock import FixedClock
from bot.config import Settings
from bot.db import make_engine, make_sessionmaker
from bot.kpi.models import KpiValue, MetricSnapshot, Post
from tests.conftest import NOW, make_settings
from tests.kpi.cli_support import run_collect, run_import

HEADER = "account,url,published_at,text,impressions,engagements,likes,comments,shares,clicks\n"
POSTS = (
    HEADER
    + "x_corp,https://x.com/example_corp/status/1001,2026-11-02 09:00,新サービスのお知らせ,1000,30,,,,\n"
    + "x_corp,https://x.com/example_corp/status/1002,2026-11-05T12:00:00+09:00,採用説明会,2000,,40,10,5,5\n"
    + 'ig_recruit,https://instagram.com/p/abc,2026-11-06 18:30,"社員紹介, 第1回",1500,90,,,,\n'
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(db_url=f"sqlite:///{tmp_path / 'bot.db'}")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def _count(settings: Settings, model: type) -> int:
    engine = make_engine(settings.database.url)
    try:
        async with make_sessionmaker(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        await engine.dispose()


async def _import(settings: Settings, path: Path, *, kind: str = "posts", dry_run: bool = False) -> int:
    return await run_import(
        settings,
        kind=kind,  # type: ignore[arg-type]
        path=path,
        format_name=None,
        account=None,
        period=None,
        dry_run=dry_run,
        clock=FixedClock(NOW),
    )


async def test_generic_posts_import_then_reimport_adds_nothing(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "posts.csv", POSTS)
    assert await _import(settings, path) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "汎用CSV（投稿）（utf-8）として読み込みました。",
        "アカウント: ig_recruit、x_corp",
        "期間: 2026-11-02 〜 2026-11-06",
        "3 行を読み込みました（スキップ 0 行）。",
        "投稿: 新規 3 件、更新 0 件、変更なし 0 件。",
    ]
    assert (await _count(settings, Post), await _count(settings, MetricSnapshot)) == (3, 3)

    assert await _import(settings, path) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[4:] == [
        "投稿: 新規 0 件、更新 0 件、変更なし 3 件。",
        "新しいデータはありません。このファイルの内容はすべて登録済みです。",
    ]
    assert (await _count(settings, Post), await _count(settings, MetricSnapshot)) == (3, 3)

    changed = _write(tmp_path, "changed.csv", POSTS.replace(",1000,30,", ",1200,31,"))
    assert await _import(settings, changed) == 0
    assert capsys.readouterr().out.splitlines()[4] == "投稿: 新規 0 件、更新 1 件、変更なし 2 件。"
    assert (await _count(settings, Post), await _count(settings, MetricSnapshot)) == (3, 4)


async def test_a_bad_row_rejects_the_whole_file(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = POSTS + "x_corp,https://x.com/example_corp/status/1004,2026-11-07 10:00,告知,-5,,,,,\n"
    bad += "x_corp,https://x.com/example_corp/status/1005,2026-11-08 10:00,告知,abc,,,,,\n"
    path = _write(tmp_path, "bad.csv", bad)
    assert await _import(settings, path, dry_run=False) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "5行目: 「impressions」の「-5」がマイナスになっています。件数にマイナスの値は使えません。",
        "6行目: 「impressions」の「abc」を数値として読み取れません。",
        "2 行を取り込めなかったため、何もインポートしていません。該当行を修正して、もう一度インポートしてください。",
    ]
    assert await _count(settings, Post) == 0


async def test_dry_run_reports_and_writes_nothing(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "posts.csv", POSTS)
    assert await _import(settings, path, dry_run=True) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[4:] == [
        "投稿: 新規 3 件、更新 0 件、変更なし 0 件。",
        "ドライランのため、何も書き込んでいません。",
    ]
    assert await _count(settings, Post) == 0


async def test_generic_kpi_import_is_idempotent_and_refuses_derived_kpis(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write(
        tmp_path,
        "kpi.csv",
        "kpi,period,value\nrecruiting_entries,2026-10,21\nbranded_search,2026-11-15,11800\n",
    )
    assert await _import(settings, good, kind="kpi") == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "2 行を読み込みました（スキップ 0 行）。",
        "指標の値: 記録 2 件、変更なし 0 件。",
    ]
    assert await _import(settings, good, kind="kpi") == 0
    assert capsys.readouterr().out.splitlines()[2] == "指標の値: 記録 0 件、変更なし 2 件。"
    assert await _count(settings, KpiValue) == 2

    bad = _write(
        tmp_path, "bad.csv", "kpi,period,value\nrecruiting_entries,2026-11,3\nengagement_rate,2026-11,3.1\n"
    )
    assert await _import(settings, bad, kind="kpi") == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        "3行目: 指標「engagement_rate」は投稿の指標から計算されるため、値としてインポートできません。"
    )
    assert await _count(settings, KpiValue) == 2


async def test_file_level_problem_exits_1(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "empty.csv", "")
    assert await _import(settings, path) == 1
    assert capsys.readouterr().err.strip() != ""


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["import", "things", "x.csv"], environ={})
    assert info.value.code == 2


async def test_collect_without_tokens_says_so(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run_collect(settings, account=None, clock=FixedClock(NOW)) == 0
    assert capsys.readouterr().out.strip() == (
        "自動収集が設定されていません。指標を収集するには X_BEARER_TOKEN、INSTAGRAM_ACCESS_TOKEN、"
        "YOUTUBE_API_KEY のいずれかを設定してください。"
    )


async def test_collect_unknown_account_exits_1(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_collect(settings, account="nope", clock=FixedClock(NOW)) == 1
    assert "アカウント「nope」は設定されていません" in capsys.readouterr().err


async def test_posts_stored_by_someone_else_mid_import_refuse_the_file_cleanly(
    unmigrated_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings(db_url=unmigrated_db_url)
    path = _write(tmp_path, "posts.csv", POSTS)
    assert await _import(settings, path) == 0
    capsys.readouterr()

    # The collector (or a second import) stores these posts after this import looked them up and
    # before it inserts them: the lookup finds nothing, the insert meets the stored rows.
    async def looked_up_too_early(*_args: object, **_kwargs: object) -> dict[object, object]:
        return {}

    monkeypatch.setattr("bot.kpi.post_store._posts_by_key", looked_up_too_early)
    assert await _import(settings, path) == 1
    err = capsys.readouterr().err
    assert "同じ投稿が自動収集または別のインポートによって登録されました" in err
    assert "Traceback" not in err and "IntegrityError" not in err
    assert (await _count(settings, Post), await _count(settings, MetricSnapshot)) == (3, 3)
