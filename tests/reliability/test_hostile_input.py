"""Hostile and broken input (issue 8 item 5): property-based tests over every parser that reads what a
person or another system sent us, plus signed end-to-end requests through the real app.

Each property holds for every generated case: the input is either accepted with a sane value or
refused with a ``BotError`` whose key exists in both catalogs; no other exception escapes, nothing
half-written stays in the store, and Slack always gets an HTTP 200 with an answer for the person.
Case counts: ``pytest --hypothesis-show-statistics`` for the ``@given`` properties; the end-to-end
ones print ``cases=N`` (run with ``-s``) and assert their own count.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.config import ConfigError, load_settings, settings_from_mapping
from bot.digest.ids import WinTarget, parse_message_link
from bot.digest.models import Win
from bot.digest.ui.wins import parse_win_modal
from bot.errors import BotError
from bot.i18n import translator
from bot.kpi.ids import ActionId as KpiActionId
from bot.kpi.ids import BlockId as KpiBlockId
from bot.kpi.ids import CallbackId as KpiCallbackId
from bot.kpi.importers import iter_import
from bot.kpi.models import KpiTarget, KpiValue
from bot.kpi.rules import MAX_VALUE, KpiWrite, check_entry, parse_month, parse_value
from bot.platforms.instagram import InstagramClient
from bot.platforms.x import XClient
from bot.platforms.youtube import YouTubeClient
from bot.review.forms import (
    parse_feedback_modal,
    parse_publish_modal,
    parse_request_modal,
    validate_feedback,
    validate_publish,
    validate_request,
)
from bot.review.ids import ActionId, BlockId, CallbackId, Decision, ModalMeta, RequestRef
from bot.review.models import ReviewEvent, ReviewRequest
from bot.runtime.deps import Deps
from bot.runtime.platforms import AccountRef, CollectResult, PlatformError, PostRef
from tests.conftest import ADMIN, BASE_CONFIG, MANAGER, NOW, OPERATOR, TEST_ENV, make_settings
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack

T = TypeVar("T")
#: Case counts of the end-to-end properties (shown with ``--log-cli-level=INFO``).
CASES = logging.getLogger("reliability.cases")

TOKYO = ZoneInfo("Asia/Tokyo")
JA = translator("ja")
EN = translator("en")
#: Modest example counts keep the suite fast; every property still sees a few hundred shapes.
PURE = settings(max_examples=200, deadline=None, database=None)
SLOW = settings(max_examples=60, deadline=None, database=None)

# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------

#: Text people (or a broken client) might type: anything, plus the pieces parsers care about.
NASTY_PIECES = st.sampled_from(
    [
        "<!channel>",
        "<!here>",
        "<@U0EVIL001>",
        "<#C0EVIL01>",
        "<https://evil.example|x>",
        "&amp;",
        "|",
        "'; DROP TABLE review_request;--",
        "1,234",
        "１２３",
        "3.2%",
        "¥12,000",
        "-5",
        "1e309",
        "NaN",
        "inf",
        "2026-13",
        "2026-02",
        "0x10",
        "\u202e",
        "\u200b",
        "\x00",
        "\ud7ff",
        "🇯🇵",
        "👨‍👩‍👧",
        "\r\n",
        "9" * 40,
        ":",
        "::",
        "1:1:1",
        '{"r":"1:1:1","d":"approve"}',
        "null",
        "[]",
        "{}",
    ]
)
HOSTILE_TEXT = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(NASTY_PIECES, st.text(max_size=6)), max_size=6).map("".join),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | HOSTILE_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def known_key(key: str) -> bool:
    """A refusal must name a catalog message that exists in both languages."""
    return JA.has(key) and EN.has(key)


def draw(strategy: st.SearchStrategy[T], n: int) -> list[T]:
    """``n`` generated cases for an end-to-end loop (async tests cannot be ``@given`` themselves).

    ``max_examples`` is an upper bound: Hypothesis may stop a run early (a filtered strategy, a busy
    machine), so it is asked again until ``n`` cases are in hand.
    """
    out: list[T] = []

    @settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate])
    @given(strategy)
    def collect(value: T) -> None:
        out.append(value)

    for _ in range(10):
        collect()
        if len(out) >= n:
            break
    return out[:n]


# ---------------------------------------------------------------------------------------------
# Button values and private_metadata
# ---------------------------------------------------------------------------------------------

INT32_MAX = 2**31 - 1


@PURE
@given(st.one_of(HOSTILE_TEXT, st.from_regex(r"\A[0-9]{1,14}:[0-9]{1,8}:[0-9]{1,11}\Z"), JSON))
def test_button_values_decode_or_are_refused(value: Any) -> None:
    try:
        ref = RequestRef.decode(value)
    except BotError as error:
        assert error.key == "review.errors.bad_reference"
        return
    # Anything accepted fits the store's integer columns, so a lookup cannot crash the database.
    assert (
        0 <= ref.request_id <= INT32_MAX and 0 <= ref.revision <= INT32_MAX and 0 <= ref.version <= INT32_MAX
    )
    assert RequestRef.decode(ref.encode()) == ref


@PURE
@given(st.one_of(HOSTILE_TEXT, JSON.map(json.dumps), JSON))
def test_modal_metadata_decodes_or_is_refused(raw: Any) -> None:
    try:
        meta = ModalMeta.decode(raw)
    except BotError as error:
        assert error.key == "review.errors.bad_reference"
        return
    assert meta.decision is None or isinstance(meta.decision, Decision)
    assert ModalMeta.decode(meta.encode()) == meta


@PURE
@given(st.one_of(HOSTILE_TEXT, JSON.map(json.dumps)))
def test_win_metadata_decodes_or_is_refused(raw: str) -> None:
    try:
        target = WinTarget.decode(raw)
    except BotError as error:
        assert known_key(error.key)
        return
    assert WinTarget.decode(target.encode()) == target
    assert target.channel_id[:1] in "CGD" and len(target.channel_id) <= 40 and len(target.message_ts) <= 40


@PURE
@given(
    st.one_of(
        HOSTILE_TEXT, st.from_regex(r"\Ahttps://[a-z.]*slack\.com/archives/[CGD][A-Z0-9]{2,12}/p\d{16}")
    )
)
def test_message_links_parse_or_are_none(text: str) -> None:
    target = parse_message_link(text)
    if target is not None:
        assert target.channel_id[:1] in "CGD" and len(target.message_ts) == 17


# ---------------------------------------------------------------------------------------------
# KPI values, months, and the Home's record-a-value modal
# ---------------------------------------------------------------------------------------------

KPI_SETTINGS = make_settings()
KPIS = {k.key: k for k in KPI_SETTINGS.kpis}


@PURE
@given(
    st.sampled_from(sorted(KPIS)),
    st.one_of(HOSTILE_TEXT, st.floats().map(str), st.from_regex(r"\A[+-]?[\d,]{0,20}(\.\d*)?[%¥円]?\Z")),
)
def test_kpi_values_parse_to_finite_non_negative_numbers_or_are_refused(key: str, text: str) -> None:
    try:
        value = parse_value(KPIS[key], text)
    except BotError as error:
        assert error.key in ("kpi.errors.bad_value", "kpi.errors.negative_value")
        return
    assert math.isfinite(value) and 0 <= value <= MAX_VALUE


@PURE
@given(st.one_of(HOSTILE_TEXT, st.from_regex(r"\A\d{1,6}-\d{1,3}\Z")))
def test_months_parse_or_are_refused(text: str) -> None:
    try:
        month = parse_month(text, now=NOW, tz=TOKYO)
    except BotError as error:
        assert error.key in ("kpi.errors.bad_month", "kpi.errors.month_too_far")
        return
    assert month.label <= "2026-12"


@PURE
@given(
    st.one_of(st.none(), HOSTILE_TEXT, st.sampled_from(sorted(KPIS))),
    st.one_of(st.none(), HOSTILE_TEXT),
    st.one_of(st.none(), HOSTILE_TEXT),
)
def test_home_kpi_entry_is_checked_with_an_inline_error(kpi: Any, value: Any, month: Any) -> None:
    try:
        entry = check_entry(
            KPI_SETTINGS, write=KpiWrite.SET, kpi_key=kpi, value_text=value, month_text=month, now=NOW
        )
    except BotError as error:
        assert known_key(error.key)
        assert error.block_id in (KpiBlockId.KPI, KpiBlockId.VALUE, KpiBlockId.MONTH)
        error.render(JA)  # every placeholder is filled
        return
    assert entry.kpi.key == kpi and math.isfinite(entry.value)


# ---------------------------------------------------------------------------------------------
# Modal state values (whatever shape a client sends)
# ---------------------------------------------------------------------------------------------


def state(blocks: dict[str, dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """``state.values`` as Slack shapes it (block → action → element state) with any block missing and
    any element's value hostile, empty, or of the wrong JSON type (what a broken client could send)."""
    per_block = {
        block: st.fixed_dictionaries({action: shape})
        for block, (action, shape) in ((b, next(iter(a.items()))) for b, a in blocks.items())
    }
    return st.fixed_dictionaries({}, optional=per_block)


