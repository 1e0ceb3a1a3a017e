"""Parsing an import in a child process: the same store, report and refusals as in-process parsing;
a child that fails or dies becomes a localized refusal; no process outlives the import."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.clock import FixedClock
from bot.config import Settings
from bot.db import make_engine, make_sessionmaker
from bot.errors import BotError
from bot.i18n import translator
from bot.kpi.import_worker import ParseJob, ParseWorker
from tests.conftest import NOW, make_settings
from tests.kpi.cli_support import run_import

ROOT = Path(__file__).resolve().parents[2]
HEADER = "account,url,published_at,text,impressions,engagements,likes,comments,shares,clicks,external_id\n"
CHUNK_ROWS = 7


def _posts_csv(rows: int, *, bad_every: int = 0) -> str:
    """Generic posts: two platforms, multi-line and quoted captions, CRLF inside a caption, blank
    counters, a blank line, the same post twice (the later row wins), and unsorted ids."""
    lines = [HEADER]
    for i in range(rows):
        account = ("x_corp", "ig_recruit")[i % 2]
        base = "https://x.com/example_corp/status" if account == "x_corp" else "https://instagram.com/p"
        post = (i * 7919) % 1000 if i % 13 else 5  # post 5 comes back several times
        caption = ('"告知 ""その' + str(i) + '""\n2行目"', '"CRLF\r\ninside"', "plain text")[i % 3]
        impressions = "" if i % 4 == 0 else str(1000 + i)
        likes = "abc" if bad_every and i % bad_every == bad_every - 1 else str(i % 50)
        when = ("2026-11-02 09:00", "2026-11-05T12:00:00+09:00", "2026/11/06 18:30")[i % 3]
        external = "" if i % 5 else f"id-{post}"
        lines.append(
            f"{account},{base}/{post},{when},{caption},{impressions},,{likes},1,,{i % 3},{external}\n"
        )
        if i == rows // 2:
            lines.append("\n")
    return "".join(lines)


async def _run(settings: Settings, path: Path, *, child: bool, dry_run: bool = False, **kwargs: Any) -> int:
    return await run_import(
        settings,
        kind=kwargs.pop("kind", "posts"),
        path=path,
        format_name=kwargs.pop("format_name", None),
        account=kwargs.pop("account", None),
        period=kwargs.pop("period", None),
        dry_run=dry_run,
        chunk_rows=CHUNK_ROWS,
        clock=FixedClock(NOW),
        parse_in_child=child,
    )


async def _dump(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    engine = make_engine(settings.database.url)
    try:
        async with make_sessionmaker(engine)() as session:
            return {
                table: [
                    tuple(row) for row in await session.execute(text(f"SELECT * FROM {table} ORDER BY id"))
                ]
                for table in ("post", "metric_snapshot", "kpi_value")
            }
    finally:
        await engine.dispose()


async def _empty(settings: Settings) -> None:
    """Back to an empty store, ids included (so both runs can be compared row for row)."""
    engine = make_engine(settings.database.url)
    try:
        async with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                await conn.execute(text("TRUNCATE post, metric_snapshot, kpi_value RESTART IDENTITY CASCADE"))
            else:
                for table in ("metric_snapshot", "post", "kpi_value"):  # ids restart at max(id) + 1
                    await conn.execute(text(f"DELETE FROM {table}"))
    finally:
        await engine.dispose()


async def _both_ways(
    settings: Settings, path: Path, capsys: pytest.CaptureFixture[str], **kwargs: Any
) -> list[tuple[int, str, str, dict[str, list[tuple[Any, ...]]]]]:
    outcomes = []
    for child in (False, True):
        code = await _run(settings, path, child=child, **kwargs)
        captured = capsys.readouterr()
        outcomes.append((code, captured.out, captured.err, await _dump(settings)))
        await _empty(settings)
    return outcomes


async def test_a_child_parses_into_the_same_store_and_report(
    unmigrated_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(db_url=unmigrated_db_url)
    path = tmp_path / "posts.csv"
    path.write_bytes(_posts_csv(120).encode("utf-8"))

    in_process, in_child = await _both_ways(settings, path, capsys)

    assert in_child == in_process
    code, out, err, stored = in_child
    assert code == 0 and err == ""
    assert "120 行を読み込みました（スキップ 0 行）。" in out.splitlines()
    assert len(stored["post"]) > 50 and len(stored["metric_snapshot"]) > len(stored["post"])  # updates too


async def test_a_child_reports_the_same_rejected_rows_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(db_url=f"sqlite:///{tmp_path / 'bot.db'}")
    path = tmp_path / "bad.csv"
    path.write_bytes(_posts_csv(60, bad_every=17).encode("utf-8"))

    in_process, in_child = await _both_ways(settings, path, capsys)

    assert in_child == in_process
    code, _out, err, stored = in_child
    assert code == 1 and stored["post"] == []
    assert err.splitlines()[0].startswith(
        "29行目: 「likes」の「abc」"
    )  # line numbers count the multi-line captions
    assert len(err.splitlines()) == 4  # three rows, then the summary


@pytest.mark.parametrize("encoding", ["cp932", "utf-16", "utf-8-sig"])
async def test_a_child_reads_other_encodings_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str
) -> None:
    settings = make_settings(db_url=f"sqlite:///{tmp_path / 'bot.db'}")
    path = tmp_path / "posts.csv"
    path.write_bytes(_posts_csv(30).encode(encoding))

    in_process, in_child = await _both_ways(settings, path, capsys)

    assert in_child == in_process
    assert in_child[0] == 0 and f"（{encoding}）" in in_child[1].splitlines()[0]


async def test_a_dry_run_in_a_child_counts_the_same_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(db_url=f"sqlite:///{tmp_path / 'bot.db'}")
    path = tmp_path / "posts.csv"
    path.write_bytes(_posts_csv(40).encode("utf-8"))

    in_process, in_child = await _both_ways(settings, path, capsys, dry_run=True)

    assert in_child == in_process
    code, out, _err, stored = in_child
    assert code == 0 and out.splitlines()[-1] == "ドライランのため、何も書き込んでいません。"
    assert stored["post"] == []


@pytest.mark.parametrize(
    ("content", "kwargs"),
    [
        pytest.param(b"", {}, id="empty"),
        pytest.param(b"\x82\xa0\xff\xfe\x00\x81", {}, id="undecodable"),
        pytest.param(b"name,score\nfoo,1\n", {}, id="unknown-format"),
        pytest.param(
            HEADER.encode() + b"x_corp,https://x.com/a/1,2026-11-02,t,1,,,,,,\n",
            {"kind": "kpi"},
            id="wrong-kind",
        ),
        pytest.param(HEADER.encode(), {"account": "nope"}, id="unknown-account"),
        pytest.param(
            HEADER.encode() + b'x_corp,https://x.com/a/1,2026-11-02,"unclosed,1,,,,,,\n' * 3,
            {},
            id="malformed",
        ),
        pytest.param(
            b"query,clicks,impressions\nexample,1,2\n",
            {"format_name": "search_console_queries"},
            id="search-console-without-period",
        ),
    ],
)
async def test_a_child_refuses_a_file_with_the_same_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, kwargs: dict[str, Any]
) -> None:
    db_file = tmp_path / "bot.db"
    settings = make_settings(db_url=f"sqlite:///{db_file}")
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    outcomes = []
    for child in (False, True):
        code = await _run(settings, path, child=child, **dict(kwargs))
        outcomes.append((code, capsys.readouterr()))
    (code, captured), (child_code, child_captured) = outcomes
    assert (child_code, child_captured.out, child_captured.err) == (code, captured.out, captured.err)
    assert code == 1 and captured.err.strip() and "Traceback" not in captured.err


async def test_a_file_with_a_search_console_period_gives_the_same_kpi_in_a_child(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(db_url=f"sqlite:///{tmp_path / 'bot.db'}")
    path = tmp_path / "queries.csv"
    rows = "".join(f"example shop {i},{i},{10 * i},1.0%,3.2\n" for i in range(40))
    path.write_text("Top queries,Clicks,Impressions,CTR,Position\n" + rows, encoding="utf-8")

    in_process, in_child = await _both_ways(settings, path, capsys, kind="kpi", period="2026-10")

    assert in_child == in_process
    assert in_child[0] == 0 and len(in_child[3]["kpi_value"]) == 1


# -- failures of the child itself ---------------------------------------------------------------


def _job(path: Path, **changes: Any) -> ParseJob:
    settings = make_settings()
    fields: dict[str, Any] = {
        "path": path,
        "kind": "posts",
        "format": None,
        "tz": settings.tz,
        "accounts": {a.key: a.platform for a in settings.accounts},
        "account": None,
        "chunk_rows": CHUNK_ROWS,
        "period": None,
        "search_console": settings.search_console,
        "kpis": (),
    }
    return ParseJob(**{**fields, **changes})


def _gone(pid: int) -> bool:
    """No such process, or only its zombie is left (nobody has reaped it yet)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


