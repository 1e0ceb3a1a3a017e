"""The digest's one-page A4 PDF: Japanese text embedded as text (IPAexGothic, TrueType), every
section on one page however busy the month, quarters named as quarters (pure: digest → bytes)."""

from __future__ import annotations

import re

import pytest

from bot.digest.compose import ActivityFacts, KpiPoint, compose_monthly
from bot.digest.pdf import _width, build_page, render_page, wrap
from bot.digest.quarterly import compose_quarterly
from bot.i18n import translator
from bot.periods import PeriodKind, months_back, parse_period
from tests.conftest import make_settings
from tests.digest.pdf_support import embedded_fonts, pdf_reader, pdf_text
from tests.digest.test_ui import heavy_facts, many_kpis_settings

SETTINGS = make_settings()


def _history(settings, month, n):  # type: ignore[no-untyped-def]
    labels = [p.label for p in months_back(month, n)]
    return {k.key: [KpiPoint(label, 20.0 + i, 20.0) for i, label in enumerate(labels)] for k in settings.kpis}


def test_wrap_breaks_japanese_anywhere_and_latin_at_spaces() -> None:
    assert wrap("あいうえおかきくけこ", size=10, width_in=10 * 5 / 72) == ["あいうえお", "かきくけこ"]
    assert wrap("engagement rate rose", size=10, width_in=0.9) == ["engagement", "rate rose"]


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_a_busy_month_with_many_kpis_stays_on_one_page(locale: str) -> None:
    settings = many_kpis_settings()
    month = parse_period(PeriodKind.MONTHLY, "2026-11")
    digest = compose_monthly(
        heavy_facts("monthly", "2026-11"),
        kpis=settings.kpis,
        history=_history(settings, month, 13),
        min_impressions=100,
        best_n=10,
    )
    t = translator(locale)  # type: ignore[arg-type]
    figure = build_page(digest, settings=settings, t=t)
    # Every line is drawn inside the page (nothing falls off the bottom).
    assert all(0 < text.get_position()[1] < 1 for text in figure.texts)
    assert len(figure.axes) == 9  # three rows of three charts at most
    data = render_page(digest, settings=settings, t=t)
    assert len(pdf_reader(data).pages) == 1
    page = pdf_text(data)
    more = re.escape(t("common.words.and_more", count=999)).replace("999", r"\d+")
    assert re.search(more, page), "what does not fit is counted"
    assert t("pdf.more_kpis") in page
    assert "<!channel>" not in page and "<@" not in page


def test_a_quarter_in_english_names_the_fiscal_quarter_and_its_comparisons() -> None:
    quarter = parse_period(PeriodKind.QUARTERLY, "2026-Q2", fiscal_start=4)
    history = _history(SETTINGS, quarter.months()[-1], 15)
    digest = compose_quarterly(
        ActivityFacts(period=quarter),
        kpis=SETTINGS.kpis,
        history=history,
        stats={},
        min_impressions=100,
        best_n=5,
    )
    # Recruiting entries: months 12, 13, 14 of the history are 32 + 33 + 34 against 3 × 20.
    (entries,) = [k for k in digest.kpis if k.kpi.key == "recruiting_entries"]
    assert (entries.value, entries.target, entries.previous, entries.last_year) == (99, 60, 90, 63)
    data = render_page(digest, settings=SETTINGS, t=translator("en"))
    page = pdf_text(data)
    assert "SNS quarterly KPI digest · FY2026 Q2 (Jul–Sep)" in page
    assert "vs last quarter" in page
    assert "Solid line: the value; dashed line: the target." in page  # the charts' one legend
    assert "Recruiting entries rose 9 on the previous quarter to 99, 165 % of target." in page
    assert any("IPAexGothic" in name for name in embedded_fonts(data))


def test_wrap_keeps_numbers_whole_and_never_starts_a_line_with_closing_punctuation() -> None:
    em = 10 / 72  # one full-width character at 10 pt, in inches
    # A number is not split across lines; it moves down whole.
    assert wrap("インプレッション数は12,900", size=10, width_in=em * 12) == ["インプレッション数は", "12,900"]
    # 「）」 and 「。」 never open a line: the character before them goes down with them.
    assert wrap("あいうえおかきくけ）。", size=10, width_in=em * 10) == ["あいうえおかきく", "け）。"]
    # Nor is a katakana word: 「インプレッション 3,581」 stays on one line.
    assert wrap("エンゲージメント 203 / インプレッション 3,581）", size=10, width_in=em * 16) == [
        "エンゲージメント 203 /",
        "インプレッション 3,581）",
    ]
    # A number stays with the Japanese label before it (the label goes down with it).
    assert wrap("エンゲージメント 438 / インプレッション 7,784）", size=10, width_in=em * 20) == [
        "エンゲージメント 438 /",
        "インプレッション 7,784）",
    ]
    # Every line fits.
    for line in wrap(
        "採用エントリー数は前月から 6 増えて 34（目標比 113%）となりました。", size=10, width_in=em * 9
    ):
        assert _width(line, 10) <= em * 9 + 1e-9
