"""Stream a CSV export in chunks into records, with the physical line of every row (pure, reads a file).

pandas' C parser does the tokenising (quotes, embedded newlines, doubled quotes); the physical line
of each record is recovered by counting the newlines inside its fields, so an error after a
multi-line caption still points at the right line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from bot.errors import BotError
from bot.kpi.columns import ImportChunk, PostColumns
from bot.kpi.importers._daily import DAILY_READERS
from bot.kpi.importers._detect import (
    HEAD_BYTES,
    DetectedFile,
    Header,
    confirm_encoding,
    decode_head,
    locate_header,
    sniff_encoding,
)
from bot.kpi.importers._formats import SPECS, FormatName, ImportFormat, refused_alone, resolve_format
from bot.kpi.importers._kpis import SearchConsoleOptions, SearchConsoleSum, read_generic_kpis
from bot.kpi.importers._posts import POST_READERS, PostContext, identity_key
from bot.kpi.importers._rows import Rows
from bot.kpi.records import BrandedTotals, DailyRecord, KpiRecord

#: Fields beyond the header we still tokenise, so a row with a stray unquoted comma becomes a
#: precise "too many fields" problem instead of aborting the whole file.
EXTRA_FIELDS = 8
#: The longest field (characters) a file may hold. Real exports' longest cells are captions of a
#: few thousand characters; pandas would hold a field of any size whole (a 200 MB one peaked at
#: 661 MB), so a file with a longer one is refused as soon as the reader gets past the limit.
MAX_FIELD_CHARS = 1 << 20


_Reader = Callable[[Rows], tuple[PostColumns, list[KpiRecord], list[DailyRecord]]]
_NO_POSTS = PostColumns.from_records([])


@dataclass(frozen=True, slots=True)
class _Plan:
    header: Header
    read: _Reader
    finish: Callable[[], list[KpiRecord]]
    branded: Callable[[], BrandedTotals] | None = None


def iter_import(
    path: Path,
    *,
    kind: Literal["posts", "kpi"] | None,
    format: str | None,
    tz: ZoneInfo,
    accounts: Mapping[str, str],
    account: str | None = None,
    chunk_rows: int = 50_000,
    search_console: SearchConsoleOptions | None = None,
    kpis: Collection[str] | None = None,
    identities: Mapping[str, Sequence[str]] | None = None,
    part_of_zip: bool = False,
) -> tuple[DetectedFile, Iterator[ImportChunk]]:
    """Recognise a CSV export and stream its rows as records.

    Everything that concerns the whole file (encoding, format, header columns, account, Search
    Console options) is checked before this returns; row-level problems come with the chunks.

    Args:
        path: the CSV file.
        kind: ``posts`` or ``kpi`` (what the user is importing).
        format: a name from ``FORMATS`` (or ``generic``); ``None`` recognises it from the file.
        tz: zone of times written without an offset (generic files, Meta, YouTube).
        accounts: configured account key → platform.
        account: which configured account a platform export belongs to; for generic files, the
            account of rows whose ``account`` cell is empty.
        chunk_rows: rows per chunk (memory stays bounded whatever the file size).
        search_console: required for a Search Console queries export.
        kpis: configured KPI keys; when given, generic KPI rows naming another key are rejected.
        identities: configured account key → its handle and platform id: rows of a platform export
            that name their account (X permalinks, Meta's account and page columns) are filed under
            the account they name, so one file may hold several accounts.
        part_of_zip: the file is a table unpacked from a Search Console zip (its ``Chart.csv`` is
            taken only then: alone, a table of that export says to import the zip or Queries.csv).

    Returns:
        The detected file and an iterator of chunks (the file is read while iterating).

    Raises:
        BotError: ``imports.errors.*`` — unreadable/empty/undecodable file, unknown format, wrong
            kind, missing columns, account not configured/ambiguous, missing Search Console options.
    """
    header = read_header(path, kind=kind, format=format)
    plan = _plan(
        header,
        tz=tz,
        accounts=accounts,
        account=account,
        search_console=search_console,
        kpis=kpis,
        identities=identities or {},
        part_of_zip=part_of_zip,
    )
    return header.detected, _chunks(path, plan, chunk_rows=chunk_rows)


def read_header(path: Path, *, kind: Literal["posts", "kpi"] | None, format: str | None = None) -> Header:
    """Recognise a file's encoding, header row and format (reads its start, and checks the whole
    file decodes).

    Raises:
        BotError: ``imports.errors.*`` as :func:`iter_import` does, before any row is read.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        raise BotError(
            "imports.errors.file_unreadable", path=str(path), detail=exc.strerror or str(exc)
        ) from exc
    forced = SPECS[resolve_format(format, kind=kind).name] if format else None
    encoding = confirm_encoding(path, sniff_encoding(head))
    return locate_header(decode_head(head, encoding), encoding=encoding, kind=kind, forced=forced)


