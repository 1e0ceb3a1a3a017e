"""A Search Console performance export as downloaded: the zip, its tables recognised by their header
row (never by file name, which is localised: ``Queries.csv``, ``クエリ.csv``), and the period its
``Filters.csv`` states (reads a file; otherwise pure).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath

from bot.errors import BotError
from bot.kpi.importers._detect import HEAD_BYTES, decode_head, sniff_encoding
from bot.kpi.importers._formats import FormatName
from bot.kpi.importers._stream import read_header

#: Limits on what a zip may unpack to: a Search Console export is 7 small tables.
MAX_MEMBERS = 40
MAX_UNPACKED_BYTES = 200 * 2**20


@dataclass(frozen=True, slots=True)
class Bundle:
    """The tables of one Search Console export, unpacked into a directory.

    Attributes:
        queries, chart, filters: the unpacked files (``None`` when the zip lacks that table).
        others: names of the tables that carry nothing the bot records (pages, countries, …).
        stated: the period ``Filters.csv`` states as dates (``None``: relative, e.g. "Last 6
            months", or a comparison).
    """

    queries: Path | None
    chart: Path | None
    filters: Path | None
    others: tuple[str, ...]
    stated: tuple[date, date] | None


def unpack(path: Path, into: Path) -> Bundle:
    """Unpack a Search Console export zip into ``into`` and recognise its tables.

    Raises:
        BotError: ``imports.errors.bad_zip`` (not a readable zip, too large, or no Search Console
            table in it).
    """
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BotError("imports.errors.bad_zip", detail=str(exc)) from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
            raise BotError("imports.errors.bad_zip", detail=f"{len(members)} files")
        found: dict[FormatName, Path] = {}
        others: list[str] = []
        for index, member in enumerate(members):
            name = PurePosixPath(member.filename).name
            if name.startswith(".") or not name.casefold().endswith((".csv", ".tsv", ".txt")):
                continue
            target = into / f"{index:02d}.csv"  # never the member's own name: no path tricks
            try:
                with archive.open(member) as source, target.open("wb") as sink:
                    sink.write(source.read(MAX_UNPACKED_BYTES + 1))
            except (OSError, zipfile.BadZipFile, RuntimeError) as exc:
                raise BotError("imports.errors.bad_zip", detail=str(exc)) from exc
            fmt = _format_of(target)
            if fmt in (
                FormatName.SEARCH_CONSOLE_QUERIES,
                FormatName.SEARCH_CONSOLE_CHART,
                FormatName.SEARCH_CONSOLE_FILTERS,
            ):
                found.setdefault(fmt, target)
            elif fmt is FormatName.SEARCH_CONSOLE_TABLE:
                others.append(name)
    if not found and not others:
        raise BotError("imports.errors.bad_zip", detail="no Search Console table")
    filters = found.get(FormatName.SEARCH_CONSOLE_FILTERS)
    return Bundle(
        queries=found.get(FormatName.SEARCH_CONSOLE_QUERIES),
        chart=found.get(FormatName.SEARCH_CONSOLE_CHART),
        filters=filters,
        others=tuple(others),
        stated=stated_period(filters) if filters is not None else None,
    )


def _format_of(path: Path) -> FormatName | None:
    try:
        return read_header(path, kind=None).spec.format.name
    except BotError:
        return None


# "2026-11-01", "2026/11/01", "2026年11月1日", "Nov 1, 2026", "1 Nov 2026"
_DATE_PATTERNS = (
    (re.compile(r"\d{4}-\d{1,2}-\d{1,2}"), ("%Y-%m-%d",)),
    (re.compile(r"\d{4}/\d{1,2}/\d{1,2}"), ("%Y/%m/%d",)),
    (re.compile(r"\d{4}年\s*\d{1,2}月\s*\d{1,2}日"), ("%Y年%m月%d日",)),
    (re.compile(r"[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}"), ("%b %d, %Y", "%B %d, %Y", "%b. %d, %Y")),
    (re.compile(r"\d{1,2} [A-Z][a-z]{2,8} \d{4}"), ("%d %b %Y", "%d %B %Y")),
)
_DATE_FILTERS = ("date", "日付", "期間", "datum", "fecha", "date range")
_COMPARE = re.compile(r"compare|比較|vs\.?", re.IGNORECASE)


def stated_period(filters: Path) -> tuple[date, date] | None:
    """The first and last day ``Filters.csv`` states (``Date,"Aug 28, 2026-Sep 3, 2026"``);
    ``None`` when it names a relative range (``Date,Last 6 months``) or a comparison."""
    try:
        head = filters.read_bytes()[:HEAD_BYTES]
        text = decode_head(head, sniff_encoding(head))
    except (BotError, OSError):
        return None
    for row in csv.reader(io.StringIO(text, newline="")):
        if len(row) < 2 or row[0].strip().casefold() not in _DATE_FILTERS:
            continue
        value = row[1].strip()
        if _COMPARE.search(value):
            return None
        days = _dates_in(value)
        if len(days) == 2 and days[0] <= days[1]:
            return days[0], days[1]
        return None
    return None


def _dates_in(text: str) -> list[date]:
    for pattern, formats in _DATE_PATTERNS:
        found = pattern.findall(text)
        if not found:
            continue
        out: list[date] = []
        for cell in found:
            for fmt in formats:
                try:
                    out.append(
                        datetime.strptime(re.sub(r"\s+", "", cell) if "年" in cell else cell, fmt).date()
                    )
                    break
                except ValueError:
                    continue
        if len(out) == len(found):
            return out
    return []