def text_value(kind: str = "plain_text_input") -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda v: {"type": kind, "value": v}, st.one_of(st.none(), HOSTILE_TEXT))


REQUEST_STATE = state(
    {
        BlockId.ACCOUNT: {ActionId.ACCOUNT: st.builds(lambda v: {"selected_option": {"value": v}}, JSON)},
        BlockId.DRAFT: {ActionId.DRAFT: text_value()},
        BlockId.PLANNED: {
            ActionId.PLANNED: st.builds(lambda v: {"selected_date_time": v}, st.one_of(st.integers(), JSON))
        },
        BlockId.LINK: {ActionId.LINK: text_value("url_text_input")},
        "review_reviewers.x_corp": {
            ActionId.REVIEWERS: st.builds(lambda v: {"selected_users": v}, st.lists(JSON, max_size=3) | JSON)
        },
        BlockId.WANTED: {ActionId.WANTED: text_value()},
    }
)
FEEDBACK_STATE = state(
    {
        BlockId.REASONS: {
            ActionId.REASONS: st.builds(lambda v: {"selected_options": v}, st.lists(JSON, max_size=3) | JSON)
        },
        BlockId.WHAT_WORKS: {ActionId.WHAT_WORKS: text_value()},
        BlockId.WHAT_TO_CHANGE: {ActionId.WHAT_TO_CHANGE: text_value()},
        BlockId.COMMENT: {ActionId.FEEDBACK_COMMENT: text_value()},
    }
)
PUBLISH_STATE = state(
    {
        BlockId.POST_URL: {ActionId.POST_URL: text_value("url_text_input")},
        BlockId.PUBLISHED_AT: {
            ActionId.PUBLISHED_AT: st.builds(
                lambda v: {"selected_date_time": v}, st.one_of(st.integers(), JSON)
            )
        },
    }
)