def _plan(
    header: Header,
    *,
    tz: ZoneInfo,
    accounts: Mapping[str, str],
    account: str | None,
    search_console: SearchConsoleOptions | None,
    kpis: Collection[str] | None,
    identities: Mapping[str, Sequence[str]],
    part_of_zip: bool = False,
) -> _Plan:
    fmt = header.spec.format
    if refused_alone(fmt.name, part_of_zip=part_of_zip):
        raise BotError("imports.errors.search_console_part", header=", ".join(header.names)[:80])
    if fmt.name is FormatName.SEARCH_CONSOLE_QUERIES:
        summer = SearchConsoleSum(search_console, kpis=kpis)
        return _Plan(header, lambda rows: (_NO_POSTS, summer.read(rows), []), summer.finish, summer.totals)
    if fmt.kind == "kpi":
        return _Plan(header, lambda rows: (_NO_POSTS, read_generic_kpis(rows, kpis=kpis), []), list)
    # Rows are matched to accounts only when there is a choice (several accounts of the platform).
    several = sum(1 for platform in accounts.values() if platform == fmt.platform) > 1
    own = {
        identity_key(ident): key
        for key, idents in identities.items()
        if several and accounts.get(key) == fmt.platform
        for ident in idents
        if identity_key(ident)
    }
    ctx = PostContext(
        platform=fmt.platform,
        account=resolve_account(fmt, accounts=accounts, account=account, rows_say=bool(own)),
        accounts=accounts,
        tz=tz,
        identities=own if fmt.name in _ROWS_NAME_ACCOUNT else {},
    )
    if fmt.name in DAILY_READERS:
        daily = DAILY_READERS[fmt.name]

        def read_daily(rows: Rows) -> tuple[PostColumns, list[KpiRecord], list[DailyRecord]]:
            posts, days = daily(rows, ctx)
            return posts, [], days

        return _Plan(header, read_daily, list)
    reader = POST_READERS[fmt.name]
    return _Plan(header, lambda rows: (reader(rows, ctx), [], []), list)


#: Platform exports whose rows say which account they belong to (permalink, account or page column).
_ROWS_NAME_ACCOUNT = frozenset(
    {
        FormatName.X_TWEET_ACTIVITY,
        FormatName.X_CONTENT,
        FormatName.INSTAGRAM_POSTS,
        FormatName.FACEBOOK_POSTS,
    }
)


def resolve_account(
    fmt: ImportFormat, *, accounts: Mapping[str, str], account: str | None, rows_say: bool = False
) -> str | None:
    """The configured account a file's posts belong to (``None``: generic rows name their own).

    Args:
        rows_say: the file's rows may name their account; then several configured accounts of the
            platform are not ambiguous (``None``: each row is filed under the account it names).

    Raises:
        BotError: ``imports.errors.unknown_account_option``, ``...account_platform_mismatch``,
            ``...no_account``, ``...account_ambiguous``.
    """
    if account is not None:
        if account not in accounts:
            raise BotError(
                "imports.errors.unknown_account_option", account=account, choices=", ".join(accounts) or "-"
            )
        if fmt.platform is not None and accounts[account] != fmt.platform:
            raise BotError(
                "imports.errors.account_platform_mismatch",
                account=account,
                platform=accounts[account],
                expected=fmt.platform,
            )
        return account
    if fmt.platform is None or fmt.platform == "search_console":
        return None
    matching = sorted(key for key, platform in accounts.items() if platform == fmt.platform)
    if not matching:
        raise BotError("imports.errors.no_account", platform=fmt.platform)
    if len(matching) > 1:
        if rows_say and fmt.name in _ROWS_NAME_ACCOUNT:
            return None
        raise BotError("imports.errors.account_ambiguous", platform=fmt.platform, choices=", ".join(matching))
    return matching[0]


