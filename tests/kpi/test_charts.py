"""KPI trend charts: a real PNG, Japanese text without missing glyphs, gaps, targets and end labels."""

from __future__ import annotations

import math
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.font_manager import findfont
from matplotlib.text import Annotation, Text

from bot.i18n import translator
from bot.kpi.charts import Series, build_trend_figure, format_number, format_ticks, render_trend_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MONTHS = [f"2026-{month:02d}" for month in range(1, 13)]
KPI_NAMES = [
    ("採用エントリー数", "件"),
    ("エンゲージメント率", "%"),
    ("インプレッション", ""),
    ("フォロワー増加数", "人"),
    ("投稿数", "件"),
    ("承認までの時間", "時間"),
    ("差し戻し率", "%"),
    ("動画再生数", "回"),
    ("保存数", "件"),
    ("クリック数", "回"),
]


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def ten_kpis() -> list[Series]:
    series = []
    for index, (name, unit) in enumerate(KPI_NAMES):
        base = (index + 1) * 10.0
        values: list[float | None] = [base + (month % 4) - 1.5 for month in range(12)]
        series.append(
            Series(name, unit, MONTHS, values, [base] * 12, "lower" if unit == "時間" else "higher")
        )
    return series


def texts(figure: object) -> list[str]:
    return [text.get_text() for text in figure.findobj(Text)]  # type: ignore[attr-defined]


def test_renders_a_png_of_the_expected_size(tmp_path: Path) -> None:
    png = render_trend_chart(ten_kpis(), title="2026年12月 SNS 指標の推移", locale="ja", target_label="目標")
    # Two columns of 5 in, five rows of 2.3 in plus a 0.5 in header, at 110 dpi.
    assert png_size(png) == (1100, 1320)
    assert png.endswith(b"IEND\xaeB`\x82")
    (tmp_path / "kpis_ja.png").write_bytes(png)
    assert (tmp_path / "kpis_ja.png").stat().st_size == len(png)

    one = render_trend_chart(ten_kpis()[:1], title="Engagement", locale="en", target_label="Target", dpi=100)
    assert png_size(one) == (500, 280)


def test_japanese_labels_render_without_missing_glyphs() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_trend_chart(
            ten_kpis(), title="月次 KPI・目標との比較（2026年）", locale="ja", target_label="目標"
        )
    assert png[:8] == PNG_SIGNATURE
    assert [str(w.message) for w in caught if "Glyph" in str(w.message)] == []
    assert caught == []


def test_a_missing_glyph_would_be_caught() -> None:
    # The check above means something: a character the font lacks does warn.
    with pytest.warns(UserWarning, match="Glyph"):
        render_trend_chart(
            [Series("絵文字 😀", "", ["2026-01"], [1.0], [])], title="x", locale="ja", target_label=""
        )


def test_all_text_uses_the_japanese_font() -> None:
    figure = build_trend_figure(ten_kpis()[:2], title="指標の推移", locale="ja", target_label="目標")
    fonts = {
        Path(findfont(text.get_fontproperties())).name for text in figure.findobj(Text) if text.get_text()
    }
    assert fonts == {"ipaexg.ttf"}


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_a_series_without_values_says_no_data(locale: str) -> None:
    empty = Series("クリック数", "回", MONTHS, [None] * 12, [2000.0] * 12, "higher")
    figure = build_trend_figure([empty], title="KPI", locale=locale, target_label="目標")  # type: ignore[arg-type]
    no_data = translator(locale)("charts.no_data")  # type: ignore[arg-type]
    assert no_data in texts(figure)
    assert figure.findobj(Annotation) == []  # nothing to label
    png = render_trend_chart([empty], title="KPI", locale=locale, target_label="目標")  # type: ignore[arg-type]
    assert png[:8] == PNG_SIGNATURE


def test_no_series_at_all_still_renders() -> None:
    figure = build_trend_figure([], title="KPI", locale="en", target_label="Target")
    assert translator("en")("charts.no_data") in texts(figure)
    assert png_size(render_trend_chart([], title="KPI", locale="en", target_label="Target")) == (550, 308)


