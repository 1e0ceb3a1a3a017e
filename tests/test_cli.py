"""`sns-bot` exit codes and the config path rules of the contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "config.example.toml")


#: What `run` needs in HTTP mode; without it `check-config` refuses as `run` does.
SECRETS = {"SLACK_BOT_TOKEN": "xoxb-1111-2222-testtokenvalue", "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd"}


def test_check_config_on_the_example_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--config", EXAMPLE], environ=SECRETS) == 0
    out = capsys.readouterr().out
    assert out.startswith("設定に問題はありません: アカウント 2 件、指標 5 件")


def test_config_is_accepted_before_or_after_the_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", EXAMPLE, "check-config"], environ=SECRETS) == 0
    assert main(["check-config"], environ={"SNS_BOT_CONFIG": EXAMPLE, **SECRETS}) == 0


def test_bad_config_exits_1_and_lists_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text('locale = "fr"\ntimezone = "Nowhere/City"\n', encoding="utf-8")
    assert main(["check-config", "--config", str(bad)], environ={}) == 1
    err = capsys.readouterr().err
    assert "locale" in err and "timezone" in err and "review.channel" in err and "accounts" in err


def test_missing_config_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--config", str(tmp_path / "none.toml")], environ={}) == 1


def test_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as info:
        main(["digest", "weekly"], environ={})  # neither --preview nor --post
    assert info.value.code == 2


def test_migrate_creates_the_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text(Path(EXAMPLE).read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["migrate", "--config", str(config)], environ={}) == 0
    assert (tmp_path / "sns_bot.db").exists()
    assert "データベースは最新の状態です。" in capsys.readouterr().out


def test_check_config_warns_about_kpis_without_a_glossary_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = Path(EXAMPLE).read_text(encoding="utf-8")
    start = text.index("[kpis.glossary]\nwhat")  # recruiting_entries' entry
    end = text.index("\n\n", start)
    config = tmp_path / "config.toml"
    config.write_text(text[:start] + text[end + 2 :], encoding="utf-8")
    assert main(["check-config", "--config", str(config)], environ=SECRETS) == 0  # a warning, not a problem
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("設定に問題はありません")
    assert out[1:] == [
        "  - kpis[0] (recruiting_entries): 警告: 用語集の what / how / good / move がありません。"
        "管理職が指標を読み解けるよう [kpis.glossary] の what / how / good / move を追加してください"
    ]
