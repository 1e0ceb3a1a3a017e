"""Each section's reader on its own: the schema modules of ``bot.config`` validate their own table and
report problems with full key paths, in the order the table is read."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from bot.config.accounts import read_accounts
from bot.config.digest import DigestSettings, read_digest
from bot.config.kpis import read_kpis, read_search_console
from bot.config.reader import Problem, Reader
from bot.config.review import DEFAULT_REASONS, read_review
from bot.config.secrets import Secret, mask_database_url, read_secrets
from bot.config.server import read_database, read_server
from bot.config.values import LocalizedText, check_cron


def _reader() -> tuple[Reader, list[Problem]]:
    problems: list[Problem] = []
    return Reader(problems), problems


def test_reader_never_takes_a_boolean_for_a_number_and_names_every_bad_item() -> None:
    r, problems = _reader()
    assert r.get({"n": True}, "n", "t", (int, float), 5) == 5
    assert r.str_list({"l": ["a", 1, "b"]}, "l", "t") == ("a", "b")
    assert r.localized({"x": "same"}, "x", "t", required=True) == LocalizedText("same", "same")
    r.known({"odd": 1}, "t", ("n",))
    assert [(p.path, p.key) for p in problems] == [
        ("t.n", "wrong_type"),
        ("t.l[1]", "wrong_type"),
        ("t.odd", "unknown_key"),
    ]


def test_accounts_get_their_platform_limit_and_a_duplicate_key_is_named_where_it_is_read() -> None:
    r, problems = _reader()
    accounts = read_accounts(
        r,
        {
            "accounts": [
                {"key": "x_corp", "platform": "x"},
                {"key": "x_corp", "platform": "note", "max_length": 0, "approval": [{"mode": "all"}]},
            ]
        },
    )
    assert [a.max_length for a in accounts] == [280, None]
    assert [(p.path, p.key) for p in problems] == [
        ("accounts[1].key", "duplicate"),
        ("accounts[1].approval[0].approvers", "missing"),
    ]


def test_no_accounts_is_a_problem_even_when_the_value_is_wrong() -> None:
    r, problems = _reader()
    assert read_accounts(r, {"accounts": "x_corp"}) == ()
    assert [(p.path, p.key) for p in problems] == [("accounts", "wrong_type"), ("accounts", "missing")]


def test_kpis_check_their_accounts_and_search_console_checks_its_kpi() -> None:
    r, problems = _reader()
    kpi = {"key": "rate", "name": "Rate", "why": "Why", "aggregate": "derived", "derive": "engagement_rate"}
    kpis = read_kpis(r, {"kpis": [{**kpi, "unit": "%", "accounts": ["ghost"]}]}, accounts=())
    assert kpis[0].decimals == 1  # a percentage shows one decimal by default
    read_search_console(r, {"search_console": {"kpi": "missing_kpi"}}, kpis)
    assert [(p.path, p.key) for p in problems] == [
        ("kpis[0].accounts[0]", "unknown_account"),
        ("search_console.kpi", "unknown_kpi"),
    ]


def test_review_offers_custom_reasons_and_checks_its_working_hours() -> None:
    r, problems = _reader()
    review = read_review(
        r,
        {
            "review": {
                "channel": "C0REVIEW",
                "custom_reasons": {"price": {"ja": "価格", "en": "Price"}},
                "working_hours": {"start": "18:00", "end": "09:00", "extra_days_off": ["12-31", "31-12"]},
            }
        },
    )
    assert review.reasons == (*DEFAULT_REASONS, "price")
    assert review.working_hours.start == time(18)
    assert [(p.path, p.key) for p in problems] == [
        ("review.working_hours.end", "end_before_start"),
        ("review.working_hours.extra_days_off[1]", "bad_day"),
    ]


def test_digest_defaults_and_crontab_checks() -> None:
    r, problems = _reader()
    assert read_digest(r, {}) == DigestSettings()
    assert check_cron("0 9 * * mon") is None
    assert check_cron("0 9 * mon") == "5 fields"
    assert not problems


def test_server_port_comes_from_the_environment_and_sqlite_paths_from_the_config_file() -> None:
    r, problems = _reader()
    assert read_server(r, {"server": {"port": 3000}}, {"PORT": "8080"}).port == 8080
    database = read_database(r, {"database": {"url": "sqlite:///bot.db"}}, {}, Path("/srv/bot"))
    assert database.url == "sqlite:////srv/bot/bot.db"
    assert not problems


def test_secrets_come_from_the_environment_and_never_show() -> None:
    r, problems = _reader()
    secrets = read_secrets(r, {"SLACK_BOT_TOKEN": "xoxp-1-abc", "SLACK_APP_TOKEN": "xapp-your-token"})
    assert secrets.slack_bot_token == Secret("xoxp-1-abc")
    assert "xoxp" not in repr(secrets)
    assert [(p.path, p.key) for p in problems] == [
        ("$SLACK_APP_TOKEN", "placeholder_secret"),
        ("$SLACK_BOT_TOKEN", "bad_token_prefix"),
    ]
    assert mask_database_url("postgresql://sns:p@ss@db/sns") == "postgresql://sns:**********@db/sns"
