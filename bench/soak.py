"""Soak: the real ``sns-bot run`` under a steady mixed load for minutes, watched for memory and
file-descriptor growth and for errors in its log that no user caused (I/O; a dev tool:
``python -m bench.soak --help``).

The load, in rounds: slash commands (``/sns-kpi help``, ``/sns-kpi``, ``/sns-review``), review
request submissions, Approve clicks and approve submissions (the requests ``bench.ack`` builds),
while the scheduler runs both digests and the X metrics collector every minute. The collector talks to
a fake X API that answers 500s, 429s, too slowly and with broken bodies as well as normally. Its
``X_BEARER_TOKEN`` is real to the bot; only the collector's base URL is pointed at the fake, by the
launcher :func:`serve_bot` (the product has no setting for it, and needs none).

RSS (``VmRSS``) and open fds are sampled at start and every 30 s (shorter runs: a sixth of the run).
Growth is measured from the first sample after warm-up (a fifth of the run, at least one sample) to
the highest later one. The verdict lines say PASS/FAIL; the exit code is 1 when any failed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bench.ack import INTERACTIONS, Answers, Bench
from bench.common import FakeSlackProcess, database, drive, machine, print_table, workdir
from tests.reliability.bot_process import BotConfig, BotProcess, start_bot

EVERY_MINUTE = "* * * * *"
#: Budgets after warm-up (issue 8, item 7).
RSS_GROWTH_BUDGET_MIB = 30.0
FD_GROWTH_BUDGET = 10
#: The collector's HTTP timeout in the soak config; the fake's "slow" answer takes longer.
COLLECTOR_TIMEOUT_SECONDS = 2.0
X_TOKEN = "soak-x-bearer-token-0123456789"
X_API_ENV = "SOAK_X_API_URL"

#: Log records at ERROR the soak's own faults cause, as (logger, start of the message).
#: Empty: an injected platform fault must end as a WARNING and a collector_run row, never an ERROR.
EXPECTED_ERRORS: tuple[tuple[str, str], ...] = ()


# ------------------------------------------------------------------------------------ the bot


def serve_bot() -> None:
    """Process body: ``sns-bot`` with the X collector's base URL taken from ``$SOAK_X_API_URL``."""
    import bot.platforms as platforms
    from bot.cli import main
    from bot.platforms.x import XClient

    original = platforms.build_clients
    base_url = os.environ[X_API_ENV]

    def build_clients(http: Any, *, tokens: Any, clock: Any = None, sleep: Any = asyncio.sleep) -> Any:
        clients = original(http, tokens=tokens, clock=clock, sleep=sleep)
        if "x" in clients:
            clients["x"] = XClient(
                http, bearer_token=tokens["x"], base_url=base_url, clock=clock, sleep=sleep
            )
        return clients

    platforms.build_clients = build_clients  # bot.app imports it at run time, from the package
    sys.exit(main(sys.argv[1:]))


# ------------------------------------------------------------------------------------ fake X