def _chunks(path: Path, plan: _Plan, *, chunk_rows: int) -> Iterator[ImportChunk]:
    detected = plan.header.detected
    width = len(plan.header.names)
    next_line = detected.header_line + 1
    # newline="" keeps "\r\n" inside quoted fields, so newline counting matches the file's lines.
    size = path.stat().st_size
    with path.open("r", encoding=detected.encoding, newline="") as handle:
        for line in range(1, detected.header_line + 1):
            if len(text := handle.readline(MAX_FIELD_CHARS)) == MAX_FIELD_CHARS and not text.endswith("\n"):
                raise _too_long(line)
        guarded = FieldLimit(handle, delimiter=detected.delimiter, first_line=next_line)
        try:
            reader = pd.read_csv(
                guarded,  # any object with read() will do
                sep=detected.delimiter,
                header=None,
                names=list(range(width + EXTRA_FIELDS)),
                dtype=str,
                na_filter=False,
                keep_default_na=False,
                skip_blank_lines=False,  # blank lines still count as lines; skipped below
                chunksize=chunk_rows,
                engine="c",
            )
        except pd.errors.ParserError as exc:  # the C parser tokenises its first rows right away
            raise _malformed(exc, header_line=detected.header_line, chunk_line=next_line) from exc
        with reader:
            while True:
                try:
                    frame = next(reader)
                except StopIteration:
                    break
                except pd.errors.ParserError as exc:
                    raise _malformed(exc, header_line=detected.header_line, chunk_line=next_line) from exc
                lines, next_line = _start_lines(frame, next_line)
                yield _convert(frame, lines, plan, width=width, position=_position(handle, size))
    final = plan.finish()
    if final or plan.branded is not None:
        branded = plan.branded() if plan.branded is not None else None
        yield ImportChunk(posts=_NO_POSTS, kpis=final, problems=[], rows=0, branded=branded, position=1.0)


class FieldLimit:
    """A text stream for pandas that refuses a field longer than ``limit`` characters.

    pandas reads in blocks (256 Ki characters); each block is scanned with numpy for field ends
    (the delimiter or a newline outside double quotes; a doubled quote inside a quoted field flips
    the state twice, so it needs no special case), carrying the open field's length and quote
    state across blocks. The error names the physical line the long field starts on.
    """

    def __init__(
        self, handle: TextIO, *, delimiter: str, first_line: int, limit: int = MAX_FIELD_CHARS
    ) -> None:
        self._handle = handle
        self._delimiter = ord(delimiter)
        self._limit = limit
        self._line = first_line  # physical line at the start of the next block
        self._run = 0  # characters of the field still open at the end of the last block
        self._run_line = first_line  # where that field started
        self._quoted = 0  # 1 while inside double quotes at the end of the last block

    def read(self, size: int = -1) -> str:
        block = self._handle.read(size)
        if block:
            self._scan(block)
        return block

    def _scan(self, block: str) -> None:
        codes = np.frombuffer(block.encode("utf-32-le"), dtype=np.uint32)
        quotes = codes == 0x22
        inside = (np.cumsum(quotes) - quotes + self._quoted) & 1  # quotes before each character
        newline = codes == 0x0A
        ends = np.flatnonzero(((codes == self._delimiter) | newline) & (inside == 0))
        newlines_before = np.cumsum(newline) - newline
        if len(ends) == 0:
            self._run += len(codes)
            if self._run > self._limit:
                raise _too_long(self._run_line)
        else:
            # Lengths of the fields ending in this block: the one carried over, then the others.
            lengths = np.diff(ends, prepend=-1) - 1
            lengths[0] += self._run
            if (over := np.flatnonzero(lengths > self._limit)).size:
                first = int(over[0])
                start_line = (
                    self._run_line if first == 0 else self._line + int(newlines_before[ends[first - 1] + 1])
                )
                raise _too_long(start_line)
            tail = len(codes) - int(ends[-1]) - 1
            tail_line = self._line + int(newlines_before[ends[-1]]) + int(newline[ends[-1]])
            if tail > self._limit:
                raise _too_long(tail_line)
            self._run, self._run_line = tail, tail_line
        self._quoted = int((int(quotes.sum()) + self._quoted) & 1)
        self._line += int(newline.sum())