#: Rows for the tests that kill the child after the first chunk: the child must still have chunks to
#: send then. It writes ahead until the pipe (64 KiB on Linux) is full; 100 rows in 7-row chunks fit
#: in it whole, so on a busy machine the child had already sent "end" (seen once in CI). ~290 chunks
#: are several hundred KiB.
KILLED_ROWS = 2000


def test_a_child_killed_mid_file_is_a_localized_failure_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_bytes(_posts_csv(KILLED_ROWS).encode("utf-8"))
    with ParseWorker(_job(path)) as worker:
        worker.start()
        assert worker.recognised().label_key == "imports.formats.generic_posts"
        chunks = worker.chunks()
        next(chunks)
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        with pytest.raises(BotError) as raised:
            list(chunks)
    assert raised.value.key == "kpi.import.worker_failed"
    assert raised.value.params == {"detail": "SIGKILL"}
    assert _gone(worker.pid)
    with pytest.raises(ChildProcessError):  # already reaped: no zombie left behind
        os.waitpid(worker.pid, os.WNOHANG)


def test_an_unexpected_error_in_the_child_comes_back_as_one_line(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_bytes(_posts_csv(20).encode("utf-8"))
    with ParseWorker(_job(path, tz=None)) as worker, pytest.raises(BotError) as raised:  # a bug, in effect
        worker.start()
        worker.recognised()
        list(worker.chunks())
    assert raised.value.key == "kpi.import.worker_failed"
    detail = raised.value.params["detail"]
    assert "Error" in detail and "\n" not in detail
    for locale in ("ja", "en"):
        assert detail in raised.value.render(translator(locale))


async def test_an_import_whose_child_dies_refuses_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(db_url=f"sqlite:///{tmp_path / 'bot.db'}")
    path = tmp_path / "posts.csv"
    path.write_bytes(_posts_csv(KILLED_ROWS).encode("utf-8"))
    pids: list[int] = []
    chunks = ParseWorker.chunks

    def killed_after_the_first_chunk(self: ParseWorker) -> Iterator[Any]:
        stream = chunks(self)
        yield next(stream)
        assert self.pid is not None
        pids.append(self.pid)
        os.kill(self.pid, signal.SIGKILL)
        yield from stream

    monkeypatch.setattr(ParseWorker, "chunks", killed_after_the_first_chunk)
    assert await _run(settings, path, child=True) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        "ファイルを読み込むプロセスが途中で止まったため（SIGKILL）、何もインポートしていません。"
        "もう一度インポートしてください。繰り返し起きる場合は管理者に連絡してください。"
    )
    assert "Traceback" not in err
    assert (await _dump(settings))["post"] == []
    assert pids and _gone(pids[0])


