"""The monthly or quarterly KPI digest as one A4 page in PDF, for executives (pure: digest → bytes).

Drawn with matplotlib's own PDF backend on a ``Figure`` of its own (no pyplot, nothing global left
behind), in IPAexGothic from ``matplotlib_fontja`` embedded as a TrueType subset (``pdf.fonttype``
42), so Japanese text renders on any reader and can be searched and copied. The page holds, top to
bottom: the title, each KPI against its target with its narrative line, the 12-month charts, and
then every other section of the digest's document (best posts, team participation, reasons, and
whatever sections the digest grows) as text, cut with "…and N more" where the page ends.
"""

from __future__ import annotations

import io
import math
import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.digest.compose import KpiSummary, MonthlyDigest
from bot.digest.ui.attachments import chart_series
from bot.digest.ui.document import DigestDoc, shown_lines
from bot.digest.ui.monthly import monthly_doc, narrative, period_title
from bot.digest.ui.numbers import fmt_change, fmt_pct, fmt_value
from bot.digest.ui.text import plain_text
from bot.i18n import Translator
from bot.periods import PeriodKind

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

#: A4 portrait, in inches.
PAGE_W, PAGE_H = 8.27, 11.69
_MARGIN = 0.55
_TEXT = "#24292f"
_MUTED = "#57606a"
_RULE = "#d0d7de"
_GOOD = "#1a7f37"
_BAD = "#cf222e"
_NONE = "#8c959f"
#: Line heights in inches for the font sizes used.
_LINE = {16: 0.30, 10: 0.19, 9: 0.17, 8: 0.155}
#: Chart grid: columns, and the height of one row of charts (inches), at most ``_CHART_MAX_IN`` in all.
_CHART_COLUMNS = 3
_CHART_ROW_IN = 1.5
_CHART_MAX_IN = 3.1
#: Charts on the page at most (three rows of three); the rest are counted.
_CHARTS_MAX = 9
#: The KPI table stops where it would leave less than this for the charts and the sections.
_TABLE_RESERVE_IN = 5.2
#: Slack emoji codes (``:trophy:``): the page's font has no emoji, so they are left out.
_EMOJI_RE = re.compile(r":[a-z0-9_+-]+:\s?")
#: A labelled link: on paper the label is what reads (the Slack thread keeps the links).
_LINK_RE = re.compile(r"<(?:https?|mailto):[^|>]+\|([^>]*)>")
# matplotlib's rcParams are process-wide; the PDF font type is set only around a save, one at a time.
_SAVE_LOCK = threading.Lock()


def _width(text: str, size: float) -> float:
    """A generous estimate of ``text``'s width in inches at ``size`` points (wide glyphs are 1 em)."""
    em = size / 72
    return sum(em if unicodedata.east_asian_width(ch) in "WF" else 0.5 * em for ch in text)


#: Characters a Japanese line never starts with (kinsoku): closing brackets and punctuation.
_NO_LINE_START = frozenset(
    "、。，．）」』】〕〉》”’・：；？！ーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ)]},.:;?!%"
)


def _katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30fa" or ch == "ー"


def _in_word(a: str, b: str) -> bool:
    """True when a break between ``a`` and ``b`` would split a Latin word, a number (``12,900``) or
    a katakana word (インプレッション)."""
    if _katakana(a) and _katakana(b):
        return True
    return (a.isascii() and a.isalnum() or a in ",.") and (b.isascii() and b.isalnum() or b in ",.%")


def _label_number(text: str, at: int) -> bool:
    """True when ``at`` is a number after a Japanese label and a space (「インプレッション 3,581」):
    the number stays with its label."""
    if text[at] == " ":  # a break at the space itself
        return at + 1 < len(text) and text[at + 1].isdigit() and not text[at - 1].isascii()
    return at >= 2 and text[at].isdigit() and text[at - 1] == " " and not text[at - 2].isascii()


def _cut(text: str) -> int:
    """Where to end the line in ``text`` (its last character overflows): before the overflowing
    character, moved back so that no line starts with closing punctuation and no word or number is
    split; at a space when there is one. Never into the first half (an unbreakable run is cut)."""
    end = len(text) - 1
    cut = end
    while cut > end // 2 and (
        text[cut] in _NO_LINE_START or _in_word(text[cut - 1], text[cut]) or _label_number(text, cut)
    ):
        cut -= 1
    return cut if cut > end // 2 else end


