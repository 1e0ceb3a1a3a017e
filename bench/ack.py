"""Ack latency, throughput and time to the full answer of the real ``sns-bot run`` (HTTP mode, SQLite and
PostgreSQL) against the fake Slack API, with a bare Bolt ``AsyncApp`` measured in the same run as the
baseline (I/O; a dev tool: ``python -m bench.ack --help``).

Each interaction is one entry of :data:`INTERACTIONS`: how to build its signed request and which call
at the fake is its full answer. Interactions that need existing review requests take their seeds
from the review channel as the fake holds it (requests created by ``review_submit`` just before).
An interaction whose probe gets no answer (e.g. not implemented yet) is reported and skipped. Events
API deliveries (a reaction, a thread reply on the bot's post) have no answer at Slack: only their ack
is measured (Bolt acks them before the listener records the mark).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import (
    ACCOUNT_KEY,
    MANAGER,
    OPERATOR,
    REVIEW_CHANNEL,
    FakeSlackProcess,
    LoadResult,
    Request,
    Sample,
    Server,
    Stats,
    database,
    drive,
    fmt_ms,
    machine,
    parse_list,
    print_table,
    start_bare_bolt,
    start_bot,
    summarize,
    workdir,
)
from tests.fakes import payloads
from tests.fakes.signing import FORM, JSON, event_body, interactivity_body, slash_command_body
from tests.fakes.slack import Call

BARE = "bare-bolt"
#: Targets of issue 7 (milliseconds, fractions).
ACK_P99_TARGET_MS = 25.0
ACK_MAX_TARGET_MS = 1000.0
RPS_SHARE_TARGET = 0.70
#: A trigger_id is good for 3 s: a views.open after that fails with expired_trigger_id.
TRIGGER_SECONDS = 3.0
TARGET_CONCURRENCY = 16

_MARK_RE = re.compile(r"BENCH-r\d+-\d+")


# ------------------------------------------------------------------------------------ answers


def answer_keys(call: Call) -> list[str]:
    """The keys a fake call answers: a response_url name, a trigger id, a message ts, a draft marker."""
    if call.method == "response_url":
        return ["url:" + call.path.rsplit("/", 1)[-1]]
    if call.method in ("views.open", "views.push"):
        return ["trigger:" + str(call.params.get("trigger_id"))]
    if call.method == "chat.update":
        return ["ts:" + str(call.params.get("ts"))]
    if call.method == "chat.postMessage" and call.params.get("channel") == REVIEW_CHANNEL:
        return ["mark:" + m for m in _MARK_RE.findall(json.dumps(call.params, ensure_ascii=False))]
    return []


class Answers:
    """Earliest fake-side arrival time of every answer key, fetched incrementally from the fake."""

    def __init__(self, fake: FakeSlackProcess, *, views: dict[str, dict[str, Any]] | None = None) -> None:
        self._fake = fake
        self._offset = 0
        self.first: dict[str, float] = {}
        #: The last modal the bot opened, per callback id: submissions are filled in from it.
        self.views: dict[str, dict[str, Any]] = {} if views is None else views

    def update(self) -> int:
        calls = self._fake.calls(self._offset)
        self._offset += len(calls)
        for call in calls:
            for key in answer_keys(call):
                self.first.setdefault(key, call.at)
            view = call.params.get("view") if call.method in ("views.open", "views.push") else None
            if isinstance(view, dict) and view.get("callback_id"):
                self.views[str(view["callback_id"])] = view
        return len(calls)

    def arrival(self, request: Request) -> float | None:
        times = [self.first[k] for k in request.keys if k in self.first]
        return min(times) if times else None

    async def wait(self, requests: Sequence[Request], *, timeout: float, idle: float = 5.0) -> None:
        """Until every request has its answer, nothing new arrived for ``idle`` s, or ``timeout``."""
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            if self.update():
                quiet_since = time.monotonic()
            if all(self.arrival(r) is not None for r in requests):
                break
            if time.monotonic() - quiet_since > idle:
                break
            await asyncio.sleep(0.1)
        # Work after the answer (thread replies, DMs) must not spill into the next measurement.
        while self.update():
            await asyncio.sleep(0.3)


# ------------------------------------------------------------------------------------ interactions


@dataclass(frozen=True, slots=True)
class Seed:
    """A review request as posted in the review channel, with its Approve button value."""

    ts: str
    text: str
    blocks: list[dict[str, Any]]
    value: str


@dataclass(frozen=True, slots=True)
class Build:
    """What a builder gets: the fake (for response URLs), a unique run tag, the request's index."""

    fake: FakeSlackProcess
    tag: str
    index: int
    seed: Seed | None
    views: dict[str, dict[str, Any]]

    @property
    def name(self) -> str:
        return f"{self.tag}-{self.index}"

    @property
    def view_id(self) -> str:
        # Every opened modal has its own id in Slack; the bot may de-duplicate submissions by it.
        return f"V0{self.tag.upper()}X{self.index}"


