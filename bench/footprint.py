"""Footprint of the real ``sns-bot run``: start-up time to a healthy ``/healthz`` on a migrated store, idle
RSS, and RSS after a burst of mixed load, with a bare Bolt ``AsyncApp`` as the baseline (I/O; a dev tool:
``python -m bench.footprint --help``)."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.ack import INTERACTIONS, Answers, Bench, probe
from bench.common import (
    FakeSlackProcess,
    Server,
    database,
    drive,
    machine,
    mib,
    migrate,
    parse_list,
    print_table,
    start_bare_bolt,
    start_bot,
    workdir,
)

#: Targets of issue 7.
IDLE_RSS_TARGET_MIB = 100.0
START_TARGET_SECONDS = 1.5


@dataclass(slots=True)
class Footprint:
    target: str
    starts: list[float] = field(default_factory=list)  # seconds, launch -> healthy
    idle_kib: list[int] = field(default_factory=list)
    migrate_seconds: float | None = None
    burst_requests: int = 0
    burst_errors: int = 0
    burst_answered: int = 0
    after_burst_kib: int | None = None
    settled_kib: int | None = None
    peak_kib: int | None = None


async def _idle(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def burst(bench: Bench, server: Server, *, count: int, result: Footprint) -> None:
    """Mixed load at concurrency 16: every ready interaction interleaved, then approvals of the
    requests the burst created (they need the review messages to exist first)."""
    ready = []
    for interaction in INTERACTIONS:
        reason = await probe(bench, server, interaction)
        if reason is None:
            ready.append(interaction)
        else:
            bench.notes.append(f"{server.name}: {interaction.name} left out of the burst: {reason}")
    plain = [i for i in ready if not i.seeded]
    seeded = [i for i in ready if i.seeded]
    for group in (plain, seeded):
        if not group:
            continue
        per = max(1, count // (len(plain) + len(seeded)))
        batches = [bench.requests(i, per, real_seeds=True) for i in group]
        requests = [r for batch in itertools.zip_longest(*batches) for r in batch if r is not None]
        load = await drive(server.events_url, requests, concurrency=16)
        await bench.answers.wait(requests, timeout=60 + len(requests) / 20)
        result.burst_requests += len(requests)
        result.burst_errors += sum(1 for s in load.samples if s.status != 200)
        result.burst_answered += sum(1 for r in requests if bench.answers.arrival(r) is not None)


async def measure_bot(
    fake: FakeSlackProcess, kind: str, *, starts: int, idle: float, count: int, notes: list[str]
) -> Footprint | None:
    with workdir() as directory, database(kind, directory) as url:
        if url is None:
            notes.append(f"{kind}: no database server; skipped")
            return None
        result = Footprint(f"bot-{kind}")
        result.migrate_seconds = migrate(directory, db_url=url, api_url=fake.api_url)
        for number in range(starts):
            server = start_bot(directory, db_url=url, api_url=fake.api_url, name=result.target)
            try:
                result.starts.append(server.start_seconds)
                await _idle(idle)
                result.idle_kib.append(server.memory_kib()[0])
                if number == starts - 1 and count:
                    bench = Bench(fake, Answers(fake))
                    await burst(bench, server, count=count, result=result)
                    result.after_burst_kib, result.peak_kib = server.memory_kib()
                    await _idle(idle)
                    result.settled_kib = server.memory_kib()[0]
                    notes.extend(bench.notes)
            finally:
                code = server.stop()
            if code != 0:
                notes.append(f"{server.name} exited with {code}:\n{server.log_tail()}")
        fake.reset()
        return result


async def measure_bare(fake: FakeSlackProcess, *, starts: int, idle: float) -> Footprint:
    result = Footprint("bare-bolt")
    with workdir() as directory:
        for _ in range(starts):
            server = start_bare_bolt(directory, api_url=fake.api_url)
            try:
                result.starts.append(server.start_seconds)
                await _idle(idle)
                result.idle_kib.append(server.memory_kib()[0])
            finally:
                server.stop()
    return result


def _median_mib(values: Sequence[int]) -> float:
    return statistics.median(values) / 1024


def report(results: Sequence[Footprint], notes: Sequence[str]) -> None:
    bare = next((r for r in results if r.target == "bare-bolt"), None)
    rows = []
    for r in results:
        start = statistics.median(r.starts)
        idle = _median_mib(r.idle_kib)
        vs_bare = ""
        if bare is not None and r is not bare:
            vs_bare = (
                f"{start / statistics.median(bare.starts):.1f}x / {idle / _median_mib(bare.idle_kib):.1f}x"
            )
        rows.append(
            [
                r.target,
                f"{r.migrate_seconds:.2f}" if r.migrate_seconds is not None else "-",
                f"{start:.2f}",
                f"{min(r.starts):.2f}-{max(r.starts):.2f}",
                f"{idle:.1f}",
                f"{r.burst_requests} ({r.burst_errors} err, {r.burst_answered} answered)"
                if r.burst_requests
                else "-",
                mib(r.after_burst_kib) if r.after_burst_kib else "-",
                mib(r.settled_kib) if r.settled_kib else "-",
                mib(r.peak_kib) if r.peak_kib else "-",
                vs_bare or "-",
            ]
        )
    print_table(
        "Footprint (start-up: launch -> first 200 from /healthz on a migrated store; RSS in MiB)",
        [
            "target",
            "migrate s",
            "start s (median)",
            "start range",
            "idle RSS",
            "burst requests",
            "RSS after burst",
            "RSS settled",
            "peak RSS",
            "start / idle RSS vs bare",
        ],
        rows,
    )
    print("\nTargets")
    for r in results:
        if r.target == "bare-bolt":
            continue
        idle = _median_mib(r.idle_kib)
        start = statistics.median(r.starts)
        print(
            f"  {'PASS' if idle <= IDLE_RSS_TARGET_MIB else 'FAIL'}  {r.target}: idle RSS {idle:.1f} MiB"
            f" <= {IDLE_RSS_TARGET_MIB:.0f} MiB"
        )
        print(
            f"  {'PASS' if start <= START_TARGET_SECONDS else 'FAIL'}  {r.target}: start-up {start:.2f} s"
            f" (median of {len(r.starts)}, max {max(r.starts):.2f} s) <= {START_TARGET_SECONDS} s"
        )
    for note in notes:
        print(f"  NOTE  {note}")


@dataclass(frozen=True, slots=True)
class Options:
    databases: tuple[str, ...]
    starts: int
    idle: float
    burst: int
    baseline: bool


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.footprint", description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite and/or postgres (default both)")
    parser.add_argument("--starts", type=int, default=5, help="start-ups measured per target (default 5)")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds idle before reading RSS (default 3)")
    parser.add_argument("--burst", type=int, default=3000, help="requests in the mixed burst (default 3000)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare Bolt baseline")
    parser.add_argument("--quick", action="store_true", help="smoke size: 1 start, 12 requests, SQLite only")
    args = parser.parse_args(argv)
    if args.quick:
        return Options(("sqlite",), 1, 0.2, 12, not args.no_baseline)
    return Options(tuple(parse_list(args.db)), args.starts, args.idle, args.burst, not args.no_baseline)


async def run(options: Options) -> None:
    print(f"bench.footprint: {options.starts} start(s) per target, burst {options.burst}; {machine()}")
    results: list[Footprint] = []
    notes: list[str] = []
    with FakeSlackProcess() as fake:
        for kind in options.databases:
            found = await measure_bot(
                fake, kind, starts=options.starts, idle=options.idle, count=options.burst, notes=notes
            )
            if found is not None:
                results.append(found)
        if options.baseline:
            results.append(await measure_bare(fake, starts=options.starts, idle=options.idle))
    report(results, notes)


def main(argv: Sequence[str] | None = None) -> int:
    asyncio.run(run(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
