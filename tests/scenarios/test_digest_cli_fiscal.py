"""`sns-bot digest quarterly …` and `sns-bot digest monthly --pdf FILE` as an admin runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.digest.pdf_support import embedded_fonts, pdf_reader, pdf_text
from tests.scenarios.test_digest_cli import config, seed  # the same config fixture

__all__ = ["config"]


def test_monthly_pdf_is_written_to_a_file_with_its_japanese_text(
    config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(config)
    text = config.read_text(encoding="utf-8").replace('locale = "en"', 'locale = "ja"')
    config.write_text(text, encoding="utf-8")
    out_file = tmp_path / "reports" / "2026-11.pdf"
    args = ["digest", "monthly", "--period", "2026-11", "--pdf", str(out_file), "--config", str(config)]
    assert main(args, environ={}) == 0
    assert capsys.readouterr().out.strip() == f"1 枚の PDF を {out_file} に書き出しました。"
    data = out_file.read_bytes()
    assert len(pdf_reader(data).pages) == 1
    box = pdf_reader(data).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    page = pdf_text(data)
    assert "SNS 月次 KPI レポート（2026-11）" in page
    assert "エンゲージメント率は前月から 0.4ポイント 上がって 3.4%（目標比 113%）となりました。" in page
    assert "実線は実績、点線は目標です。" in page
    assert "前月比" in page and "前年同月比" in page  # the table's comparison columns
    assert any("IPAexGothic" in name for name in embedded_fonts(data))


def test_weekly_has_no_pdf(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["digest", "weekly", "--pdf", str(tmp_path / "w.pdf"), "--config", str(config)]
    assert main(args, environ={}) == 1
    assert "Only the monthly and quarterly digests have a PDF page" in capsys.readouterr().err
    assert not (tmp_path / "w.pdf").exists()


def test_quarterly_preview_names_the_fiscal_quarter(
    config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(config)  # posts in October and November 2026
    args = ["digest", "quarterly", "--period", "2026-Q3", "--preview", "--config", str(config)]
    assert main(args, environ={}) == 0
    out = capsys.readouterr().out
    # The default fiscal year starts in April: Q3 is October to December.
    assert out.startswith("SNS quarterly KPI digest · FY2026 Q3 (Oct–Dec)\n")
    assert "2026-10-01 – 2026-12-31" in out
    # 64 engagements over 2,000 impressions; October's 3.0 % and November's 3.4 % against 3 % a month.
    assert "Value 3.2 % · target 3.0 % · 107 % of target" in out


def test_a_bad_quarter_is_refused(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["digest", "quarterly", "--period", "2026-Q5", "--preview", "--config", str(config)]
    assert main(args, environ={}) == 1
    assert '"2026-Q5" is not a period I can read. Use the form 2026-Q3.' in capsys.readouterr().err


def test_posting_a_quarter_that_is_off_is_refused(
    config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    args = ["digest", "quarterly", "--period", "2026-Q2", "--post", "--config", str(config)]
    assert main(args, environ=env) == 1
    assert "[digest.quarterly]" in capsys.readouterr().err