@PURE
@given(REQUEST_STATE, FEEDBACK_STATE, PUBLISH_STATE, st.sampled_from(list(Decision)))
def test_review_modal_values_of_any_shape_become_inline_errors(
    request_state: dict[str, Any],
    feedback_state: dict[str, Any],
    publish_state: dict[str, Any],
    decision: Decision,
) -> None:
    form = parse_request_modal(request_state)
    errors = validate_request(form, settings=KPI_SETTINGS, t=JA, now=NOW, requester=OPERATOR)
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in errors.items())
    feedback = parse_feedback_modal(feedback_state)
    assert all(
        isinstance(v, str)
        for v in validate_feedback(feedback, decision=decision, settings=KPI_SETTINGS, t=JA).values()
    )
    publish = parse_publish_modal(publish_state)
    assert all(isinstance(v, str) for v in validate_publish(publish, t=JA, now=NOW).values())


@PURE
@given(JSON, st.one_of(st.none(), HOSTILE_TEXT), st.one_of(JSON, st.sampled_from(sorted(KPIS))))
def test_win_modal_values_of_any_shape_become_inline_errors(junk: Any, what: Any, kpi: Any) -> None:
    for view in (
        {
            "state": {
                "values": {
                    "digest.win_what": {"digest.win_what_input": {"value": what}},
                    "digest.win_kpi": {"digest.win_kpi_select": {"selected_option": {"value": kpi}}},
                }
            }
        },
        {"state": {"values": {"digest.win_what": {"digest.win_what_input": {"value": junk}}}}},
        {"state": {"values": {}}},
    ):
        try:
            win, problems = parse_win_modal(view, settings=KPI_SETTINGS)
        except BotError as error:
            assert known_key(error.key)
            continue
        assert (win is None) == bool(problems)
        assert all(known_key(key) for key in problems.values())


