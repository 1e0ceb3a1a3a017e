"""KPI trend charts as PNG bytes: one small chart per KPI, values against targets (pure).

matplotlib is imported inside the functions, not at module import, so a bot that never
draws a chart never pays its memory. Figures are built as ``matplotlib.figure.Figure``
objects on their own Agg canvas: no pyplot, no global figure registry, nothing kept after
the call, and nothing that selects a backend for the rest of the process. Japanese text is
drawn with IPAexGothic from ``matplotlib_fontja``, which covers kana, kanji and the ASCII
the axes need, so no glyph falls back to an empty box.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

from bot.i18n import Locale, translator
from bot.kpi.status import meets_target

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.ticker import Formatter

# Layout in inches. It is fixed rather than "constrained": the constraint solver draws the
# figure twice and doubles the time of a 10-KPI chart, and these charts all look alike.
_COLUMNS = 2
_COLUMN_WIDTH_IN = 5.0
_ROW_HEIGHT_IN = 2.3
_HEADER_IN = 0.5  # figure title and legend
_LEFT_IN = 0.75  # y tick labels such as "125,000"
_RIGHT_IN = 0.2
_ABOVE_AXES_IN = 0.3  # each chart's own title
_BELOW_AXES_IN = 0.35  # month labels
#: Enough month labels to read the axis without their overlapping in a half-width chart.
_MAX_TICK_LABELS = 6
_END_LABEL_PT = 9

_VALUE_COLOR = "#0969da"
_TARGET_COLOR = "#8c959f"
_GOOD_COLOR = "#1a7f37"
_BAD_COLOR = "#cf222e"
_TEXT_COLOR = "#24292f"
_MUTED_COLOR = "#6e7781"


@dataclass(frozen=True, slots=True)
class Series:
    """One KPI's monthly history, ready to draw.

    Attributes:
        title: the KPI's name in the reader's language.
        unit: shown after numbers (``"%"``, ``"件"``); empty for plain counts.
        labels: one x-axis label per month, oldest first (``"2026-01"`` …).
        values: the month's value, ``None`` where there is none (drawn as a gap).
        targets: the month's target, ``None`` where none was set; may be empty for no targets.
        better: whether a higher or a lower value is the good direction.
    """

    title: str
    unit: str
    labels: Sequence[str]
    values: Sequence[float | None]
    targets: Sequence[float | None]
    better: Literal["higher", "lower"] = "higher"

    def __post_init__(self) -> None:
        if len(self.values) != len(self.labels):
            raise ValueError("values and labels must have the same length")
        if self.targets and len(self.targets) != len(self.labels):
            raise ValueError("targets must be empty or as long as labels")
        if self.better not in ("higher", "lower"):
            raise ValueError(f"better must be 'higher' or 'lower', not {self.better!r}")


@cache
def _load_japanese_font() -> str:
    """Registers IPAexGothic with matplotlib (once per process) and returns its family name."""
    import matplotlib_fontja  # importing it adds the font and makes it matplotlib's default family

    name: str = matplotlib_fontja.matplotlib_fontja.FONT_NAME
    return name


def format_number(value: float) -> str:
    """A value as people read it on a chart: ``12,345``, ``3.45``, ``0.5`` (no trailing zeros)."""
    if value == 0:
        return "0"  # also turns -0.0 into "0"
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def format_ticks(values: Sequence[float]) -> list[str]:
    """Axis labels with thousands separators and one shared, sufficient number of decimals.

    Unlike ``format_number`` this never rounds a tick away: ticks 98.75 / 100 / 101.25 read
    ``98.75`` / ``100.00`` / ``101.25``, not ``99`` / ``100`` / ``101``.
    """
    for decimals in range(5):
        scale = 10**decimals
        if all(abs(v * scale - round(v * scale)) <= 1e-6 * max(1.0, abs(v * scale)) for v in values):
            break
    return [f"{0.0 if v == 0 else v:,.{decimals}f}" for v in values]


@cache
def _tick_formatter_class() -> type[Formatter]:
    from matplotlib.ticker import Formatter

    class TickFormatter(Formatter):
        def __call__(self, x: float, pos: int | None = None) -> str:
            return format_ticks([x])[0]

        def format_ticks(self, values: Sequence[float]) -> list[str]:
            return format_ticks(values)

    return TickFormatter


def _as_float(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _last_known(values: Sequence[float | None]) -> int | None:
    for index in range(len(values) - 1, -1, -1):
        if values[index] is not None:
            return index
    return None


def _signal_color(value: float, target: float | None, better: Literal["higher", "lower"]) -> str:
    met = meets_target(value, target, better)
    if met is None:
        return _TEXT_COLOR
    return _GOOD_COLOR if met else _BAD_COLOR


def _text_width_in(text: str, fontsize: float) -> float:
    """A generous estimate of a label's width, to reserve room before anything is drawn.

    Measuring the real extent needs a renderer pass, which would cost as much as the drawing.
    """
    em = fontsize / 72
    return sum(em if unicodedata.east_asian_width(ch) in "WF" else 0.62 * em for ch in text)


def _target_values(series: Series) -> list[float] | None:
    if not any(target is not None for target in series.targets):
        return None
    return [_as_float(target) for target in series.targets]


def _draw_series(ax: Axes, series: Series, *, locale: Locale, axes_width_in: float) -> None:
    from matplotlib.ticker import MaxNLocator

    t = translator(locale)
    heading = t("charts.axis_title", title=series.title, unit=series.unit) if series.unit else series.title
    # An explicit y skips matplotlib's title auto-placement, a layout pass per axes that costs
    # more than drawing the data.
    ax.set_title(heading, fontsize=10, loc="left", color=_TEXT_COLOR, y=1.0, pad=5)
    # Tick styling first: ticks are built lazily, so later changes would restyle each one.
    ax.tick_params(labelsize=8, colors=_MUTED_COLOR)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
    ax.yaxis.set_major_formatter(_tick_formatter_class()())
    count = len(series.labels)
    positions = list(range(count))
    right_pad = 0.5

    targets = _target_values(series)
    if targets is not None:
        # A target holds for a whole month, so it is drawn as steps rather than a slope between months.
        ax.plot(positions, targets, linestyle="--", linewidth=1.2, color=_TARGET_COLOR, drawstyle="steps-mid")

    last = _last_known(series.values)
    if last is None:
        ax.text(
            0.5,
            0.5,
            t("charts.no_data"),
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=10,
            color=_MUTED_COLOR,
            bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "none"},
        )
    else:
        # NaN breaks the line, so a missing month shows as a gap rather than an invented value.
        ax.plot(
            positions,
            [_as_float(v) for v in series.values],
            marker="o",
            markersize=3.5,
            linewidth=1.8,
            color=_VALUE_COLOR,
        )
        value = _as_float(series.values[last])  # _last_known found it non-None
        target = series.targets[last] if series.targets else None
        label = f"{format_number(value)}{series.unit}"
        ax.annotate(
            label,
            xy=(last, value),
            xytext=(5, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=_END_LABEL_PT,
            color=_signal_color(value, target, series.better),
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
        )
        # Widen the x range so the end label sits beside the line's end instead of on top of it.
        # The x span must put `last` at least label_in inches before the right edge.
        label_in = _text_width_in(label, _END_LABEL_PT) + 0.15
        if label_in < axes_width_in / 2:
            span = (last + 0.5) * axes_width_in / (axes_width_in - label_in)
            right_pad = max(right_pad, span - count + 0.5)
        ax.margins(y=0.2)

    if count:
        ax.set_xlim(-0.5, count - 1 + right_pad)
        # Every `step`-th month, counted back from the newest so the latest label is always shown.
        # Only labelled months get a tick: ticks are the costliest artists to build.
        step = math.ceil(count / _MAX_TICK_LABELS)
        shown = list(range(count - 1, -1, -step))[::-1]
        ax.set_xticks(shown, [series.labels[i] for i in shown])
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    ax.grid(axis="y", linewidth=0.5, alpha=0.4)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def japanese_font() -> str:
    """The family name of the bundled Japanese font, registered with matplotlib (once per process)."""
    return _load_japanese_font()


def draw_series(ax: Axes, series: Series, *, locale: Locale, axes_width_in: float) -> None:
    """Draw one KPI's trend into ``ax`` (``axes_width_in`` wide), as each chart of the figure is
    drawn: for pages that lay out their own axes (the digest's PDF)."""
    _load_japanese_font()
    _draw_series(ax, series, locale=locale, axes_width_in=axes_width_in)


def build_trend_figure(
    series: Sequence[Series],
    *,
    title: str,
    locale: Locale,
    target_label: str,
    dpi: int = 110,
) -> Figure:
    """The small-multiples figure ``render_trend_chart`` draws (exposed for tests and other formats).

    Args:
        series: one entry per KPI (about ten at most; they wrap into two columns).
        title: the figure heading, already in the reader's language.
        locale: language of the chart's own strings (``charts.*``).
        target_label: legend text for the dashed target line, already translated.
        dpi: pixels per inch of the figure.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    _load_japanese_font()
    columns = 1 if len(series) <= 1 else _COLUMNS
    rows = max(1, math.ceil(len(series) / columns))
    width_in, height_in = columns * _COLUMN_WIDTH_IN, _HEADER_IN + rows * _ROW_HEIGHT_IN
    axes_width_in = _COLUMN_WIDTH_IN - _LEFT_IN - _RIGHT_IN
    axes_height_in = _ROW_HEIGHT_IN - _ABOVE_AXES_IN - _BELOW_AXES_IN
    figure = Figure(figsize=(width_in, height_in), dpi=dpi)
    figure.suptitle(title, x=_LEFT_IN / width_in, y=1 - 0.12 / height_in, ha="left", va="top", fontsize=13)
    axes = figure.subplots(
        rows,
        columns,
        squeeze=False,
        gridspec_kw={
            "left": _LEFT_IN / width_in,
            "right": 1 - _RIGHT_IN / width_in,
            "top": 1 - (_HEADER_IN + _ABOVE_AXES_IN) / height_in,
            "bottom": _BELOW_AXES_IN / height_in,
            # Spaces are fractions of the average axes width / height.
            "wspace": (_RIGHT_IN + _LEFT_IN) / axes_width_in,
            "hspace": (_ABOVE_AXES_IN + _BELOW_AXES_IN) / axes_height_in,
        },
    ).flatten()
    for ax, one in zip(axes, series, strict=False):
        _draw_series(ax, one, locale=locale, axes_width_in=axes_width_in)
    if not series:
        axes[0].text(
            0.5, 0.5, translator(locale)("charts.no_data"), ha="center", va="center", color=_MUTED_COLOR
        )
    for ax in axes[len(series) :]:
        ax.set_axis_off()
    if any(_target_values(one) is not None for one in series):
        handle = Line2D([], [], linestyle="--", linewidth=1.2, color=_TARGET_COLOR)
        figure.legend(
            [handle],
            [target_label],
            loc="upper right",
            bbox_to_anchor=(1 - _RIGHT_IN / width_in, 1 - 0.08 / height_in),
            fontsize=9,
            frameon=False,
        )
    return figure


def render_trend_chart(
    series: Sequence[Series],
    *,
    title: str,
    locale: Literal["ja", "en"],
    target_label: str,
    dpi: int = 110,
) -> bytes:
    """A PNG of each KPI's trend against its target, for digests and ``/sns-kpi KEY``.

    Args:
        series: one entry per KPI (about ten at most; they wrap into two columns).
        title: the figure heading, already in the reader's language.
        locale: language of the chart's own strings (``charts.*``).
        target_label: legend text for the dashed target line, already translated.
        dpi: pixels per inch; the image is ``dpi × (5 in per column)`` wide.

    Returns:
        The PNG file's bytes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = build_trend_figure(series, title=title, locale=locale, target_label=target_label, dpi=dpi)
    FigureCanvasAgg(figure)  # attaches itself to the figure: PNG via Agg without touching pyplot's backend
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