def test_missing_months_are_gaps_and_the_last_value_is_labelled() -> None:
    values: list[float | None] = [100.0, 120.0, None, None, 130.0, 12345.0, None]
    targets: list[float | None] = [None, None, 110.0, 110.0, 110.0, 110.0, 110.0]
    series = Series("インプレッション", "", MONTHS[:7], values, targets, "higher")
    figure = build_trend_figure([series], title="t", locale="ja", target_label="目標")
    ax = figure.axes[0]
    target_line, value_line = ax.get_lines()
    assert target_line.get_linestyle() == "--"
    assert target_line.get_drawstyle() == "steps-mid"
    assert [math.isnan(y) for y in value_line.get_ydata()] == [False, False, True, True, False, False, True]
    assert value_line.get_marker() == "o"
    (label,) = ax.findobj(Annotation)
    assert label.get_text() == "12,345"
    assert label.xy == (5, 12345.0)  # the last known month, not the last month
    assert to_hex(label.get_color()) == "#1a7f37"  # above target, higher is better
    assert ax.get_title(loc="left") == "インプレッション"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026-01", "2026-03", "2026-05", "2026-07"]
    assert "目標" in texts(figure)  # the legend


def test_end_label_colour_follows_the_good_direction() -> None:
    lower = Series("承認までの時間", "時間", MONTHS[:3], [20.0, 19.0, 14.5], [18.0] * 3, "lower")
    higher = Series("エンゲージメント率", "%", MONTHS[:3], [3.0, 3.2, 2.95], [3.0] * 3, "higher")
    untargeted = Series("投稿数", "件", MONTHS[:3], [1.0, 2.0, 3.0], [], "higher")
    figure = build_trend_figure([lower, higher, untargeted], title="t", locale="ja", target_label="目標")
    labels = [ax.findobj(Annotation)[0] for ax in figure.axes[:3]]
    assert [a.get_text() for a in labels] == ["14.5時間", "2.95%", "3件"]
    assert [to_hex(a.get_color()) for a in labels] == ["#1a7f37", "#cf222e", "#24292f"]
    assert [ax.get_title(loc="left") for ax in figure.axes[:3]] == [
        "承認までの時間（時間）",
        "エンゲージメント率（%）",
        "投稿数（件）",
    ]
    assert not figure.axes[3].axison  # the unused fourth cell is blank


def test_english_headings_use_the_english_catalog() -> None:
    series = Series("Engagement rate", "%", MONTHS[:2], [3.0, 3.4], [3.0, 3.0], "higher")
    figure = build_trend_figure([series], title="t", locale="en", target_label="Target")
    assert figure.axes[0].get_title(loc="left") == "Engagement rate (%)"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0"), (-0.0, "0"), (3.0, "3"), (3.4, "3.4"), (3.456, "3.46"), (0.05, "0.05"),
     (99.5, "99.5"), (123.4, "123"), (12345.0, "12,345"), (-1500.0, "-1,500")],
)  # fmt: skip
def test_format_number(value: float, text: str) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize(
    ("values", "texts_"),
    [
        ([98.75, 100.0, 101.25], ["98.75", "100.00", "101.25"]),
        ([0.0, 50000.0, 100000.0], ["0", "50,000", "100,000"]),
        ([2.5, 3.0, 3.5], ["2.5", "3.0", "3.5"]),
        ([-0.0, 0.1 + 0.2], ["0.0", "0.3"]),  # float noise does not add decimals
    ],
)
def test_format_ticks_share_enough_decimals(values: list[float], texts_: list[str]) -> None:
    assert format_ticks(values) == texts_


def test_y_axis_labels_keep_the_decimals_of_their_step() -> None:
    series = Series("クリック数", "回", MONTHS[:4], [98.5, 100.0, 101.5, 99.0], [], "higher")
    figure = build_trend_figure([series], title="t", locale="ja", target_label="目標")
    FigureCanvasAgg(figure).draw()
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels == ["97.5", "99.0", "100.5", "102.0", "103.5"]


def test_series_lengths_must_match() -> None:
    with pytest.raises(ValueError):
        Series("x", "", ["2026-01", "2026-02"], [1.0], [], "higher")
    with pytest.raises(ValueError):
        Series("x", "", ["2026-01"], [1.0], [1.0, 2.0], "higher")
    with pytest.raises(ValueError):
        Series("x", "", ["2026-01"], [1.0], [], "up")  # type: ignore[arg-type]


def test_importing_the_module_does_not_import_matplotlib() -> None:
    code = "import sys, bot.kpi.charts; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert result.stdout.strip() == "False"
