"""An import refuses a field over 1 MiB with a localized error naming its line, having read little more
than the limit (issue 13, item 8). Before: any field was accepted, and pandas held it whole (a 200 MB
field peaked at 661 MB)."""

from __future__ import annotations

import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import BotError
from bot.i18n import translator
from bot.kpi.importers import iter_import
from bot.kpi.importers._stream import MAX_FIELD_CHARS, FieldLimit
from tests.conftest import make_settings
from tests.kpi.cli_support import run_import

TOKYO = ZoneInfo("Asia/Tokyo")
ACCOUNTS = {"x_corp": "x"}
HEADER = "account,url,published_at,text,impressions,engagements,likes,comments,shares,clicks\n"


def _row(n: int, text: str) -> str:
    return f"x_corp,https://x.com/a/status/{n},2026-11-02 09:00,{text},100,3,,,,\n"


def _posts_file(path: Path, text_of_row_3: str) -> Path:
    # Row 2 has a caption over two lines, so the long field starts on physical line 5.
    path.write_text(
        HEADER + _row(1, '"one\nline two"') + _row(2, "two") + _row(3, text_of_row_3) + _row(4, "four"),
        encoding="utf-8",
    )
    return path


def _error(call: object) -> BotError:
    with pytest.raises(BotError) as caught:
        call()  # type: ignore[operator]
    return caught.value


@pytest.mark.parametrize(
    "field",
    [
        "a" * (MAX_FIELD_CHARS + 1),  # unquoted
        '"' + ("x, y\n" * (MAX_FIELD_CHARS // 5)) + '"',  # quoted, commas and newlines inside
        '"' + ('say ""hi"" ' * (MAX_FIELD_CHARS // 10)) + '"',  # doubled quotes inside
    ],
    ids=["plain", "quoted-multiline", "doubled-quotes"],
)
def test_a_field_over_the_limit_is_refused_with_its_line(tmp_path: Path, field: str) -> None:
    path = _posts_file(tmp_path / "posts.csv", field)
    _, chunks = iter_import(path, kind="posts", format=None, tz=TOKYO, accounts=ACCOUNTS)

    error = _error(lambda: list(chunks))

    assert (error.key, error.params) == ("imports.errors.field_too_long", {"line": 5, "limit": "1,048,576"})
    assert translator("ja")(error.key, **error.params).startswith(
        "5行目に 1,048,576 文字を超える項目があります。"
    )


def test_a_long_caption_under_the_limit_is_imported(tmp_path: Path) -> None:
    caption = '"' + "長いキャプション, 改行も\n" * 20_000 + '"'  # ~300 k characters
    path = _posts_file(tmp_path / "posts.csv", caption)
    _, chunks = iter_import(path, kind="posts", format=None, tz=TOKYO, accounts=ACCOUNTS)
    read = list(chunks)
    assert [problem for chunk in read for problem in chunk.problems] == []
    posts = [post for chunk in read for post in chunk.posts.records()]
    assert len(posts) == 4 and len(posts[2].text or "") > 250_000


class _Endless(io.TextIOBase):
    """A field that never ends: ``a`` forever; counts what was read."""

    def __init__(self, start: str) -> None:
        self.start, self.read_chars = start, 0

    def read(self, size: int | None = -1) -> str:
        size = 262_144 if size is None or size < 0 else size
        text, self.start = (self.start + "a" * size)[:size], self.start[size:]
        self.read_chars += len(text)
        return text


def test_pandas_stops_reading_soon_after_the_limit() -> None:
    source = _Endless("kpi,period,value\nx,2026-01,")
    reader = pd.read_csv(
        FieldLimit(source, delimiter=",", first_line=1), header=None, dtype=str, chunksize=10
    )
    error = _error(lambda: list(reader))
    assert (error.key, error.params["line"]) == ("imports.errors.field_too_long", 2)
    assert source.read_chars < MAX_FIELD_CHARS + 2 * 262_144  # not the endless field


def _reference(text: str, delimiter: str, limit: int) -> int | None:
    """Line where the first field longer than ``limit`` starts (a plain character loop), else None."""
    line, start_line, run, quoted = 1, 1, 0, False
    for char in text:
        if char == '"':
            quoted = not quoted
        if not quoted and char in (delimiter, "\n"):
            if run > limit:
                return start_line
            run = 0
            start_line = line + (char == "\n")
        else:
            run += 1
        line += char == "\n"
    return start_line if run > limit else None


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet='ab,;"\n\r', max_size=300),
    limit=st.integers(min_value=1, max_value=40),
    block=st.integers(min_value=1, max_value=64),
    delimiter=st.sampled_from([",", ";"]),
)
def test_the_block_scanner_agrees_with_a_character_loop(
    text: str, limit: int, block: int, delimiter: str
) -> None:
    guard = FieldLimit(io.StringIO(text), delimiter=delimiter, first_line=1, limit=limit)
    expected = _reference(text, delimiter, limit)
    try:
        while guard.read(block):
            pass
    except BotError as error:
        assert expected is not None and error.params["line"] == expected
    else:
        assert expected is None


@pytest.mark.parametrize("in_child", [False, True], ids=["in-process", "parsing-child"])
async def test_sns_bot_import_refuses_the_file_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], in_child: bool
) -> None:
    settings = make_settings(db_url=f"sqlite:///{tmp_path / 'bot.db'}")
    path = _posts_file(tmp_path / "posts.csv", "b" * (5 * MAX_FIELD_CHARS))  # 5 MiB: a child parses it
    code = await run_import(
        settings,
        kind="posts",
        path=path,
        format_name=None,
        account=None,
        period=None,
        dry_run=False,
        parse_in_child=in_child,
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "5行目に 1,048,576 文字を超える項目があります。" in err
    from sqlalchemy import func, select

    from bot.db import make_engine, make_sessionmaker
    from bot.kpi.models import Post

    engine = make_engine(settings.database.url)
    try:
        async with make_sessionmaker(engine)() as session:
            assert await session.scalar(select(func.count()).select_from(Post)) == 0
    finally:
        await engine.dispose()