def wrap(text: str, *, size: float, width_in: float) -> list[str]:
    """``text`` cut into lines no wider than ``width_in``: anywhere in CJK, at spaces in Latin, and
    never splitting a number or starting a line with closing punctuation."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for ch in paragraph:
            if _width(line + ch, size) <= width_in:
                line += ch
                continue
            cut = _cut(line + ch)
            out.append(line[:cut].rstrip())
            line = (line + ch)[cut:].lstrip()
        out.append(line)
    return out


@dataclass(frozen=True, slots=True)
class KpiRow:
    """One KPI as the page's table shows it."""

    name: str
    value: str
    target: str
    achievement: str
    change: str
    year: str
    narrative: str
    #: ``True`` on target, ``False`` off it, ``None`` nothing to compare.
    on_target: bool | None


def kpi_rows(digest: MonthlyDigest, t: Translator) -> list[KpiRow]:
    """The table's rows: every KPI of the digest, numbers as the Slack digest writes them."""

    def row(s: KpiSummary) -> KpiRow:
        kpi = s.kpi
        return KpiRow(
            name=kpi.name.get(t.locale),
            value=fmt_value(s.value, unit=kpi.unit, decimals=kpi.decimals, t=t),
            target=fmt_value(s.target, unit=kpi.unit, decimals=kpi.decimals, t=t),
            achievement=fmt_pct(s.achievement, t),
            change=fmt_change(s.mom_delta, s.mom_pct, kpi=kpi, t=t),
            year=fmt_change(s.yoy_delta, s.yoy_pct, kpi=kpi, t=t),
            narrative=narrative(s, t, quarter=digest.period.kind == PeriodKind.QUARTERLY),
            on_target=s.on_target,
        )

    return [row(s) for s in digest.kpis]


def _plain(mrkdwn: str, names: Mapping[str, str] | None = None) -> str:
    """mrkdwn as the page prints it: no markup, no emoji."""
    return plain_text(_LINK_RE.sub(r"\1", _EMOJI_RE.sub("", mrkdwn)), names=names).strip()


def text_sections(
    doc: DigestDoc, t: Translator, names: Mapping[str, str] | None
) -> list[tuple[str, list[str]]]:
    """Every section of the document but the KPIs (which the table shows), as plain text."""
    out: list[tuple[str, list[str]]] = []
    for section in doc.sections:
        if section.role in ("kpis", "kpi"):
            continue
        lines = [_plain(line, names=names) for line in shown_lines(section, t, limit=10**9)]
        lines += [_plain(f, names=names).replace("\n", ": ", 1) for f in section.fields]
        if section.note:
            lines.append(_plain(section.note, names=names))
        title = _plain(section.title, names=names) if section.title else ""
        if title or lines:
            out.append((title, lines))
    return out


class _Page:
    """A cursor down the page: each call draws at the cursor and moves it down."""

    def __init__(self, figure: Figure, font: str) -> None:
        self.figure = figure
        self.font = font
        self.y = _MARGIN  # inches from the top

    @property
    def left(self) -> float:
        """Inches left above the footer."""
        return PAGE_H - _MARGIN - 2 * _LINE[8] - self.y

    def text(self, x_in: float, text: str, *, size: int, color: str = _TEXT) -> None:
        self.figure.text(
            x_in / PAGE_W,
            1 - (self.y + _LINE[size] * 0.8) / PAGE_H,
            text,
            fontsize=size,
            color=color,
            va="baseline",
            fontfamily=self.font,
        )

    def rule(self) -> None:
        y = 1 - self.y / PAGE_H
        self.figure.add_artist(
            _line(self.figure, (_MARGIN / PAGE_W, 1 - _MARGIN / PAGE_W), (y, y), color=_RULE, width=0.8)
        )


def _line(
    figure: Figure, xs: tuple[float, float], ys: tuple[float, float], *, color: str, width: float
) -> Line2D:
    from matplotlib.lines import Line2D

    return Line2D(xs, ys, transform=figure.transFigure, color=color, linewidth=width)


def _signal(page: _Page, x_in: float, on_target: bool | None) -> None:
    """A coloured dot: green on target, red off it, grey with nothing to compare (the Slack digest's
    circles; a glyph of the page's font, so it is no shape to scale)."""
    color = _NONE if on_target is None else (_GOOD if on_target else _BAD)
    page.text(x_in, "●", size=9, color=color)


