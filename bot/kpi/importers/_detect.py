"""Recognise an export from its first bytes: encoding, delimiter, header row and format (pure).

Real exports arrive as UTF-8 with or without BOM (X, Meta, Search Console), UTF-16 with BOM (Meta
time series, Excel "Unicode text") or CP932 (a Japanese user re-saved the file in Excel), and some
start with Excel's ``sep=,`` hint or a title line before the header.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import BotError
from bot.kpi.importers._formats import (
    SPECS,
    FormatSpec,
    ImportFormat,
    Kind,
    kind_fits,
    normalize_header,
    refused_alone,
)

#: Bytes read to recognise a file; far more than any header (the X classic one is ~1.3 kB).
HEAD_BYTES = 64 * 1024
#: Physical lines searched for the header (after an Excel ``sep=`` line): preambles are 1-2 lines.
HEADER_SEARCH_LINES = 6
_DELIMITERS = (",", "\t", ";")
_BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class DetectedFile:
    """What a file was recognised as.

    Attributes:
        format: the recognised (or requested) format.
        encoding: Python codec name used to read it: ``utf-8``, ``utf-8-sig``, ``utf-16``, ``cp932``...
        header_line: physical line of the header row (1 unless a preamble precedes it).
        delimiter: the field separator.
    """

    format: ImportFormat
    encoding: str
    header_line: int = 1
    delimiter: str = ","


@dataclass(frozen=True, slots=True)
class Header:
    """The located header row of a file and where each logical column sits in it."""

    detected: DetectedFile
    spec: FormatSpec
    names: tuple[str, ...]
    positions: dict[str, int]

    def missing(self) -> list[str]:
        required = self.spec.required
        return [c.display for c in self.spec.columns if c.key in required and c.key not in self.positions]


def sniff_encoding(head: bytes) -> str:
    """The codec for a file starting with ``head``: BOM first, then strict decode attempts.

    Raises:
        BotError: ``imports.errors.empty_file`` or ``imports.errors.undecodable``.
    """
    if not head.strip():
        raise BotError("imports.errors.empty_file")
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # UTF-16 without a BOM: ASCII-heavy text puts a NUL in every other byte.
    sample = head[:4096]
    if sample.count(0) * 3 > len(sample):
        return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    for encoding in ("utf-8", "cp932"):
        if _decodes([head], encoding, final=False):
            return encoding
    raise BotError("imports.errors.undecodable", encodings="utf-8, utf-16, cp932")


def confirm_encoding(path: Path, encoding: str) -> str:
    """Check the *whole* file decodes; a UTF-8 guess made from an ASCII-only head may turn out CP932.

    Raises:
        BotError: ``imports.errors.undecodable`` when no candidate decodes every byte.
    """
    candidates = [encoding, "cp932"] if encoding == "utf-8" else [encoding]
    for candidate in candidates:
        with path.open("rb") as handle:
            if _decodes(iter(lambda: handle.read(_BLOCK), b""), candidate, final=True):
                return candidate
    raise BotError("imports.errors.undecodable", encodings=", ".join(candidates))


def _decodes(blocks: Iterable[bytes], encoding: str, *, final: bool) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        for block in blocks:
            decoder.decode(block)
        decoder.decode(b"", final=final)
    except UnicodeDecodeError:
        return False
    return True


def decode_head(head: bytes, encoding: str) -> str:
    """Text of ``head``; a character cut at the end of the sample is dropped, not an error."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(head, final=False)


def head_lines(text: str) -> list[str]:
    """The first physical lines, split exactly as the reader will split them (``newline=""``)."""
    stream = io.StringIO(text, newline="")
    lines = []
    for _ in range(HEADER_SEARCH_LINES + 1):
        line = stream.readline()
        if not line:
            break
        lines.append(line.rstrip("\r\n"))
    return lines


