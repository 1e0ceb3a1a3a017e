"""No test asserts how long something took: a busy CI machine stalls the event loop, and a stopwatch
then fails a correct program (CI failed that way once: 1.57 s measured for a 0.2 s wait). Speed is
measured in ``bench/``; a test shows *what happened* (calls made, log lines, the answer given).

A bound on a deadline (``time.monotonic() < deadline``: "give up waiting") is a guard, not a
measurement, and is allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent

#: Calls and names that read a clock or hold a measured duration.
CLOCK_CALLS = frozenset({"monotonic", "perf_counter", "time"})
DURATION_NAMES = frozenset({"elapsed", "took", "duration"})


def _reads_a_clock(node: ast.AST) -> bool:
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            func = child.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in CLOCK_CALLS:
                return True
        if isinstance(child, ast.Name) and child.id in DURATION_NAMES:
            return True
        if isinstance(child, ast.Attribute) and child.attr in DURATION_NAMES:
            return True
    return False


def _is_deadline(node: ast.AST) -> bool:
    return any(isinstance(child, ast.Name) and "deadline" in child.id.lower() for child in ast.walk(node))


def stopwatch_asserts(source: str) -> list[int]:
    """Lines of ``assert``s that bound a measured time from above (``elapsed < 0.5``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Assert):
            continue
        for compare in ast.walk(node.test):
            if not isinstance(compare, ast.Compare):
                continue
            sides = [compare.left, *compare.comparators]
            for op, left, right in zip(compare.ops, sides, sides[1:], strict=False):
                if isinstance(op, ast.Lt | ast.LtE):
                    measured, bound = left, right
                elif isinstance(op, ast.Gt | ast.GtE):
                    measured, bound = right, left
                else:
                    continue
                if _reads_a_clock(measured) and not _is_deadline(bound):
                    found.append(node.lineno)
    return found


def test_the_checker_finds_a_stopwatch_and_allows_a_deadline() -> None:
    source = (
        "assert elapsed < 0.5\n"
        "assert time.monotonic() - started < 1.5\n"
        "assert 3.0 > response.elapsed\n"
        "assert time.monotonic() < deadline, 'gave up'\n"
        "assert slow['ok'] and time.monotonic() - started >= 0.3\n"  # a lower bound cannot flake
        "assert len(calls) < 3\n"
    )
    assert stopwatch_asserts(source) == [1, 2, 3]


def test_no_test_asserts_how_long_something_took() -> None:
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != Path(__file__).name
        for line in stopwatch_asserts(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "timed assertions (measure in bench/, assert what happened):\n" + "\n".join(
        offenders
    )