def _kpi_table(page: _Page, digest: MonthlyDigest, t: Translator, words: str) -> None:
    width = PAGE_W - 2 * _MARGIN
    # Columns (inches from the left edge): name, value, target, achievement, change, vs last year.
    cols = [_MARGIN + 0.2, _MARGIN + 2.4, _MARGIN + 3.3, _MARGIN + 4.2, _MARGIN + 5.0, _MARGIN + 6.1]
    heads = [
        t("pdf.col.kpi"),
        t("pdf.col.value"),
        t("pdf.col.target"),
        t("pdf.col.achievement"),
        t(f"{words}.change"),
        t(f"{words}.yoy"),
    ]
    for x, head in zip(cols, heads, strict=True):
        page.text(x, head, size=8, color=_MUTED)
    page.y += _LINE[8]
    page.rule()
    page.y += 0.05
    rows = kpi_rows(digest, t)
    for index, row in enumerate(rows):
        narrative_lines = wrap(row.narrative, size=8, width_in=width - 0.2)
        height = _LINE[9] + _LINE[8] * len(narrative_lines) + 0.04
        if index and page.left - height < _TABLE_RESERVE_IN:
            more = t("pdf.more_kpis", count=len(rows) - index)
            page.text(
                cols[0],
                t("common.words.and_more", count=len(rows) - index) + " " + more,
                size=8,
                color=_MUTED,
            )
            page.y += _LINE[8]
            return
        _signal(page, _MARGIN, row.on_target)
        name = wrap(row.name, size=9, width_in=cols[1] - cols[0] - 0.1)[0]
        cells = [name, row.value, row.target, row.achievement, row.change, row.year]
        for i, (x, cell) in enumerate(zip(cols, cells, strict=True)):
            page.text(x, cell, size=9, color=_TEXT if i in (0, 1) else _MUTED)
        page.y += _LINE[9]
        for line in narrative_lines:
            page.text(cols[0], line, size=8, color=_MUTED)
            page.y += _LINE[8]
        page.y += 0.04