def locate_header(text: str, *, encoding: str, kind: Kind | None, forced: FormatSpec | None) -> Header:
    """Find the header row and the format it belongs to.

    Args:
        text: the decoded start of the file.
        encoding: the codec the text was decoded with (reported back).
        kind: only formats of this kind are acceptable (``None``: any).
        forced: the format the user asked for; then we only look for its header.

    Raises:
        BotError: ``imports.errors.unknown_format`` (nothing fits), ``imports.errors.wrong_kind``
            (the file is a known format of the other kind), ``imports.errors.missing_columns``.
    """
    lines = head_lines(text)
    offset = 0
    delimiters: tuple[str, ...] = _DELIMITERS
    if lines and lines[0].replace("\ufeff", "").strip().casefold().startswith("sep=") and len(lines[0]) >= 5:
        # NOTE: Excel's delimiter hint line, seen in Meta's UTF-16 exports.
        offset, delimiters = 1, (lines[0].replace("\ufeff", "").strip()[4],)
    candidates: Sequence[FormatSpec] = [forced] if forced else list(SPECS.values())
    best: tuple[int, Header] | None = None
    for index in range(offset, min(len(lines), offset + HEADER_SEARCH_LINES)):
        for delimiter in delimiters:
            names = _split(lines[index], delimiter)
            if len(names) < 2:
                continue
            for spec in candidates:
                positions = _positions(spec, names)
                if not spec.signature <= positions.keys():
                    continue
                header = Header(
                    DetectedFile(spec.format, encoding, header_line=index + 1, delimiter=delimiter),
                    spec,
                    names,
                    positions,
                )
                if best is None or len(positions) > best[0]:
                    best = (len(positions), header)
        if best is not None:
            break
    if best is None:
        first = lines[offset] if len(lines) > offset else ""
        if forced is not None:
            # The user named the format: say which of its columns this header lacks.
            names = max((_split(first, d) for d in delimiters), key=lambda n: len(_positions(forced, n)))
            header = Header(DetectedFile(forced.format, encoding), forced, names, _positions(forced, names))
            raise BotError(
                "imports.errors.missing_columns", format=forced.format.name, columns=_joined(header)
            )
        raise BotError("imports.errors.unknown_format", header=first[:120], choices=", ".join(SPECS))
    header = best[1]
    # A table of a Search Console zip gets its own error (import the zip or Queries.csv) later.
    if not kind_fits(header.spec.format, kind) and not refused_alone(header.spec.format.name):
        raise BotError("imports.errors.wrong_kind", format=header.spec.format.name, kind=kind)
    if header.missing():
        raise BotError(
            "imports.errors.missing_columns", format=header.spec.format.name, columns=_joined(header)
        )
    return header


def _joined(header: Header) -> str:
    return ", ".join(header.missing())


def _split(line: str, delimiter: str) -> tuple[str, ...]:
    row = next(csv.reader([line], delimiter=delimiter), [])
    return tuple(row)


def _positions(spec: FormatSpec, names: Sequence[str]) -> dict[str, int]:
    normalized = [normalize_header(n) for n in names]
    positions: dict[str, int] = {}
    for column in spec.columns:
        for alias in column.aliases:
            wanted = normalize_header(alias)
            if wanted in normalized:
                positions[column.key] = normalized.index(wanted)
                break
    return positions


def detect_format(head: bytes, *, kind: Kind | None = None) -> DetectedFile:
    """Recognise the format and encoding of a file from its first bytes.

    Args:
        head: the first bytes of the file (``HEAD_BYTES`` is plenty).
        kind: accept only formats of this kind.

    Returns:
        The detected format, encoding, header line and delimiter.

    Raises:
        BotError: ``imports.errors.unknown_format``, ``imports.errors.undecodable``,
            ``imports.errors.empty_file``, ``imports.errors.wrong_kind``, ``imports.errors.missing_columns``.
    """
    encoding = sniff_encoding(head)
    return locate_header(decode_head(head, encoding), encoding=encoding, kind=kind, forced=None).detected