@dataclass(frozen=True, slots=True)
class Interaction:
    """One benchmarked interaction: its request builder and what its full answer is."""

    name: str
    answer: str
    build: Callable[[Build], Request]
    seeded: bool = False  # needs review requests waiting for approval (see ``pending_reviews``)
    #: An Events API delivery: nothing answers it at Slack, so only the ack is measured.
    ack_only: bool = False


def _approve_value(blocks: Sequence[dict[str, Any]]) -> str | None:
    from bot.review.ids import ActionId

    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == ActionId.APPROVE:
                return str(element.get("value"))
    return None


def pending_reviews(fake: FakeSlackProcess) -> list[Seed]:
    """Review messages that still show an Approve button, oldest first."""
    seeds = []
    for message in fake.messages(REVIEW_CHANNEL):
        value = _approve_value(message.get("blocks") or [])
        if value is not None and not message.get("thread_ts"):
            seeds.append(Seed(message["ts"], message.get("text", ""), message.get("blocks") or [], value))
    return seeds


def _dummy_seed() -> Seed:
    # Bare Bolt acks anything, so its baseline requests need no real review request behind them.
    return Seed(ts="1767225601.000200", text="draft", blocks=[], value="1:1:1")


def _command(
    interaction: str, command: str, text: str, *, opens_modal: bool, user: str = OPERATOR
) -> Callable[[Build], Request]:
    def build(b: Build) -> Request:
        fields = payloads.slash_command(command, text, user_id=user, response_url=b.fake.response_url(b.name))
        # Only the answer the interaction is meant to give counts (help text instead of a modal does not).
        key = "trigger:" + fields["trigger_id"] if opens_modal else "url:" + b.name
        return Request(interaction, slash_command_body(fields), FORM, (key,))

    return build


_EMPTY_STATES: dict[str, dict[str, Any]] = {
    "plain_text_input": {"type": "plain_text_input", "value": None},
    "url_text_input": {"type": "url_text_input", "value": None},
    "static_select": {"type": "static_select", "selected_option": None},
    "multi_users_select": {"type": "multi_users_select", "selected_users": []},
    "checkboxes": {"type": "checkboxes", "selected_options": []},
}


