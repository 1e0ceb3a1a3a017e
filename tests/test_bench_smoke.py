"""Smoke runs of the benchmarks (``--quick``: a few requests, SQLite only) so they never rot.

Only completion and the printed tables are checked, never timings: numbers belong in bench/, not in tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(module: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", module, "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.slow
def test_ack_benchmark_runs_and_prints_its_tables() -> None:
    out = _run("bench.ack")
    assert "Ack latency (ms" in out
    assert "Time to the full answer (ms" in out
    ack_rows = [line.split() for line in out.splitlines() if line.startswith(("bot-sqlite ", "bare-bolt "))]
    # kpi_help is always there: on the bot (both tables) and on the bare Bolt baseline, at c=1 and c=4.
    assert ["bot-sqlite", "kpi_help", "1", "10", "0"] in [row[:5] for row in ack_rows]
    assert ["bare-bolt", "kpi_help", "4", "10", "0"] in [row[:5] for row in ack_rows]
    assert ["bot-sqlite", "kpi_help", "response_url", "4", "10/10"] in [row[:5] for row in ack_rows]
    assert "\nTargets\n" in out


@pytest.mark.slow
def test_footprint_benchmark_runs_and_prints_its_table() -> None:
    out = _run("bench.footprint")
    assert "Footprint (start-up" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith(("bot-", "bare-"))}
    assert set(rows) == {"bot-sqlite", "bare-bolt"}
    assert "0 err," in " ".join(rows["bot-sqlite"])
    assert "idle RSS" in out