# -- the real command, signalled -------------------------------------------------------------------

CONFIG = """
locale = "en"
timezone = "Asia/Tokyo"
[database]
url = "sqlite:///{db}"
[roles]
managers = ["U0MANAGER1"]
admins = ["U0ADMIN001"]
[review]
channel = "C0REVIEW01"
[[accounts]]
key = "x_corp"
platform = "x"
handle = "@example_corp"
name = "X"
"""


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.fixture
def big_import(tmp_path: Path) -> Iterator[tuple[list[str], dict[str, str]]]:
    """``python -m bot import posts`` of a file large enough to be parsed in a child (~6 MiB)."""
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write(HEADER)
        for i in range(60_000):
            f.write(f"x_corp,https://x.com/example_corp/status/{i},2026-11-02 09:00,告知 {i},{i},,1,1,1,1,\n")
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(db=tmp_path / "bot.db"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SNS_BOT_CONFIG")}
    env.update(SLACK_BOT_TOKEN="xoxb-1111-2222-testtokenvalue", PYTHONPATH=str(ROOT))
    yield [sys.executable, "-m", "bot", "import", "posts", str(path), "--config", str(config)], env


def _wait_for_child(process: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if children := _children(process.pid):
            return children[0]
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise AssertionError("the import started no parsing child")


def _wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.02)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_signalled_import_leaves_no_parsing_child(
    big_import: tuple[list[str], dict[str, str]], sig: signal.Signals
) -> None:
    argv, env = big_import
    with subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        child = _wait_for_child(process)
        process.send_signal(sig)
        process.communicate(timeout=30)
        assert _wait_gone(child), f"parsing child {child} outlived the import"


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _freeze(pid: int) -> bool:
    """SIGSTOP ``pid``; ``True`` once it is stopped, ``False`` when it had already finished."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1]
        except OSError:
            return False
        if state.split()[0] in ("T", "t"):
            return True
        if state.split()[0] in ("Z", "X"):
            return False
        time.sleep(0.01)
    return False


@pytest.mark.slow
def test_ctrl_c_stops_the_import_and_its_child(big_import: tuple[list[str], dict[str, str]]) -> None:
    """Ctrl-C in the middle of an import stops it (non-zero exit) and its child. The child is frozen
    first (SIGSTOP), so the import cannot have finished before the Ctrl-C arrives: on a loaded
    machine the test may see the child only at the end of its life, and then tries again."""
    argv, env = big_import
    for _attempt in range(5):
        with subprocess.Popen(
            argv,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            # As in a terminal's foreground job: a test run started in the background (nohup, `&`)
            # passes SIGINT on ignored, and the import would never hear the Ctrl-C.
            preexec_fn=_default_sigint,
        ) as process:
            child = _wait_for_child(process)
            try:
                frozen = _freeze(child)
                os.killpg(process.pid, signal.SIGINT)  # what a terminal does: the whole foreground group
                _out, err = process.communicate(timeout=30)
            finally:  # a failure must not leave a frozen child and a waiting import behind
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
            assert _wait_gone(child), f"parsing child {child} outlived the import"
        if frozen:
            break
    else:
        pytest.fail("the parsing child always finished before it could be frozen")
    assert process.returncode != 0
    assert "import_worker" not in err  # nothing from the child: it is not in the terminal's group


@pytest.mark.slow
def test_a_large_import_parses_in_a_child_and_keeps_pandas_out_of_the_writer(
    big_import: tuple[list[str], dict[str, str]],
) -> None:
    argv, env = big_import
    script = (
        "import runpy, sys\n"
        "sys.argv = ['bot', *sys.argv[1:]]\n"
        "try:\n"
        "    runpy.run_module('bot', run_name='__main__')\n"
        "finally:\n"
        "    print('pandas loaded:', 'pandas' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, *argv[3:]], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[3:] == [
        "Read 60,000 rows (0 skipped).",
        "Posts: 60,000 new, 0 updated, 0 unchanged.",
    ]
    assert "pandas loaded: False" in done.stderr
