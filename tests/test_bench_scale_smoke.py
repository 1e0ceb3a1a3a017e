"""Smoke runs of the scale and import benchmarks: they complete and print their tables (timings are
never asserted; ``bench/`` holds the real runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import scale

ROOT = Path(__file__).resolve().parents[1]


def test_scale_quick_prints_its_tables(capsys: pytest.CaptureFixture[str]) -> None:
    assert scale.main(["--quick"]) == 0

    out = capsys.readouterr().out
    assert "Answers (median ms" in out
    assert "Growth (median total ms" in out
    for label in ("/sns-kpi", "weekly digest", "monthly digest + chart", "App Home (busy manager)"):
        assert f"sqlite smoke  {label}" in out
    assert "Targets at smoke" in out


def test_import_quick_prints_its_table() -> None:
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    done = subprocess.run(
        [sys.executable, "-m", "bench.import", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "Import (whole `sns-bot import posts` process on a fresh store)" in done.stdout
    assert "sqlite  generic    2,000" in done.stdout
    assert "sqlite  x_content  2,000" in done.stdout
    assert "Posts: 2,000 new, 0 updated, 0 unchanged." in done.stdout
