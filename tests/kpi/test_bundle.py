"""The Search Console zip as downloaded: its tables recognised by header (not by localized file name) and
the period its ``Filters.csv`` states."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest

from bot.errors import BotError
from bot.kpi.importers._bundle import MAX_MEMBERS, stated_period, unpack


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"Aug 28, 2026-Sep 3, 2026"', (date(2026, 8, 28), date(2026, 9, 3))),
        ("2026-11-01 - 2026-11-30", (date(2026, 11, 1), date(2026, 11, 30))),
        ('"2026/11/01～2026/11/30"', (date(2026, 11, 1), date(2026, 11, 30))),
        ("2026年11月1日～2026年11月30日", (date(2026, 11, 1), date(2026, 11, 30))),
        ("Last 6 months", None),  # relative: the chart's days say which
        ("過去 3 か月間", None),
        ('"Compare: Nov 1, 2026-Nov 30, 2026 vs Oct 1, 2026-Oct 31, 2026"', None),
    ],
)
def test_the_stated_period(tmp_path: Path, value: str, expected: tuple[date, date] | None) -> None:
    path = tmp_path / "Filters.csv"
    path.write_text(f"Filter,Value\nSearch type,Web\nDate,{value}", encoding="utf-8")
    assert stated_period(path) == expected


def test_tables_are_recognised_by_their_header_whatever_their_name(tmp_path: Path) -> None:
    archive_path = tmp_path / "export.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr(
            "../../etc/クエリ.csv", "上位のクエリ,クリック数,表示回数,CTR,掲載順位\nexample,1,2,50%,1\n"
        )
        archive.writestr("renamed.csv", "Date,Clicks,Impressions,CTR,Position\n2026-11-01,1,2,50%,1\n")
        archive.writestr("Pages.csv", "Top pages,Clicks,Impressions,CTR,Position\n")
        archive.writestr("readme.md", "not a table")
    out = tmp_path / "out"
    out.mkdir()
    bundle = unpack(archive_path, out)
    assert bundle.queries is not None and bundle.queries.parent == out  # never the member's own path
    assert bundle.chart is not None and bundle.filters is None
    assert bundle.others == ("Pages.csv",) and bundle.stated is None


def test_a_zip_with_too_many_files_is_refused(tmp_path: Path) -> None:
    archive_path = tmp_path / "many.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for i in range(MAX_MEMBERS + 1):
            archive.writestr(f"{i}.csv", "a,b\n")
    with pytest.raises(BotError) as refused:
        unpack(archive_path, tmp_path)
    assert refused.value.key == "imports.errors.bad_zip"
