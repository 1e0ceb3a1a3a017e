"""A 20-second smoke run of the soak (``bench/soak.py``) so it never rots: the real bot under the mixed
load, scheduler and faulty collector, with every verdict (memory, fds, acks, log errors, digests once,
clean stop) passing. The full 10-minute run is ``python -m bench.soak`` (see .notes/reliability-3.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_soak_smoke_run_passes_every_verdict() -> None:
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--minutes", "0.34", "--db", "sqlite"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "Soak samples" in out
    verdicts = [
        line.split(None, 1)[0] for line in out.split("\nVerdict\n", 1)[1].splitlines() if line.strip()
    ]
    assert verdicts == ["PASS"] * 7, out