@dataclass(slots=True)
class FakeX:
    """The X API v2 endpoints the collector calls, cycling through faults and good answers."""

    faults: itertools.cycle[str] = field(default_factory=lambda: itertools.cycle(FakeX.SEQUENCE))
    answered: Counter[str] = field(default_factory=Counter)
    runner: web.AppRunner | None = None
    url: str = ""

    SEQUENCE = ("ok", "500", "429", "slow", "broken", "ok", "ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/2/{path:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/2/"

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        fault = next(self.faults)
        self.answered[fault] += 1
        if fault == "500":
            return web.Response(
                status=500, text="<html>Internal Server Error</html>", content_type="text/html"
            )
        if fault == "429":
            reset = int(time.time()) + 1
            headers = {"x-rate-limit-reset": str(reset), "retry-after": "1"}
            return web.json_response({"title": "Too Many Requests"}, status=429, headers=headers)
        if fault == "slow":
            await asyncio.sleep(COLLECTOR_TIMEOUT_SECONDS + 1)
        if fault == "broken":
            return web.Response(status=200, text='{"data": {"id": ', content_type="application/json")
        path = request.match_info["path"]
        if path.startswith("users/"):
            user_id = path.split("/", 1)[1]
            return web.json_response(
                {
                    "data": {
                        "id": user_id,
                        "username": "example_corp",
                        "public_metrics": {"followers_count": 1200},
                    }
                }
            )
        return web.json_response({"data": []})


# ------------------------------------------------------------------------------------ samples


@dataclass(frozen=True, slots=True)
class Sample:
    at: float  # seconds since the bot was healthy
    rss_kib: int
    fds: int
    requests: int
    failed: int
    collector_calls: int


@dataclass(slots=True)
class Load:
    sent: int = 0
    failed: int = 0  # no HTTP 200 (an ack the bot refused or never gave)
    by_interaction: Counter[str] = field(default_factory=Counter)


async def load_rounds(bench: Bench, bot: BotProcess, *, until: float, load: Load, pause: float) -> None:
    """One request of every interaction per round (approvals use the requests just created)."""
    while time.monotonic() < until:
        for interaction in INTERACTIONS:
            requests = bench.requests(interaction, 1, real_seeds=True)
            if not requests:
                continue  # nothing waiting for approval yet
            result = await drive(bot.events_url, requests, concurrency=1)
            load.sent += len(result.samples)
            load.failed += sum(1 for s in result.samples if s.status != 200)
            load.by_interaction[interaction.name] += len(result.samples)
            bench.answers.update()  # the modals the bot opened: the next submissions fill them in
        await asyncio.sleep(pause)


def unexpected_errors(bot: BotProcess) -> list[str]:
    """ERROR and CRITICAL records that no injected fault explains."""
    out = []
    for record in bot.records():
        if record.get("level") not in ("ERROR", "CRITICAL"):
            continue
        logger, message = str(record.get("logger")), str(record.get("message"))
        if not any(logger == name and message.startswith(start) for name, start in EXPECTED_ERRORS):
            out.append(f"{logger}: {message}")
    return out


@dataclass(frozen=True, slots=True)
class Verdict:
    text: str
    ok: bool


def judge(
    samples: Sequence[Sample],
    *,
    warm_index: int,
    load: Load,
    bot: BotProcess,
    code: int,
    fake: FakeSlackProcess,
) -> list[Verdict]:
    base = samples[warm_index]
    later = samples[warm_index:]
    rss_growth = (max(s.rss_kib for s in later) - base.rss_kib) / 1024
    fd_growth = max(s.fds for s in later) - base.fds
    errors = unexpected_errors(bot)
    digests = Counter(
        (m["metadata"]["event_payload"]["kind"], m["metadata"]["event_payload"]["period"])
        for m in fake.messages("C0MGMT0001")
        if (m.get("metadata") or {}).get("event_type") == "sns_digest"
    )
    verdicts = [
        Verdict(
            f"RSS growth after warm-up {rss_growth:+.1f} MiB <= {RSS_GROWTH_BUDGET_MIB:.0f} MiB",
            rss_growth <= RSS_GROWTH_BUDGET_MIB,
        ),
        Verdict(
            f"open fds growth after warm-up {fd_growth:+d} <= {FD_GROWTH_BUDGET}",
            fd_growth <= FD_GROWTH_BUDGET,
        ),
        Verdict(f"{load.sent} requests, {load.failed} without a 200 ack", load.sent > 0 and load.failed == 0),
        Verdict(f"{len(errors)} ERROR log records no injected fault explains", not errors),
        Verdict(
            f"digests: {dict(sorted(digests.items()))} (one message per kind and period)",
            sorted(k for k, _ in digests) == ["monthly", "weekly"] and set(digests.values()) == {1},
        ),
        Verdict(f"the bot stopped cleanly on SIGTERM (exit {code})", code == 0),
        Verdict(
            f"the collector ran against the faulty X API ({samples[-1].collector_calls} calls)",
            samples[-1].collector_calls > 0 or samples[-1].at < 60,
        ),
    ]
    verdicts += [Verdict(f"  {line}", False) for line in errors[:20]]
    return verdicts


# ------------------------------------------------------------------------------------ main


@dataclass(frozen=True, slots=True)
class Options:
    minutes: float
    db: str
    pause: float


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the load runs (default 10)")
    parser.add_argument(
        "--db", choices=("postgres", "sqlite"), default="postgres", help="store (default postgres)"
    )
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between load rounds (default 0.5)")
    args = parser.parse_args(argv)
    if args.minutes <= 0:
        parser.error("--minutes must be positive")
    return Options(args.minutes, args.db, args.pause)


async def soak(options: Options) -> bool:
    duration = options.minutes * 60
    interval = min(30.0, max(2.0, duration / 6))
    warm_up = max(interval, duration / 5)
    print(f"bench.soak: {options.minutes:g} min on {options.db}, sample every {interval:.0f} s; {machine()}")
    fake_x = FakeX()
    await fake_x.start()
    try:
        with FakeSlackProcess() as fake, workdir() as directory, database(options.db, directory) as url:
            if url is None:
                print("no PostgreSQL server: nothing measured (use --db sqlite)")
                return False
            config = BotConfig(
                db_url=url,
                log_level="INFO",
                weekly_cron=EVERY_MINUTE,
                monthly_cron=EVERY_MINUTE,
                catch_up_days=0.01,
                lease_seconds=10,
                collectors_cron=EVERY_MINUTE,
                collectors_timeout_seconds=COLLECTOR_TIMEOUT_SECONDS,
            )
            bot = start_bot(
                directory,
                config=config,
                api_url=fake.api_url,
                argv=[sys.executable, "-c", "from bench.soak import serve_bot; serve_bot()", "run"],
                env={"X_BEARER_TOKEN": X_TOKEN, X_API_ENV: fake_x.url},
            )
            try:
                await bot.wait_healthy()
                started = time.monotonic()
                bench = Bench(fake, Answers(fake))
                load = Load()
                samples: list[Sample] = []

                def sample() -> None:
                    samples.append(
                        Sample(
                            time.monotonic() - started,
                            bot.rss_kib(),
                            bot.open_fds(),
                            load.sent,
                            load.failed,
                            sum(fake_x.answered.values()),
                        )
                    )

                async def sampler() -> None:
                    while True:
                        sample()
                        await asyncio.sleep(interval)

                watching = asyncio.create_task(sampler())
                try:
                    await load_rounds(bench, bot, until=started + duration, load=load, pause=options.pause)
                finally:
                    watching.cancel()
                sample()
                await asyncio.sleep(1)  # the answers of the last round
            finally:
                code = bot.stop()
            warm_index = next((i for i, s in enumerate(samples) if s.at >= warm_up), len(samples) - 1)
            print_table(
                "Soak samples (the bot process; warm-up ends at the row marked *)",
                ["t (s)", "RSS MiB", "fds", "requests", "not 200", "X calls"],
                [
                    [
                        f"{s.at:.0f}{'*' if i == warm_index else ''}",
                        f"{s.rss_kib / 1024:.1f}",
                        s.fds,
                        s.requests,
                        s.failed,
                        s.collector_calls,
                    ]
                    for i, s in enumerate(samples)
                ],
            )
            print(f"\nrequests by interaction: {dict(load.by_interaction)}")
            print(f"fake X answers: {dict(fake_x.answered)}")
            verdicts = judge(samples, warm_index=warm_index, load=load, bot=bot, code=code, fake=fake)
            print("\nVerdict")
            for verdict in verdicts:
                print(f"  {'PASS' if verdict.ok else 'FAIL'}  {verdict.text}")
            return all(v.ok for v in verdicts)
    finally:
        await fake_x.close()


def main(argv: Sequence[str] | None = None) -> int:
    return 0 if asyncio.run(soak(parse_args(argv))) else 1


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["main", "serve_bot"]