def _charts(page: _Page, digest: MonthlyDigest, t: Translator) -> None:
    from bot.kpi.charts import draw_series

    every = chart_series(digest, locale=t.locale)
    series = every[:_CHARTS_MAX]
    if not series:
        return
    title = t("digest.monthly.chart_title", period=digest.history_end)
    page.text(_MARGIN, title, size=10)
    # What the lines mean, on the title's baseline: the page has no room for a legend per chart.
    page.figure.text(
        (_MARGIN + _width(title, 10) + 0.15) / PAGE_W,
        1 - (page.y + _LINE[10] * 0.8) / PAGE_H,
        t("pdf.chart_legend"),
        fontsize=8,
        color=_MUTED,
        va="baseline",
        fontfamily=page.font,
    )
    page.y += _LINE[10] + 0.05
    # Two columns for two or four charts (no row with a lone chart), else three.
    columns = 2 if len(series) in (2, 4) else min(_CHART_COLUMNS, len(series))
    rows = math.ceil(len(series) / columns)
    row_in = min(_CHART_ROW_IN, _CHART_MAX_IN / rows)
    cell_w = (PAGE_W - 2 * _MARGIN) / columns
    left_pad, right_pad, top_pad, bottom_pad = 0.5, 0.1, 0.28, 0.3
    for i, one in enumerate(series):
        r, c = divmod(i, columns)
        x0 = _MARGIN + c * cell_w + left_pad
        top = page.y + r * row_in + top_pad
        w, h = cell_w - left_pad - right_pad, row_in - top_pad - bottom_pad
        ax = page.figure.add_axes((x0 / PAGE_W, 1 - (top + h) / PAGE_H, w / PAGE_W, h / PAGE_H))
        draw_series(ax, one, locale=t.locale, axes_width_in=w)
        # The chart's heading (drawn on the left), smaller and cut to its chart's width.
        heading = ax.get_title(loc="left")
        fitted = wrap(heading, size=8, width_in=w - 0.1)[0]
        if fitted != heading:
            fitted = fitted[:-1].rstrip() + "…"
        ax.set_title(fitted, loc="left", fontsize=8, color=_TEXT, y=1.0, pad=4)
        ax.tick_params(labelsize=6)
        # Three month labels at most (the newest always): six overlap in a chart this narrow.
        count = len(one.labels)
        if count:
            shown = sorted(
                {count - 1, max(0, count - 1 - (count - 1) // 2 * 1), 0} if count > 2 else set(range(count))
            )
            ax.set_xticks(shown, [one.labels[k] for k in shown])
    page.y += rows * row_in + 0.05
    if len(every) > len(series):
        more = len(every) - len(series)
        page.text(
            _MARGIN, t("common.words.and_more", count=more) + " " + t("pdf.more_charts"), size=8, color=_MUTED
        )
        page.y += _LINE[8]


def _sections(page: _Page, sections: Sequence[tuple[str, list[str]]], t: Translator) -> None:
    """The document's other sections, each cut with "…and N more" where the page ends; sections that
    find no room for a line are counted in one last "…and N more"."""
    width = PAGE_W - 2 * _MARGIN
    more_line = _LINE[8]
    for index, (title, lines) in enumerate(sections):
        first = wrap(lines[0], size=8, width_in=width - 0.15) if lines else []
        need = (_LINE[10] if title else 0) + _LINE[8] * len(first) + more_line
        if page.left < need + more_line:
            if page.left >= more_line:
                left = len(sections) - index
                page.text(_MARGIN, t("common.words.and_more", count=left), size=8, color=_MUTED)
                page.y += more_line
            return
        if title:
            page.text(_MARGIN, title, size=10)
            page.y += _LINE[10]
        for shown, line in enumerate(lines):
            wrapped = wrap(line, size=8, width_in=width - 0.15)
            last = shown == len(lines) - 1
            if page.left < _LINE[8] * len(wrapped) + (0 if last else more_line) + more_line:
                left = len(lines) - shown
                page.text(_MARGIN + 0.15, t("common.words.and_more", count=left), size=8, color=_MUTED)
                page.y += more_line
                break
            for part in wrapped:
                page.text(_MARGIN + 0.15, part, size=8)
                page.y += _LINE[8]
        page.y += 0.08


def build_page(
    digest: MonthlyDigest, *, settings: Settings, t: Translator, names: Mapping[str, str] | None = None
) -> Figure:
    """The page as a matplotlib figure (``render_page`` saves it; tests may draw it as an image)."""
    from matplotlib.figure import Figure

    from bot.kpi.charts import japanese_font

    doc = monthly_doc(digest, settings=settings, t=t)
    words = "quarterly.digest" if digest.period.kind == PeriodKind.QUARTERLY else "pdf.monthly"
    figure = Figure(figsize=(PAGE_W, PAGE_H), dpi=100)
    page = _Page(figure, japanese_font())
    for line in wrap(_plain(doc.title), size=16, width_in=PAGE_W - 2 * _MARGIN):
        page.text(_MARGIN, line, size=16)
        page.y += _LINE[16]
    page.text(_MARGIN, _plain(doc.subtitle), size=9, color=_MUTED)
    page.y += _LINE[9] + 0.05
    page.rule()
    page.y += 0.12
    if digest.empty:
        page.text(_MARGIN, _plain(doc.fallback), size=10)
        return figure
    if digest.kpis:
        page.text(_MARGIN, t("pdf.kpis_title"), size=10)
        page.y += _LINE[10] + 0.04
        _kpi_table(page, digest, t, words)
        page.y += 0.1
        _charts(page, digest, t)
        page.y += 0.1
    _sections(page, text_sections(doc, t, names), t)
    page.y = PAGE_H - _MARGIN - _LINE[8]
    page.text(_MARGIN, t("pdf.footer"), size=8, color=_MUTED)
    return figure


def render_page(
    digest: MonthlyDigest, *, settings: Settings, t: Translator, names: Mapping[str, str] | None = None
) -> bytes:
    """The digest as the bytes of a one-page A4 PDF with its Japanese font embedded (CPU-bound)."""
    import matplotlib
    from matplotlib.backends.backend_pdf import FigureCanvasPdf

    figure = build_page(digest, settings=settings, t=t, names=names)
    FigureCanvasPdf(figure)
    buffer = io.BytesIO()
    # Type 42: the font is embedded as TrueType (a subset) with a ToUnicode map, so readers show
    # the Japanese text as text, not as drawn shapes (Type 3), and it can be searched and copied.
    with _SAVE_LOCK, matplotlib.rc_context({"pdf.fonttype": 42}):
        figure.savefig(buffer, format="pdf", metadata={"Title": plain_text(_title(digest, t))})
    return buffer.getvalue()


def _title(digest: MonthlyDigest, t: Translator) -> str:
    words = "quarterly.digest" if digest.period.kind == PeriodKind.QUARTERLY else "digest.monthly"
    return t(f"{words}.title", period=period_title(digest.period, t))
