"""Import throughput and peak memory of the real ``sns-bot import posts`` on a 1,000,000-row CSV, in the
generic and the X Content formats, into SQLite and PostgreSQL (I/O; a dev tool:
``python -m bench.import --help``; the module is only runnable, ``import`` being a keyword).

Each import runs in its own process, as a person would run it, on a fresh store: wall time covers the
whole command (start-up, migrations, detection, parsing, writing, commit). Peak memory is the process's
``VmHWM`` read from ``/proc/self/status`` as it exits plus the peak RSS of the parsing child it starts for
a large file (``getrusage(RUSAGE_CHILDREN)``): the sum of the two peaks, never less than what they held
together. The CSVs are generated once and cached under
``bench/.cache/``.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import BOT_TOKEN, ROOT, SIGNING_SECRET, database, machine, parse_list, print_table

CACHE_DIR = ROOT / "bench" / ".cache"
#: Targets of issue 7 for 1,000,000 rows.
ROWS_PER_SECOND_TARGET = 50_000
PEAK_MIB_TARGET = 300.0
_HWM_MARK = "BENCH-VmHWM-kB:"

CONFIG = """
locale = "en"
timezone = "Asia/Tokyo"
[database]
url = "{db_url}"
[roles]
managers = ["U0MANAGER1"]
admins = ["U0ADMIN001"]
[review]
channel = "C0REVIEW01"
[[accounts]]
key = "x_corp"
platform = "x"
handle = "@example_corp"
name = "X"
[[accounts]]
key = "ig_corp"
platform = "instagram"
handle = "@example_ig"
name = "Instagram"
[[accounts]]
key = "fb_corp"
platform = "facebook"
handle = "@example_fb"
name = "Facebook"
[[kpis]]
key = "engagement_rate"
name = {{ ja = "エンゲージメント率", en = "Engagement rate" }}
unit = "%"
aggregate = "derived"
derive = "engagement_rate"
better = "higher"
target = 3.0
why = {{ ja = "反応の深さを表します。", en = "How deeply people react." }}
"""

_START = datetime(2024, 1, 1, tzinfo=UTC)
_TEXTS = (
    "新商品のお知らせです。詳しくはプロフィールのリンクから。",
    'Our "summer sale" starts today, see the link',
    "採用説明会を開催します。\nご応募お待ちしています。",
    "Behind the scenes of our new campaign, part {n}",
)


# ------------------------------------------------------------------------------------ files


def _write_generic(path: Path, rows: int) -> None:
    rng = random.Random(3)
    accounts = (
        ("x_corp", "x.com/acme/status"),
        ("ig_corp", "instagram.com/p"),
        ("fb_corp", "facebook.com/p"),
    )
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "account",
                "url",
                "published_at",
                "text",
                "impressions",
                "engagements",
                "likes",
                "comments",
                "shares",
                "clicks",
                "reach",
                "saves",
                "video_views",
                "external_id",
                "author",
            ]
        )
        for i in range(rows):
            account, base = accounts[i % 3]
            at = _START + timedelta(minutes=i)
            imp = int(rng.lognormvariate(7, 1.2))
            likes = imp // 40
            w.writerow(
                [
                    account,
                    f"https://{base}/{10**15 + i}",
                    at.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                    _TEXTS[i % 4].format(n=i),
                    imp,
                    likes + 3,
                    likes,
                    1,
                    2,
                    "",
                    imp - imp // 5,
                    "",
                    "",
                    "",
                    "sato" if i % 7 == 0 else "",
                ]
            )


def _write_x_content(path: Path, rows: int) -> None:
    rng = random.Random(5)
    header = (
        "Post id,Date,Post text,Post Link,Impressions,Likes,Engagements,Bookmarks,Shares,New follows,"
        "Replies,Reposts,Profile visits,Detail Expands,URL Clicks,Hashtag Clicks,Permalink Clicks"
    ).split(",")
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i in range(rows):
            post_id = 2 * 10**18 + i
            day = _START + timedelta(minutes=i)
            imp = int(rng.lognormvariate(7, 1.2))
            likes = imp // 40
            w.writerow(
                [
                    post_id,
                    day.strftime("%a, %b %-d, %Y"),
                    _TEXTS[i % 4].format(n=i),
                    f"https://x.com/acme/status/{post_id}",
                    imp,
                    likes,
                    likes + 4,
                    0,
                    0,
                    0,
                    1,
                    2,
                    3,
                    5,
                    1,
                    0,
                    0,
                ]
            )


@dataclass(frozen=True, slots=True)
class ImportFormat:
    name: str
    writer: object
    args: tuple[str, ...]


FORMATS = {
    "generic": ImportFormat("generic", _write_generic, ()),
    "x_content": ImportFormat("x_content", _write_x_content, ("--account", "x_corp")),
}


def csv_file(fmt: ImportFormat, rows: int, directory: Path) -> Path:
    path = directory / f"import-{fmt.name}-{rows}.csv"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        fmt.writer(partial, rows)  # type: ignore[operator]
        partial.rename(path)
    return path


# ------------------------------------------------------------------------------------ running

#: The child: ``python -m bot import …``, then on the way out (exit code kept) its own peak RSS, the
#: largest peak RSS of the processes it started and reaped (the parsing child of a large import),
#: and the CPU seconds of both.
_CHILD = (
    "import resource, runpy, sys\n"
    "try:\n"
    "    runpy.run_module('bot', run_name='__main__')\n"
    "finally:\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))\n"
    f"    print('{_HWM_MARK}', hwm, kids.ru_maxrss, me.ru_utime + me.ru_stime,"
    " kids.ru_utime + kids.ru_stime, file=sys.stderr)\n"
)


@dataclass(frozen=True, slots=True)
class Result:
    store: str
    format: str
    rows: int
    seconds: float
    #: Peak RSS of the import process (``VmHWM``).
    peak_kib: int
    exit_code: int
    summary: str
    #: 1-minute load average right after the import (the machine is shared; figures scale with it).
    load: float = 0.0
    #: Peak RSS of the largest process the import started (its parsing child), 0 without one.
    child_peak_kib: int = 0
    #: CPU seconds (user + system) of the import process and of the processes it started.
    cpu_seconds: float = 0.0
    child_cpu_seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds

    @property
    def total_peak_kib(self) -> int:
        """Both peaks added up: at least the most the two processes ever held together."""
        return self.peak_kib + self.child_peak_kib


def run_import(*, store: str, db_url: str, path: Path, fmt: ImportFormat, rows: int, workdir: Path) -> Result:
    config = workdir / "config.toml"
    config.write_text(CONFIG.format(db_url=db_url), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SNS_BOT_CONFIG")}
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, PYTHONPATH=str(ROOT))
    argv = [sys.executable, "-c", _CHILD, "import", "posts", str(path), "--config", str(config), *fmt.args]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    usage = next(
        (line.split()[1:] for line in done.stderr.splitlines() if line.startswith(_HWM_MARK)),
        ["0", "0", "0", "0"],
    )
    if done.returncode != 0:
        print(f"import {fmt.name} into {store} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return Result(
        store,
        fmt.name,
        rows,
        seconds,
        int(usage[0]),
        done.returncode,
        (done.stdout.strip().splitlines() or [""])[-1],
        os.getloadavg()[0],
        child_peak_kib=int(usage[1]),
        cpu_seconds=float(usage[2]),
        child_cpu_seconds=float(usage[3]),
    )


# ------------------------------------------------------------------------------------ main


@dataclass(frozen=True, slots=True)
class Options:
    rows: int
    formats: tuple[str, ...]
    databases: tuple[str, ...]
    #: Where the CSVs are kept; ``None``: a temporary directory removed afterwards (the smoke run).
    cache_dir: Path | None


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.import", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per CSV (default 1,000,000)")
    parser.add_argument("--formats", default="generic,x_content", help="generic and/or x_content")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite and/or postgres (default both)")
    parser.add_argument("--quick", action="store_true", help="smoke size: 2,000 rows, SQLite, temp files")
    args = parser.parse_args(argv)
    if args.quick:
        return Options(2_000, tuple(FORMATS), ("sqlite",), None)
    return Options(args.rows, tuple(parse_list(args.formats)), tuple(parse_list(args.db)), CACHE_DIR)


def run(options: Options) -> list[Result]:
    if options.cache_dir is None:
        with tempfile.TemporaryDirectory(prefix="sns-bench-import-") as directory:
            return run(replace(options, cache_dir=Path(directory)))
    cache_dir = options.cache_dir
    print(f"bench.import: {options.rows:,} rows per file; {machine()}")
    results: list[Result] = []
    for name in options.formats:
        fmt = FORMATS[name]
        started = time.perf_counter()
        path = csv_file(fmt, options.rows, cache_dir)
        made = time.perf_counter() - started
        size_mib = path.stat().st_size / 2**20
        print(
            f"{path.name}: {size_mib:.0f} MiB" + (f" (written in {made:.0f} s)" if made > 1 else " (cached)")
        )
        for kind in options.databases:
            with (
                tempfile.TemporaryDirectory(prefix="sns-bench-import-") as tmp,
                database(kind, Path(tmp)) as url,
            ):
                if url is None:
                    continue
                results.append(
                    run_import(
                        store=kind, db_url=url, path=path, fmt=fmt, rows=options.rows, workdir=Path(tmp)
                    )
                )
    report(results)
    return results


def report(results: Sequence[Result]) -> None:
    print_table(
        "Import (whole `sns-bot import posts` process on a fresh store)",
        [
            "store",
            "format",
            "rows",
            "wall s",
            "rows/s",
            "peak RSS MiB",
            "(main + child)",
            "CPU s main",
            "CPU s child",
            "load 1m",
            "exit",
            "report",
        ],
        [
            [
                r.store,
                r.format,
                f"{r.rows:,}",
                f"{r.seconds:.1f}",
                f"{r.rows_per_second:,.0f}",
                f"{r.total_peak_kib / 1024:.0f}",
                f"{r.peak_kib / 1024:.0f} + {r.child_peak_kib / 1024:.0f}",
                f"{r.cpu_seconds:.1f}",
                f"{r.child_cpu_seconds:.1f}",
                f"{r.load:.1f}",
                r.exit_code,
                r.summary,
            ]
            for r in results
        ],
        text_columns=2,
    )
    print("\nTargets (issue 7, for 1,000,000 rows)")
    for r in results:
        ok = r.exit_code == 0 and r.rows_per_second >= ROWS_PER_SECOND_TARGET
        print(
            f"  {'PASS' if ok else 'FAIL'}  {r.store} {r.format}: {r.rows_per_second:,.0f} rows/s"
            f" >= {ROWS_PER_SECOND_TARGET:,}"
        )
        ok = r.total_peak_kib / 1024 <= PEAK_MIB_TARGET
        print(
            f"  {'PASS' if ok else 'FAIL'}  {r.store} {r.format}: peak {r.total_peak_kib / 1024:.0f} MiB"
            f" (import process + its parsing child) <= {PEAK_MIB_TARGET:.0f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    run(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