# ---------------------------------------------------------------------------------------------
# CSV files
# ---------------------------------------------------------------------------------------------

ACCOUNTS = {"x_corp": "x", "ig_recruit": "instagram"}
POST_COLUMNS = [
    "account",
    "url",
    "published_at",
    "text",
    "impressions",
    "engagements",
    "likes",
    "external_id",
]
KPI_COLUMNS = ["kpi", "period", "value"]
CELL = st.one_of(
    HOSTILE_TEXT,
    st.sampled_from(
        [
            "",
            "-",
            "N/A",
            "1,200",
            "12a",
            "2026-02-30",
            "2026-06-05T09:30:00+09:00",
            "2026-13-01",
            "x_corp",
            "ig_recruit",
            "recruiting_entries",
            "engagement_rate",
            "2026-05",
            "9" * 30,
            "1e400",
        ]
    ),
)


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n\r') else value

    return "\n".join(",".join(cell(v) for v in line) for line in [header, *rows]) + "\n"


@st.composite
def csv_files(draw_: st.DrawFn) -> tuple[str, bytes]:
    """A generic posts or KPI file with hostile cells, dropped or extra columns, ragged rows, any
    encoding; or plain binary garbage."""
    kind = draw_(st.sampled_from(["posts", "kpi"]))
    columns = list(POST_COLUMNS if kind == "posts" else KPI_COLUMNS)
    shape = draw_(st.sampled_from(["ok", "missing", "extra", "ragged", "garbage"]))
    if shape == "garbage":
        return kind, draw_(st.binary(max_size=600))
    if shape == "missing":
        columns.remove(draw_(st.sampled_from(columns)))
    if shape == "extra":
        columns.append(draw_(st.sampled_from(["extra", "", "kpi", "value"])))
    rows = draw_(st.lists(st.lists(CELL, min_size=len(columns), max_size=len(columns)), max_size=6))
    if shape == "ragged" and rows:
        rows[0] = rows[0][: max(0, len(rows[0]) - 2)] + (["a", "b", "c"] if len(rows) > 1 else [])
    encoding = draw_(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp932"]))
    return kind, csv_text(columns, rows).encode(encoding, errors="replace")


@SLOW
@given(csv_files())
def test_csv_files_import_or_are_refused_with_a_reason(
    tmp_path_factory: pytest.TempPathFactory, case: Any
) -> None:
    kind, data = case
    path = tmp_path_factory.mktemp("csv") / "export.csv"
    path.write_bytes(data)
    try:
        _detected, chunks = iter_import(
            path, kind=kind, format=None, tz=TOKYO, accounts=ACCOUNTS, kpis=list(KPIS), chunk_rows=3
        )
        for chunk in chunks:
            for problem in chunk.problems:
                assert known_key(problem.key) and problem.line >= 1
                JA(problem.key, **problem.params)  # every placeholder is filled
            for record in chunk.kpis:
                assert math.isfinite(record.value)
    except BotError as error:
        assert error.key.startswith("imports.errors.") and known_key(error.key)
        error.render(JA)


def _value_could_be_good(row: list[str]) -> bool:
    """A known KPI with a value the parser takes (e.g. ``0.5``): maybe a good row, so not drawn as a
    bad one (the old digits-only check drew ``0.5`` as bad, and the import rightly took it)."""
    if row[0] not in KPIS:
        return False
    try:
        parse_value(KPIS[row[0]], row[2])
    except BotError:
        return False
    return True


async def test_a_file_with_any_bad_row_writes_nothing(tmp_path: Path) -> None:
    """``sns-bot import``: a file is imported whole or not at all, whatever is wrong in it."""
    from bot.kpi.cli import EXIT_REFUSED
    from tests.kpi.cli_support import run_import

    db_url = f"sqlite:///{tmp_path / 'import.db'}"
    config = make_settings(db_url=db_url)
    good = [["recruiting_entries", "2026-05", "28"], ["branded_search", "2026-05", "1,234"]]
    bad_cells = draw(
        st.lists(CELL, min_size=3, max_size=3).filter(
            lambda row: (
                any(c.strip() for c in row)  # an all-blank row is a blank line, skipped
                and not _value_could_be_good(row)
            )
        ),
        25,
    )
    for number, bad in enumerate(bad_cells):
        path = tmp_path / f"kpi-{number}.csv"
        path.write_text(csv_text(KPI_COLUMNS, [*good, bad]), encoding="utf-8")
        code = await run_import(
            config,
            kind="kpi",
            path=path,
            format_name=None,
            account=None,
            period=None,
            dry_run=False,
        )
        assert code == EXIT_REFUSED, bad
    from bot.db import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    async with make_sessionmaker(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(KpiValue)) == 0
    await engine.dispose()
    CASES.info(f"csv partial-write cases={len(bad_cells)}")
    assert len(bad_cells) == 25


def test_a_huge_file_streams_in_chunks(tmp_path: Path) -> None:
    rows = [["recruiting_entries", f"2026-{1 + i % 9:02d}", str(i)] for i in range(60_000)]
    rows[59_999] = ["recruiting_entries", "2026-05", "12a"]
    path = tmp_path / "huge.csv"
    path.write_text(csv_text(KPI_COLUMNS, rows), encoding="utf-8")
    _detected, chunks = iter_import(
        path, kind="kpi", format=None, tz=TOKYO, accounts=ACCOUNTS, chunk_rows=10_000
    )
    seen = [(chunk.rows, len(chunk.problems)) for chunk in chunks]
    assert len(seen) == 6 and sum(r for r, _ in seen) == 60_000 and seen[-1][1] == 1


# ---------------------------------------------------------------------------------------------
# Platform API responses
# ---------------------------------------------------------------------------------------------

SECRET = "tok-SECRET-9f8e7d6c5b4a"
BODIES = st.one_of(
    JSON.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "data": JSON,
            "errors": JSON,
            "items": JSON,
            "error": JSON,
            "followers_count": JSON,
            "public_metrics": JSON,
            "statistics": JSON,
            "id": JSON,
            "media_type": JSON,
            "pageInfo": JSON,
            "meta": JSON,
            "like_count": JSON,
            "comments_count": JSON,
        },
    ).map(lambda v: json.dumps(v).encode()),
    st.sampled_from(
        [b"<html><body><h1>502 Bad Gateway</h1></body></html>", b"", b"null", b"{", b"\xff\xfe\x00"]
    ),
    st.binary(max_size=200),
)
STATUSES = st.sampled_from([200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 429, 500, 502, 503])


