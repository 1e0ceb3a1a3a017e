"""`sns-bot demo` on a fresh machine: no config, no Slack, no network — readable digests and a chart."""

from __future__ import annotations

import io
from pathlib import Path

from bot.cli import main
from bot.demo import demo
from tests.digest.pdf_support import pdf_text


def test_demo_prints_kpi_answer_and_both_digests_in_japanese(
    tmp_path: Path, capsys: object, monkeypatch: object
) -> None:
    monkeypatch.chdir(tmp_path)  # type: ignore[attr-defined]  # a user's config.toml here must not matter
    (tmp_path / "config.toml").write_text("this is not toml", encoding="utf-8")
    assert main(["demo", "--out", str(tmp_path / "out")], environ={}) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    for expected in (
        "SNS 指標",  # the /sns-kpi answer, built by the KPI feature
        "SNS 週次ハイライト（2026-W48）",
        "公開した投稿: 5 件",
        "🏆 エンゲージメント率の高い投稿（インプレッション 500 以上）",
        "@佐藤 美咲",
        "⏳ 承認待ちのレビュー（2 件・古い順）",
        "SNS 月次 KPI レポート（2026-11）",
        "採用エントリー数は前月から 6 増えて 34（目標比 113%）となりました。",
        "📝 差し戻し理由の上位",
    ):
        assert expected in out
    assert "<@" not in out and "<http" not in out and "&lt;" not in out  # terminal text, not mrkdwn
    png = (tmp_path / "out" / "sns-kpi-2026-11.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    # The one-page PDF for executives, with the demo team's names instead of user ids.
    page = pdf_text((tmp_path / "out" / "sns-kpi-2026-11.pdf").read_bytes())
    assert "SNS 月次 KPI レポート（2026-11）" in page and "佐藤 美咲" in page


async def test_demo_in_english(tmp_path: Path) -> None:
    buffer = io.StringIO()
    chart = await demo(out_dir=tmp_path, locale="en", stdout=buffer)
    text = buffer.getvalue()
    assert "SNS weekly wins · 2026-W48" in text
    assert "Recruiting entries rose 6 to 34, 113 % of target." in text
    assert "@Misaki Sato" in text
    assert chart == tmp_path / "sns-kpi-2026-11.png" and chart.exists()