def _too_long(line: int) -> BotError:
    return BotError("imports.errors.field_too_long", line=line, limit=f"{MAX_FIELD_CHARS:,}")


_PANDAS_LINE = re.compile(r"\bline (\d+)")
_PANDAS_ROW = re.compile(r"\brow (\d+)")


def _malformed(exc: pd.errors.ParserError, *, header_line: int, chunk_line: int) -> BotError:
    """A CSV the tokeniser gives up on (unclosed quote, far too many fields).

    pandas counts records from the first data row ("line 4" 1-based, "row 2" 0-based), which is the
    physical line unless earlier fields hold newlines, so the line we report is "near".
    """
    detail = str(exc).replace("Error tokenizing data. C error: ", "").strip()
    line = chunk_line
    if match := _PANDAS_LINE.search(detail):
        line = max(line, header_line + int(match.group(1)))
    elif match := _PANDAS_ROW.search(detail):
        line = max(line, header_line + 1 + int(match.group(1)))
    return BotError("imports.errors.malformed_csv", line=line, detail=detail)


def _start_lines(frame: pd.DataFrame, first: int) -> tuple[npt.NDArray[np.int64], int]:
    """The line each row starts on, and the line after the chunk."""
    newlines = np.zeros(len(frame), dtype=np.int64)
    for label in frame.columns:
        cells = frame[label].tolist()
        if "\n" in "".join(cells):  # rare: count per row only where needed
            newlines += np.array([cell.count("\n") for cell in cells], dtype=np.int64)
    before = np.concatenate(([0], np.cumsum(newlines)[:-1])) if len(frame) else newlines
    lines = first + np.arange(len(frame), dtype=np.int64) + before
    return lines, first + len(frame) + int(newlines.sum())


def _position(handle: TextIO, size: int) -> float | None:
    """The share of the file read so far (the reader reads ahead, so it runs a little early)."""
    buffer = getattr(handle, "buffer", None)
    if buffer is None or size <= 0:
        return None
    read: int = buffer.tell()
    return min(1.0, read / size)


def _convert(
    frame: pd.DataFrame,
    lines: npt.NDArray[np.int64],
    plan: _Plan,
    *,
    width: int,
    position: float | None = None,
) -> ImportChunk:
    rows = Rows(frame, lines=lines, header=plan.header)
    cells = frame.to_numpy(dtype=object)
    maybe_blank = cells[:, 0] == ""
    blank = np.zeros(len(frame), dtype=bool)
    if maybe_blank.any():
        # An empty line, or Excel's ",,,,": nothing to import and nothing to complain about.
        blank[maybe_blank] = (np.char.strip(cells[maybe_blank].astype(str)) == "").all(axis=1)
    rows.skip |= blank
    rows.report((cells[:, width:] != "").any(axis=1), "imports.errors.too_many_fields", expected=width)
    posts, kpis, daily = plan.read(rows)
    accounts = {a for a in posts.account_key.tolist() if a} | {d.account_key for d in daily if d.account_key}
    return ImportChunk(
        posts=posts,
        kpis=kpis,
        problems=rows.problems(),
        rows=int(len(frame) - blank.sum()),
        skips=rows.skips(),
        daily=tuple(daily),
        accounts=tuple(sorted(accounts)),
        position=position,
    )
