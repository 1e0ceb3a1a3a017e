"""A database password is configuration like any token: a percent-encoded one (the normal form of a
password holding ``@:/%``) works for ``migrate`` and ``run``, and no log line, error or repr ever shows
it; ``check-config`` refuses exactly what ``run`` refuses (issue 13, item 6).

Before: Alembic's configparser read the ``%`` of ``S3cr%40t`` as an interpolation, ``migrate`` and
``run`` crashed with a traceback that printed the whole URL, password included; ``check-config``
exited 0 without the Slack secrets ``run`` refuses to start without.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.cli import main
from bot.db import make_engine
from bot.logs import configure_logging
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, make_settings
from tests.fakes.local import PG_ADMIN_URL, database_url, pg_admin
from tests.fakes.slack import FakeSlack
from tests.reliability.bot_process import ROOT, BotConfig, start_bot, stopping

#: Every character a URL's user-info must encode, plus a ``%`` configparser chokes on.
PASSWORD = "S3cr@t:/%pw#1"
ENCODED = "S3cr%40t%3A%2F%25pw%231"
#: What must never appear: the password written either way, and its distinctive core.
LEAKS = (PASSWORD, ENCODED, "S3cr")

EXAMPLE = str(ROOT / "config.example.toml")


def _url(user: str, database: str, *, port: int | None = None) -> str:
    admin = make_url(PG_ADMIN_URL)
    return f"postgresql://{user}:{ENCODED}@{admin.host}:{port or admin.port or 5432}/{database}"


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().endswith("_PROXY") and not k.startswith("SLACK_") and k != "DATABASE_URL"
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def _assert_no_leak(*texts: str) -> None:
    for output in texts:
        for leak in LEAKS:
            assert leak not in output, f"{leak!r} leaked in:\n{output}"


@pytest.fixture
async def pg_role() -> AsyncIterator[tuple[str, str]]:
    """A PostgreSQL role whose password holds ``@:/%#``, and an empty database it owns."""
    suffix = uuid.uuid4().hex[:8]
    role, database = f"sns_pw_{suffix}", f"sns_pw_{suffix}"
    try:
        await pg_admin(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{PASSWORD}'")
    except Exception as exc:  # any failure means "no server"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc!r}")
        pytest.skip(f"PostgreSQL unreachable: {exc!r}")
    await pg_admin(f'CREATE DATABASE "{database}" OWNER "{role}"')
    try:
        yield role, database
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await pg_admin(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.postgres
async def test_migrate_with_a_percent_encoded_password_works_and_shows_it_nowhere(
    pg_role: tuple[str, str], tmp_path: Path
) -> None:
    role, database = pg_role
    (tmp_path / "config.toml").write_text(BotConfig(log_level="DEBUG").toml(), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate", "--config", str(tmp_path / "config.toml")],
        env=_clean_env(DATABASE_URL=_url(role, database)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "データベースは最新の状態です。" in result.stdout
    _assert_no_leak(result.stdout, result.stderr)
    engine = make_engine(database_url(database))
    try:
        async with engine.connect() as conn:
            owner = await conn.scalar(
                text("SELECT tableowner FROM pg_tables WHERE tablename = 'alembic_version'")
            )
    finally:
        await engine.dispose()
    assert owner == role  # the bot connected as the role of the encoded URL


@pytest.mark.slow
@pytest.mark.postgres
async def test_run_with_a_percent_encoded_password_serves_and_logs_no_password(
    pg_role: tuple[str, str], tmp_path: Path
) -> None:
    role, database = pg_role
    with FakeSlack() as fake:
        bot = start_bot(
            tmp_path, config=BotConfig(), api_url=fake.api_url, env={"DATABASE_URL": _url(role, database)}
        )
        with stopping(bot):
            await bot.wait_healthy()
            assert bot.stop(timeout=30) == 0, bot.log_text()
    assert "database migrated" in bot.messages()
    _assert_no_leak(bot.log_text())


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["migrate"], "データベースを更新できませんでした: "),
        (["run"], "エラーのためボットを停止しました: "),
        (["digest", "weekly", "--preview"], "sns-bot digest はエラーのため中断しました: "),
    ],
)
def test_a_database_that_refuses_ends_in_one_line_without_the_password(
    tmp_path: Path, command: list[str], expected: str
) -> None:
    """Nothing listens on the port: the error is one localized line and a redacted log record."""
    (tmp_path / "config.toml").write_text(BotConfig(log_level="DEBUG").toml(), encoding="utf-8")
    env = _clean_env(
        DATABASE_URL=_url("sns", "sns", port=1),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", *command, "--config", str(tmp_path / "config.toml")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    _assert_no_leak(result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert sum(line.startswith(expected) for line in lines) == 1, result.stderr
    assert "Traceback" not in lines[0]


def test_an_unreadable_database_url_is_a_config_problem_that_does_not_echo_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        # The "@" of the password left as it is: the host would become "t:/%pw#1@127.0.0.1".
        "DATABASE_URL": f"postgresql://sns:{PASSWORD}@127.0.0.1:5432/sns",
    }
    for command in ("check-config", "migrate", "run"):
        assert main([command, "--config", EXAMPLE], environ=env) == 1
        err = capsys.readouterr().err
        assert "$DATABASE_URL: データベースの URL として読み取れません。" in err
        _assert_no_leak(err)
    from bot.config import database_url_problem

    assert database_url_problem("postgresql://sns:pw@host:port/db") == "unreadable_database_url"
    assert database_url_problem("mysql://sns@host/db") == "bad_database_url"
    assert database_url_problem(f"postgresql://sns:{ENCODED}@host/db") is None


def test_settings_and_log_lines_never_show_a_database_password() -> None:
    settings = make_settings(db_url=f"postgresql://sns:{ENCODED}@db.internal:5432/sns")
    _assert_no_leak(repr(settings), repr(settings.database), str(settings))

    stream = io.StringIO()
    configure_logging(level="INFO", fmt="json", secrets=settings.database.secrets(), stream=stream)
    log = logging.getLogger("tests.database_url")
    try:
        log.warning("connecting to %s", settings.database.url)
        log.warning("password was %s", PASSWORD)
        # Any URL with credentials, even one the settings never saw (and a password of 2 chars).
        log.warning("retrying postgresql+asyncpg://other:pw@replica/sns")
        try:
            raise ValueError(f"invalid interpolation syntax in {settings.database.url!r}")
        except ValueError:
            log.exception("migration failed")
    finally:
        logging.getLogger().handlers.clear()
    text = stream.getvalue()
    _assert_no_leak(text)
    assert ":pw@" not in text
    assert "postgresql://sns:**********@db.internal:5432/sns" in text


def test_check_config_exits_1_exactly_when_run_would_refuse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", "--config", EXAMPLE], environ={}) == 1
    err = capsys.readouterr().err
    assert "$SLACK_BOT_TOKEN: 設定されていません" in err
    assert "$SLACK_SIGNING_SECRET" in err
    assert main(["run", "--config", EXAMPLE], environ={}) == 1
    assert capsys.readouterr().err == err  # the same problems, from the same rule

    http = {"SLACK_BOT_TOKEN": BOT_TOKEN}
    assert main(["check-config", "--config", EXAMPLE], environ=http) == 1
    assert "$SLACK_SIGNING_SECRET" in capsys.readouterr().err

    socket = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xapp-1-A0APP0001-3333-testapptoken"}
    assert main(["check-config", "--config", EXAMPLE], environ=socket) == 0
    assert (
        main(["check-config", "--config", EXAMPLE], environ={**http, "SLACK_SIGNING_SECRET": SIGNING_SECRET})
        == 0
    )
    assert capsys.readouterr().out.startswith("設定に問題はありません")
