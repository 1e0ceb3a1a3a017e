"""How a long import shows its progress on the command line (I/O: a text stream).

On a terminal: one line redrawn in place, ``[#######·····]  58%  120,000 rows  41,250 rows/s  ETA 0:03``.
Otherwise (a log, a pipe, CI): a plain line every ``interval`` seconds, and none for imports that
finish sooner, so short imports print only their report. Any other consumer (a Slack message updated
in place) implements the same callback: ``async (ImportProgress) -> None``.
"""

from __future__ import annotations

import time
from typing import TextIO

from bot.i18n import Translator
from bot.kpi.import_report import ImportProgress

BAR_WIDTH = 24
#: Seconds between plain progress lines when the output is not a terminal.
LINE_INTERVAL = 5.0
#: Seconds between redraws of the terminal bar.
REDRAW_INTERVAL = 0.1


def clock_text(seconds: float) -> str:
    """``0:07``, ``12:34``, ``1:02:03``."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_text(t: Translator, tick: ImportProgress, *, bar: bool) -> str:
    """One progress line (with a bar on a terminal)."""
    parts: list[str] = []
    if bar and tick.fraction is not None:
        filled = int(round(BAR_WIDTH * tick.fraction))
        parts.append("[" + "#" * filled + "·" * (BAR_WIDTH - filled) + f"] {tick.fraction:4.0%}")
    parts.append(t("kpi.import.progress", rows=f"{tick.rows:,}"))
    if tick.rate is not None:
        parts.append(t("kpi.import.progress_rate", rate=f"{tick.rate:,.0f}"))
    if tick.eta is not None and not tick.done:
        parts.append(t("kpi.import.progress_eta", eta=clock_text(tick.eta)))
    return "  ".join(parts)


class TerminalProgress:
    """The command line's progress callback (``await progress(tick)``); ``close()`` ends its line."""

    def __init__(
        self, t: Translator, out: TextIO, *, tty: bool | None = None, interval: float = LINE_INTERVAL
    ) -> None:
        self._t, self._out = t, out
        self._tty = out.isatty() if tty is None else tty
        self._interval = interval
        self._open = False
        self._last = time.monotonic()
        self._started = self._last
        self.lines = 0

    async def __call__(self, tick: ImportProgress) -> None:
        now = time.monotonic()
        if self._tty:
            if tick.done or now - self._last >= REDRAW_INTERVAL or not self._open:
                self._out.write("\r\x1b[2K" + progress_text(self._t, tick, bar=True))
                self._out.flush()
                self._open, self._last = True, now
            return
        if not tick.done and now - self._last >= self._interval:
            self._out.write(progress_text(self._t, tick, bar=False) + "\n")
            self._out.flush()
            self._last = now
            self.lines += 1

    def close(self) -> None:
        """End the bar's line so the report starts on its own line."""
        if self._open:
            self._out.write("\n")
            self._out.flush()
            self._open = False