def fill_modal(view: dict[str, Any], answers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``state.values`` for the modal the bot opened: ``answers`` by action id, initial values elsewhere.

    Block ids come from the bot's own view, so a scoped id (``review_reviewers.x_corp``) stays right.
    """
    values: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        action_id = element["action_id"]
        state = answers.get(action_id)
        if state is None and element.get("initial_option"):
            state = {"type": element["type"], "selected_option": element["initial_option"]}
        if state is None:
            state = dict(_EMPTY_STATES.get(element["type"], {"type": element["type"]}))
        values[block["block_id"]] = {action_id: state}
    return values


def _fallback_view(inputs: dict[str, str]) -> dict[str, Any]:
    # When no bot opened the modal (the bare-Bolt baseline, or a run of submissions alone).
    blocks = [
        {"type": "input", "block_id": block_id, "element": {"type": "plain_text_input", "action_id": action}}
        for block_id, action in inputs.items()
    ]
    return {"blocks": blocks}


def _review_submit(b: Build) -> Request:
    from bot.review.ids import ActionId, BlockId, CallbackId

    mark = f"BENCH-{b.name}"
    planned = int((datetime.now(UTC) + timedelta(days=3)).timestamp())
    # Without a modal the bot opened (``--only review_submit``), the blocks the bot reads: the
    # reviewers block is per account.
    view = b.views.get(CallbackId.REQUEST) or _fallback_view(
        {
            BlockId.ACCOUNT: ActionId.ACCOUNT,
            BlockId.DRAFT: ActionId.DRAFT,
            BlockId.PLANNED: ActionId.PLANNED,
            f"{BlockId.REVIEWERS}.{ACCOUNT_KEY}": ActionId.REVIEWERS,
        }
    )
    values = fill_modal(
        view,
        {
            ActionId.ACCOUNT: payloads.selected_option(ACCOUNT_KEY),
            ActionId.DRAFT: payloads.text_input(f"新卒採用説明会のお知らせです。{mark} #採用 #説明会"),
            ActionId.PLANNED: {"type": "datetimepicker", "selected_date_time": planned},
            ActionId.REVIEWERS: {"type": "multi_users_select", "selected_users": [MANAGER]},
            ActionId.WANTED: payloads.text_input("トーンが硬すぎないか見てください。"),
        },
    )
    payload = payloads.view_submission(
        CallbackId.REQUEST,
        values,
        user_id=OPERATOR,
        view_id=b.view_id,
        blocks=view.get("blocks", []),
        private_metadata=view.get("private_metadata", ""),
    )
    return Request("review_submit", interactivity_body(payload), FORM, ("mark:" + mark,))


def _approve_click(b: Build) -> Request:
    from bot.review.ids import ActionId, BlockId

    seed = b.seed or _dummy_seed()
    payload = payloads.block_action(
        ActionId.APPROVE,
        seed.value,
        user_id=MANAGER,
        block_id=BlockId.ACTIONS,
        channel_id=REVIEW_CHANNEL,
        message=payloads.bot_message(text=seed.text, ts=seed.ts, blocks=seed.blocks),
        response_url=b.fake.response_url(b.name),
    )
    # The click opens the approve modal today; a direct approval would update the message instead.
    keys = ("trigger:" + payload["trigger_id"], "ts:" + seed.ts)
    return Request("approve_click", interactivity_body(payload), FORM, keys)


def _approve_submit(b: Build) -> Request:
    from bot.review.ids import ActionId, BlockId, CallbackId, Decision, ModalMeta, RequestRef

    seed = b.seed or _dummy_seed()
    view = b.views.get(CallbackId.APPROVE) or _fallback_view(
        {BlockId.WHAT_WORKS: ActionId.WHAT_WORKS, BlockId.COMMENT: ActionId.FEEDBACK_COMMENT}
    )
    values = fill_modal(view, {ActionId.WHAT_WORKS: payloads.text_input("冒頭で日時が分かるのが良いです。")})
    # The modal the click opened points at one request; each submission points at its own seed.
    meta = ModalMeta(ref=RequestRef.decode(seed.value), decision=Decision.APPROVE, step=0)
    payload = payloads.view_submission(
        CallbackId.APPROVE,
        values,
        private_metadata=meta.encode(),
        user_id=MANAGER,
        view_id=b.view_id,
        blocks=view.get("blocks", []),
    )
    return Request("approve_submit", interactivity_body(payload), FORM, ("ts:" + seed.ts,))


def _event(interaction: str, inner: Callable[[Build], dict[str, Any]]) -> Callable[[Build], Request]:
    def build(b: Build) -> Request:
        # Each delivery has its own event_id (a repeated one is dropped before any listener runs).
        envelope = payloads.event(
            inner(b), event_id=f"Ev0{b.tag.upper()}X{b.index:07d}", event_time=int(time.time())
        )
        return Request(interaction, event_body(envelope), JSON, ())

    return build


def _reaction(b: Build) -> dict[str, Any]:
    """A manager's reaction on one of the bot's posts (``item_user`` is the bot: it is recorded)."""
    return {
        "type": "reaction_added",
        "user": MANAGER,
        "reaction": "tada",
        "item_user": payloads.BOT_USER_ID,
        "item": {"type": "message", "channel": REVIEW_CHANNEL, "ts": f"1767225601.{b.index:06d}"},
        "event_ts": f"{int(time.time())}.{b.index:06d}",
    }


def _reply(b: Build) -> dict[str, Any]:
    """A manager's reply in the thread of one of the bot's posts (recorded)."""
    ts = f"{int(time.time())}.{b.index:06d}"
    return {
        "type": "message",
        "user": MANAGER,
        "text": f"いいですね {b.name}",
        "ts": ts,
        "thread_ts": f"1767225601.{b.index:06d}",
        "parent_user_id": payloads.BOT_USER_ID,
        "channel": REVIEW_CHANNEL,
        "event_ts": ts,
        "channel_type": "channel",
    }


#: The benchmarked interactions, in run order (``review_submit`` creates what the approvals use).
INTERACTIONS: tuple[Interaction, ...] = (
    Interaction("kpi_help", "response_url", _command("kpi_help", "/sns-kpi", "help", opens_modal=False)),
    Interaction("kpi_status", "response_url", _command("kpi_status", "/sns-kpi", "", opens_modal=False)),
    Interaction("review_open", "views.open", _command("review_open", "/sns-review", "", opens_modal=True)),
    Interaction("review_submit", "chat.postMessage", _review_submit),
    # The manager every request above waits on: the busy manager's list.
    Interaction(
        "review_list",
        "response_url",
        _command("review_list", "/sns-review", "list", opens_modal=False, user=MANAGER),
    ),
    Interaction("approve_click", "views.open", _approve_click, seeded=True),
    Interaction("approve_submit", "chat.update", _approve_submit, seeded=True),
    # Events API (participation): acked by Bolt before the listener stores the mark.
    Interaction("reaction_event", "ack", _event("reaction_event", _reaction), ack_only=True),
    Interaction("reply_event", "ack", _event("reply_event", _reply), ack_only=True),
)


# ------------------------------------------------------------------------------------ runs


@dataclass(frozen=True, slots=True)
class RunResult:
    target: str
    interaction: Interaction
    concurrency: int
    load: LoadResult
    answers: tuple[float, ...] = ()  # seconds from send to the answer at the fake
    answered: int = 0
    cpu_seconds: float = 0.0  # the server's CPU for the run, work after the ack included

    @property
    def errors(self) -> int:
        return sum(1 for s in self.load.samples if s.status != 200)

    @property
    def ack(self) -> Stats:
        return summarize([s.latency for s in self.load.samples])


@dataclass(slots=True)
class Bench:
    """One benchmark session: the fake, answer tracking, and a counter that keeps run tags unique."""

    fake: FakeSlackProcess
    answers: Answers
    runs: int = 0
    notes: list[str] = field(default_factory=list)

    def tag(self) -> str:
        self.runs += 1
        return f"r{self.runs}"

    def requests(self, interaction: Interaction, count: int, *, real_seeds: bool) -> list[Request]:
        tag = self.tag()
        if interaction.seeded and real_seeds:
            seeds: list[Seed | None] = list(pending_reviews(self.fake)[:count])
        else:
            seeds = [None] * count
        views = self.answers.views
        return [interaction.build(Build(self.fake, tag, i, seed, views)) for i, seed in enumerate(seeds)]


async def probe(bench: Bench, server: Server, interaction: Interaction) -> str | None:
    """One request; ``None`` when its full answer arrived, else why the interaction is skipped."""
    requests = bench.requests(interaction, 1, real_seeds=True)
    if not requests:
        return "no review request waiting for approval (review_submit did not run)"
    result = await drive(server.events_url, requests, concurrency=1)
    status = result.samples[0].status
    if status != 200:
        return f"HTTP {status} (no listener?)"
    if interaction.ack_only:
        return None
    await bench.answers.wait(requests, timeout=10, idle=10)
    if bench.answers.arrival(requests[0]) is None:
        return f"acked, but no {interaction.answer} within 10 s (not implemented yet?)"
    return None


def _needs_trigger(interaction: Interaction) -> bool:
    return interaction.answer in ("views.open", "views.push")


async def measure(
    bench: Bench,
    server: Server,
    interaction: Interaction,
    *,
    count: int,
    concurrency: int,
    with_answers: bool,
) -> RunResult | None:
    requests = bench.requests(interaction, count, real_seeds=with_answers)
    if not requests:
        return None
    cpu = server.cpu_seconds()
    load = await drive(server.events_url, requests, concurrency=concurrency)
    if interaction.ack_only:
        await _settle(server)  # the marks are written after the acks: their CPU counts, here
    if not with_answers or interaction.ack_only:
        return RunResult(server.name, interaction, concurrency, load, cpu_seconds=server.cpu_seconds() - cpu)
    await bench.answers.wait(requests, timeout=60 + count / 20)
    cpu = server.cpu_seconds() - cpu
    delays = [t - s.started for s in load.samples if (t := bench.answers.arrival(s.request)) is not None]
    return RunResult(server.name, interaction, concurrency, load, tuple(delays), len(delays), cpu)


async def _settle(server: Server, *, quiet: float = 0.3, timeout: float = 60.0) -> None:
    """Until the server used (almost) no CPU for ``quiet`` seconds: its work after the acks is done."""
    deadline = time.monotonic() + timeout
    last = server.cpu_seconds()
    while time.monotonic() < deadline:
        await asyncio.sleep(quiet)
        now = server.cpu_seconds()
        if now - last < 0.01:
            return
        last = now


async def warm_up(bench: Bench, server: Server, count: int) -> None:
    """First requests pay for imports, auth.test, pool connections: keep them out of the numbers."""
    if count:
        requests = bench.requests(INTERACTIONS[0], count, real_seeds=False)
        await drive(server.events_url, requests, concurrency=min(16, count))
        await bench.answers.wait(requests, timeout=30)


async def bench_server(
    bench: Bench,
    server: Server,
    interactions: Sequence[Interaction],
    *,
    levels: Sequence[int],
    count: int,
    warmup: int,
    is_bot: bool,
) -> tuple[list[RunResult], set[str]]:
    """Every interaction at every concurrency level; returns the results and the ready interactions."""
    await warm_up(bench, server, warmup)
    results: list[RunResult] = []
    ready: dict[str, bool] = {}
    for concurrency in levels:
        for interaction in interactions:
            if is_bot and interaction.name not in ready:
                reason = await probe(bench, server, interaction)
                ready[interaction.name] = reason is None
                if reason:
                    bench.notes.append(f"{server.name}: {interaction.name} skipped: {reason}")
            if is_bot and not ready[interaction.name]:
                continue
            result = await measure(
                bench, server, interaction, count=count, concurrency=concurrency, with_answers=is_bot
            )
            if result is None:
                bench.notes.append(
                    f"{server.name}: {interaction.name} at concurrency {concurrency} skipped: nothing to approve"
                )
                continue
            results.append(result)
            print(
                f"  {server.name:16} {interaction.name:15} c={concurrency:<3} n={len(result.load.samples):<5}"
                f" p50={fmt_ms(result.ack.p50)} ms  {result.load.rps:.0f} req/s"
                f"  load {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
                flush=True,
            )
    return results, {name for name, ok in ready.items() if ok}


# ------------------------------------------------------------------------------------ report


def _share(value: float, base: float | None) -> str:
    return f"{value / base * 100:.0f}%" if base else "-"


def _times(value: float, base: float | None) -> str:
    return f"{value / base:.2f}x" if base else "-"


def report(results: Sequence[RunResult], notes: Sequence[str]) -> bool:
    """Print the tables and the verdict on the targets; True when every target is met."""
    bare = {(r.interaction.name, r.concurrency): r for r in results if r.target == BARE}
    rows = []
    for r in results:
        base = bare.get((r.interaction.name, r.concurrency))
        rows.append(
            [
                r.target,
                r.interaction.name,
                r.concurrency,
                len(r.load.samples),
                r.errors,
                fmt_ms(r.ack.p50),
                fmt_ms(r.ack.p95),
                fmt_ms(r.ack.p99),
                fmt_ms(r.ack.max),
                f"{r.load.rps:.0f}",
                _share(r.load.rps, base.load.rps if base and r.target != BARE else None),
                _times(r.ack.p99, base.ack.p99 if base and r.target != BARE else None),
                f"{r.cpu_seconds * 1000 / len(r.load.samples):.2f}",
                _times(r.cpu_seconds, base.cpu_seconds if base and r.target != BARE else None),
            ]
        )
    print_table(
        "Ack latency (ms, signed request sent -> HTTP answer read), throughput, and the server's CPU per request "
        "(its whole work, after the ack included)",
        [
            "target",
            "interaction",
            "conc",
            "n",
            "errors",
            "p50",
            "p95",
            "p99",
            "max",
            "req/s",
            "vs bare",
            "p99 vs bare",
            "cpu ms/req",
            "cpu vs bare",
        ],
        rows,
        text_columns=2,
    )

    rows = []
    for r in results:
        if r.target == BARE or r.interaction.ack_only:
            continue
        s = summarize(r.answers)
        rows.append(
            [
                r.target,
                r.interaction.name,
                r.interaction.answer,
                r.concurrency,
                f"{r.answered}/{len(r.load.samples)}",
                fmt_ms(s.p50),
                fmt_ms(s.p95),
                fmt_ms(s.p99),
                fmt_ms(s.max),
                # Slack refuses views.open once its trigger is 3 s old: those answers would have failed.
                str(sum(1 for d in r.answers if d > TRIGGER_SECONDS))
                if _needs_trigger(r.interaction)
                else "-",
            ]
        )
    print_table(
        "Time to the full answer (ms, request sent -> the answer's call arrives at the fake Slack API;"
        " late = a modal opened after its trigger expired, which real Slack refuses)",
        ["target", "interaction", "answer", "conc", "answered", "p50", "p95", "p99", "max", "late"],
        rows,
        text_columns=3,
    )

    verdicts: list[tuple[str, bool]] = []
    for r in results:
        if r.target == BARE:
            continue
        label = f"{r.target} {r.interaction.name} c={r.concurrency}"
        verdicts.append(
            (
                f"{label}: no ack over {ACK_MAX_TARGET_MS:.0f} ms (max {fmt_ms(r.ack.max)})",
                r.ack.max <= ACK_MAX_TARGET_MS and r.errors == 0,
            )
        )
        if r.concurrency != TARGET_CONCURRENCY:
            continue
        verdicts.append(
            (
                f"{label}: ack p99 {fmt_ms(r.ack.p99)} <= {ACK_P99_TARGET_MS:.0f} ms",
                r.ack.p99 <= ACK_P99_TARGET_MS,
            )
        )
        base = bare.get((r.interaction.name, r.concurrency))
        if base is not None:
            verdicts.append(
                (
                    f"{label}: {r.load.rps:.0f} req/s = {_share(r.load.rps, base.load.rps)} of bare "
                    f"Bolt (>= {RPS_SHARE_TARGET:.0%})",
                    r.load.rps >= RPS_SHARE_TARGET * base.load.rps,
                )
            )
    print("\nTargets")
    for text, ok in verdicts:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    for note in notes:
        print(f"  NOTE  {note}")
    return all(ok for _, ok in verdicts)


# ------------------------------------------------------------------------------------ main


@dataclass(frozen=True, slots=True)
class Options:
    requests: int
    levels: tuple[int, ...]
    databases: tuple[str, ...]
    interactions: tuple[Interaction, ...]
    warmup: int
    baseline: bool


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.ack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per run (default 2000)")
    parser.add_argument("--concurrency", default="1,16,64", help="levels, comma-separated (default 1,16,64)")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite and/or postgres (default both)")
    parser.add_argument("--only", default="", help="interactions to run, comma-separated (default all)")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests first (default 200)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare Bolt baseline")
    parser.add_argument("--quick", action="store_true", help="smoke size: 10 requests, c=1,4, SQLite only")
    args = parser.parse_args(argv)
    names = parse_list(args.only)
    unknown = set(names) - {i.name for i in INTERACTIONS}
    if unknown:
        parser.error(f"unknown interaction(s): {', '.join(sorted(unknown))}")
    chosen = tuple(i for i in INTERACTIONS if not names or i.name in names)
    if args.quick:
        return Options(10, (1, 4), ("sqlite",), chosen, 5, not args.no_baseline)
    return Options(
        requests=args.requests,
        levels=tuple(int(c) for c in parse_list(args.concurrency)),
        databases=tuple(parse_list(args.db)),
        interactions=chosen,
        warmup=args.warmup,
        baseline=not args.no_baseline,
    )


async def run(options: Options) -> bool:
    print(f"bench.ack: {options.requests} requests per run, concurrency {options.levels}; {machine()}")
    results: list[RunResult] = []
    ready: set[str] = set()
    with FakeSlackProcess() as fake:
        bench = Bench(fake, Answers(fake))
        for kind in options.databases:
            with workdir() as directory, database(kind, directory) as url:
                if url is None:
                    bench.notes.append(f"{kind}: no database server; skipped")
                    continue
                server = start_bot(directory, db_url=url, api_url=fake.api_url, name=f"bot-{kind}")
                try:
                    found, ok = await bench_server(
                        bench,
                        server,
                        options.interactions,
                        levels=options.levels,
                        count=options.requests,
                        warmup=options.warmup,
                        is_bot=True,
                    )
                finally:
                    code = server.stop()
                results += found
                ready |= ok
                if code != 0:
                    bench.notes.append(f"{server.name} exited with {code}:\n{server.log_tail()}")
            fake.reset()
            bench.answers = Answers(fake, views=bench.answers.views)
        if options.baseline:
            with workdir() as directory:
                server = start_bare_bolt(directory, api_url=fake.api_url)
                try:
                    found, _ = await bench_server(
                        bench,
                        server,
                        [i for i in options.interactions if i.name in ready],
                        levels=options.levels,
                        count=options.requests,
                        warmup=options.warmup,
                        is_bot=False,
                    )
                finally:
                    server.stop()
                results += found
    return report(results, bench.notes)


def main(argv: Sequence[str] | None = None) -> int:
    # A benchmark reports; it does not fail a build: the verdict lines say what missed.
    asyncio.run(run(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["INTERACTIONS", "Interaction", "Request", "RunResult", "Sample", "main", "pending_reviews"]