async def _no_sleep(_seconds: float) -> None:
    return None


@SLOW
@given(
    st.lists(
        st.tuples(STATUSES, BODIES, st.sampled_from(["application/json", "text/html", ""])),
        min_size=1,
        max_size=4,
    )
)
def test_platform_clients_turn_any_response_into_results_or_platform_errors(
    answers: list[tuple[int, bytes, str]],
) -> None:
    async def run() -> None:
        calls = 0

        def handler(request: httpx.Request) -> httpx.Response:
            nonlocal calls
            status, body, content_type = answers[calls % len(answers)]
            calls += 1
            headers = {"content-type": content_type} if content_type else {}
            if status == 429:
                headers["retry-after"] = "1"
            return httpx.Response(status, content=body, headers=headers)

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            clients = [
                XClient(http, bearer_token=SECRET, sleep=_no_sleep, max_retries=1),
                InstagramClient(http, access_token=SECRET, sleep=_no_sleep, max_retries=1),
                YouTubeClient(http, api_key=SECRET, sleep=_no_sleep, max_retries=1),
            ]
            ids = {"x": "1460323737035677698", "instagram": "17895695668004550", "youtube": "dQw4w9WgXcQ"}
            for client in clients:
                post_id = ids[client.platform]
                result = await client.fetch_post_metrics([PostRef(external_id=post_id, account_key="a")])
                assert isinstance(result, CollectResult)
                for error in result.errors:
                    assert isinstance(error, PlatformError) and known_key(error.key)
                    assert SECRET not in error.render(JA) and SECRET not in repr(error)
                for metrics in result.metrics.values():
                    assert all(v is None or (isinstance(v, int) and v >= 0) for v in vars_of(metrics))
                try:
                    snapshot = await client.fetch_account(
                        AccountRef(key="a", platform_user_id="UCabcdefghijklmnopqrstuv")
                    )
                except PlatformError as error:
                    assert (
                        known_key(error.key) and SECRET not in error.render(EN) and SECRET not in str(error)
                    )
                else:
                    assert snapshot.followers is None or snapshot.followers >= 0

    asyncio.run(run())


