"""CSV import: platform exports and generic files → PostColumns / KpiRecord (pure, pandas, reads files).

Recognises the file (encoding, delimiter, header row, format) from its bytes, then streams it in
chunks, vectorising conversions per chunk. Every rejected row comes back as a ``RowProblem`` with
its physical line; file-level trouble raises ``BotError`` with an ``imports.errors.*`` key.
"""

from bot.kpi.importers._detect import DetectedFile, detect_format
from bot.kpi.importers._formats import FORMATS, ImportFormat, resolve_format
from bot.kpi.importers._kpis import SearchConsoleOptions, branded_mask, check_period_option
from bot.kpi.importers._stream import iter_import, resolve_account

__all__ = [
    "FORMATS",
    "DetectedFile",
    "ImportFormat",
    "SearchConsoleOptions",
    "branded_mask",
    "check_period_option",
    "detect_format",
    "iter_import",
    "resolve_account",
    "resolve_format",
]