def vars_of(metrics: Any) -> list[Any]:
    return [getattr(metrics, name) for name in metrics.__dataclass_fields__]


# ---------------------------------------------------------------------------------------------
# Config files
# ---------------------------------------------------------------------------------------------

CONFIG_PATHS = [
    ("locale",),
    ("timezone",),
    ("roles", "managers"),
    ("roles", "admins"),
    ("review", "channel"),
    ("review", "remind_after_hours"),
    ("review", "escalate_after_hours"),
    ("kpi", "setters"),
    ("digest", "catch_up_days"),
    ("digest", "weekly", "channels"),
    ("digest", "weekly", "min_impressions"),
    ("scheduler", "enabled"),
    ("search_console", "brand_terms"),
    ("accounts",),
    ("kpis",),
    ("database", "url"),
    ("server", "port"),
    ("nonsense",),
]
TOML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | HOSTILE_TEXT | st.dates() | st.datetimes(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@SLOW
@given(
    st.lists(st.tuples(st.sampled_from(CONFIG_PATHS), TOML_VALUES), min_size=1, max_size=4),
    st.sampled_from([0, 1]),
)
def test_config_with_any_wrong_value_is_a_config_error_with_every_problem_named(
    changes: list[tuple[tuple[str, ...], Any]], pick: int
) -> None:
    import copy

    raw = copy.deepcopy(BASE_CONFIG)
    raw["database"] = {"url": "sqlite:///:memory:"}
    for path, value in changes:
        node = raw
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        if path[-1] in ("accounts", "kpis") and pick and isinstance(node.get(path[-1]), list):
            node[path[-1]] = [*node[path[-1]][:1], value]  # one broken entry among good ones
        else:
            node[path[-1]] = value
    try:
        settings_from_mapping(raw, TEST_ENV, base=Path.cwd())
    except ConfigError as error:
        assert error.problems
        for problem in error.problems:
            assert known_key("config." + problem.key), problem
            assert problem.render(JA) and problem.render(EN)


@SLOW
@given(
    st.one_of(
        st.binary(max_size=300),
        HOSTILE_TEXT.map(str.encode),
        st.sampled_from([b"[roles]\nmanagers = 1", b'locale = "fr"', b"\xef\xbb\xbflocale='ja'", b"a = ["]),
    )
)
def test_config_files_of_any_bytes_load_or_are_a_config_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("cfg") / "config.toml"
    path.write_bytes(data)
    try:
        load_settings(path, TEST_ENV)
    except ConfigError as error:
        assert error.problems and all(known_key("config." + p.key) for p in error.problems)


# ---------------------------------------------------------------------------------------------
# End to end: signed requests through the real app
# ---------------------------------------------------------------------------------------------


async def count(deps: Deps, model: Any) -> int:
    async with deps.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def answered(fake_slack: FakeSlack, before: dict[str, int], methods: tuple[str, ...]) -> str:
    """Wait until one of ``methods`` got a new call (the person's answer); return which."""
    for _ in range(300):
        for method in methods:
            if len(fake_slack.calls_to(method)) > before[method]:
                return method
        await asyncio.sleep(0.01)
    raise AssertionError(f"nobody was answered; saw {[c.method for c in fake_slack.calls][-5:]}")


def snapshot_calls(fake_slack: FakeSlack, methods: tuple[str, ...]) -> dict[str, int]:
    return {method: len(fake_slack.calls_to(method)) for method in methods}


ANSWERS = ("response_url", "views.open", "chat.postMessage")
LONG = "長" * 5000
COMMAND_TEXT = st.one_of(
    HOSTILE_TEXT,
    st.tuples(
        st.sampled_from(["set", "target", "SET", "help", "list", "payload"]),
        st.sampled_from(sorted(KPIS)),
        HOSTILE_TEXT,
        HOSTILE_TEXT,
    ).map(" ".join),
)


async def test_slash_commands_with_any_text_always_answer_and_write_only_valid_values(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    texts = [
        *draw(COMMAND_TEXT, 40),
        LONG,
        "set recruiting_entries 1e309",
        "set recruiting_entries 5 2026-99",
    ]
    for number, text in enumerate(texts):
        for command, user in (("/sns-kpi", ADMIN), ("/sns-review", OPERATOR)):
            before = snapshot_calls(fake_slack, ANSWERS)
            rows = await count(deps, KpiValue) + await count(deps, KpiTarget)
            response = await sender.command(
                payloads.slash_command(
                    command, text, user_id=user, response_url=fake_slack.response_url(f"c{number}")
                )
            )
            assert response.status == 200, (command, text, response.text)
            if not response.body:  # an empty ack: the answer follows through Slack
                await answered(fake_slack, before, ANSWERS)
            await deps.inflight.drain(5)
            written = await count(deps, KpiValue) + await count(deps, KpiTarget) - rows
            assert written in (0, 1), (command, text)
            if written:  # only a well-formed set/target reaches the store, and says so
                assert command == "/sns-kpi" and text.split()[0].lower() in ("set", "target")
                assert fake_slack.calls_to("response_url")[-1].params.get("blocks"), text
    CASES.info(f"slash commands cases={len(texts) * 2}")
    assert len(texts) == 43


def request_submission(
    *, view_id: str, draft: Any, wanted: Any, link: Any, planned: Any, account: Any, user: str = OPERATOR
) -> dict[str, Any]:
    values = {
        BlockId.ACCOUNT: {
            ActionId.ACCOUNT: payloads.selected_option(account)
            if isinstance(account, str)
            else {"type": "static_select", "selected_option": account}
        },
        BlockId.DRAFT: {ActionId.DRAFT: payloads.text_input(draft)},
        BlockId.PLANNED: {ActionId.PLANNED: {"type": "datetimepicker", "selected_date_time": planned}},
        BlockId.LINK: {ActionId.LINK: payloads.text_input(link, kind="url_text_input")},
        "review_reviewers.x_corp": {
            ActionId.REVIEWERS: {"type": "multi_users_select", "selected_users": [MANAGER]}
        },
        BlockId.WANTED: {ActionId.WANTED: payloads.text_input(wanted)},
    }
    return payloads.view_submission(CallbackId.REQUEST, values, user_id=user, view_id=view_id)


GOOD_PLANNED = int((NOW + timedelta(days=2)).timestamp())
SUBMISSION = st.fixed_dictionaries(
    {
        "draft": st.one_of(HOSTILE_TEXT, st.none(), st.just(LONG)),
        "wanted": st.one_of(HOSTILE_TEXT, st.none()),
        "link": st.one_of(st.none(), HOSTILE_TEXT, st.just("https://example.com/a.png")),
        "planned": st.one_of(st.just(GOOD_PLANNED), st.integers(), st.none(), HOSTILE_TEXT),
        "account": st.one_of(st.just("x_corp"), st.just("ig_recruit"), HOSTILE_TEXT, JSON),
    }
)


async def test_review_modals_with_any_values_answer_inline_or_create_exactly_one_request(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    valid = {"wanted": None, "link": None, "planned": GOOD_PLANNED, "account": "x_corp"}
    drafts = draw(HOSTILE_TEXT.filter(lambda d: bool(d.strip("\n ")) and len(d) < 100), 10)
    cases = [
        *draw(SUBMISSION, 30),
        *({**valid, "draft": d} for d in [*drafts, "NUL\x00文字", "'; DROP TABLE x;--"]),
    ]
    created = 0
    for number, case in enumerate(cases):
        before = await count(deps, ReviewRequest)
        response = await sender.interactive(request_submission(view_id=f"V0HOST{number:04d}", **case))
        assert response.status == 200, (case, response.text)
        await deps.inflight.drain(5)
        after = await count(deps, ReviewRequest)
        if response.body:
            body = response.json()
            assert body["response_action"] in ("errors", "update") and after == before, case
            if body["response_action"] == "errors":
                assert all(isinstance(v, str) and v for v in body["errors"].values())
        else:
            assert after == before + 1, case
            created += 1
    CASES.info(f"review modal cases={len(cases)} created={created}")
    assert len(cases) == 42 and created >= 10


async def test_tampered_button_values_are_refused_with_a_message_and_change_nothing(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    values = [
        *draw(st.one_of(HOSTILE_TEXT, st.from_regex(r"\A[0-9]{1,12}:[0-9]{1,6}:[0-9]{1,9}\Z")), 25),
        "3000000000:1:1",
        "1:1:3000000000",
        "999999999999:999999:999999999",
    ]
    actions = [ActionId.APPROVE, ActionId.REJECT, ActionId.COMMENT, ActionId.RESUBMIT, ActionId.PUBLISH]
    for number, value in enumerate(values):
        action = actions[number % len(actions)]
        before = snapshot_calls(fake_slack, ("response_url",))
        response = await sender.interactive(
            payloads.block_action(
                action, value, user_id=ADMIN, response_url=fake_slack.response_url(f"b{number}")
            )
        )
        assert (response.status, response.body) == (200, b""), value
        await answered(fake_slack, before, ("response_url",))
        said = fake_slack.calls_to("response_url")[-1].params["text"]
        assert said in (JA("review.errors.bad_reference"), JA("review.errors.not_found")), (value, said)
    assert await count(deps, ReviewEvent) == 0 and not fake_slack.calls_to("views.open")
    CASES.info(f"button value cases={len(values)}")


async def test_tampered_win_metadata_is_refused_inline_and_nothing_is_saved(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    metas = [
        *draw(st.one_of(HOSTILE_TEXT, JSON.map(json.dumps)), 20),
        json.dumps({"channel_id": "C" + "A" * 200, "message_ts": "1.2"}),
        json.dumps({"channel_id": "C0WINS001", "message_ts": "1767225601.000200", "author": {"id": 1}}),
    ]
    values = {
        "digest.win_what": {"digest.win_what_input": payloads.text_input("採用エントリーが 3 件増えました")}
    }
    for number, meta in enumerate(metas):
        payload = payloads.view_submission(
            "digest.win_modal", values, private_metadata=meta, user_id=OPERATOR, view_id=f"V0WIN{number:04d}"
        )
        response = await sender.interactive(payload)
        assert response.status == 200
        assert response.json() == {
            "response_action": "errors",
            "errors": {"digest.win_what": JA("digest.errors.bad_target")},
        }, meta
    await deps.inflight.drain(5)
    assert await count(deps, Win) == 0
    CASES.info(f"win metadata cases={len(metas)}")


async def test_home_kpi_modal_with_any_values_answers_inline_or_records_one_value(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    cases = draw(
        st.tuples(
            st.one_of(st.sampled_from(sorted(KPIS)), HOSTILE_TEXT),
            st.one_of(HOSTILE_TEXT, st.just("1,234")),
            st.one_of(st.none(), HOSTILE_TEXT),
        ),
        30,
    )
    for number, (kpi, value, month) in enumerate(cases):
        values = {
            KpiBlockId.KPI: {KpiActionId.KPI: payloads.selected_option(kpi)},
            KpiBlockId.VALUE: {KpiActionId.VALUE: payloads.text_input(value)},
            KpiBlockId.MONTH: {
                KpiActionId.MONTH: payloads.selected_option(month)
                if month
                else {"type": "static_select", "selected_option": None}
            },
        }
        rows = await count(deps, KpiValue)
        response = await sender.interactive(
            payloads.view_submission(KpiCallbackId.RECORD, values, user_id=ADMIN, view_id=f"V0K{number:04d}")
        )
        assert response.status == 200, (kpi, value, month)
        await deps.inflight.drain(5)
        if response.body:
            body = response.json()
            assert body["response_action"] == "errors" and all(body["errors"].values())
            assert await count(deps, KpiValue) == rows
        else:
            assert await count(deps, KpiValue) == rows + 1
    CASES.info(f"home kpi modal cases={len(cases)}")
