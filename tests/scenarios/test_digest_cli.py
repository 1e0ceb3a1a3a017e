"""`sns-bot digest weekly|monthly (--preview|--post)` as an admin runs it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import db
from bot.app import build_deps
from bot.cli import main
from tests.conftest import BOT_TOKEN, MGMT_CHANNEL, SIGNING_SECRET
from tests.fakes.slack import FakeSlack
from tests.scenarios.digest_seed import add_post, jst

CONFIG = """
locale = "en"
timezone = "Asia/Tokyo"
[database]
url = "sqlite:///{db}"
[roles]
managers = ["U0MANAGER1"]
admins = ["U0ADMIN001"]
[review]
channel = "C0REVIEW01"
[digest.weekly]
channels = ["{channel}"]
[digest.monthly]
channels = ["{channel}"]
[[accounts]]
key = "x_corp"
platform = "x"
handle = "@corp"
name = "X corp"
[[kpis]]
key = "engagement_rate"
name = {{ ja = "エンゲージメント率", en = "Engagement rate" }}
unit = "%"
aggregate = "derived"
derive = "engagement_rate"
better = "higher"
target = 3.0
why = {{ ja = "反応の深さ", en = "How deeply people react" }}
"""


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start_in_thread()
    yield fake
    fake.stop()


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for proxy in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(db=tmp_path / "bot.db", channel=MGMT_CHANNEL), encoding="utf-8")
    return path


def seed(config: Path) -> None:
    from bot.config import load_settings

    settings = load_settings(config, {})
    db.upgrade(settings.database.url)  # the CLI migrates too; the schema must be Alembic's

    async def run() -> None:
        deps = build_deps(settings)
        async with deps.sessions.begin() as s:
            from bot.kpi.values import sync_accounts

            await sync_accounts(s, accounts=settings.accounts)
            await add_post(s, n=1, at=jst(2026, 11, 17, 12), impressions=1000, engagements=34)
            await add_post(s, n=2, at=jst(2026, 10, 17, 12), impressions=1000, engagements=30)
        await deps.engine.dispose()

    asyncio.run(run())


def test_preview_prints_text_and_writes_the_chart(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(config)
    chart = tmp_path / "chart.png"
    code = main(
        [
            "digest",
            "monthly",
            "--period",
            "2026-11",
            "--preview",
            "--chart",
            str(chart),
            "--config",
            str(config),
        ],
        environ={},
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "SNS monthly KPI digest · 2026-11" in out
    assert "Engagement rate rose 0.4 pt to 3.4 %, 113 % of target." in out
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_preview_waits_once_for_all_manager_groups_when_slack_hangs(
    config: Path, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three manager user groups, Slack answering none of them: the preview waits one bounded time
    for them all together (not 5 s per group), then prints the digest with the managers it knows."""
    from bot.participation.roster import EXPAND_WAIT

    groups = ["S0HANG0001", "S0HANG0002", "S0HANG0003"]
    text = config.read_text(encoding="utf-8").replace(
        'managers = ["U0MANAGER1"]', f'managers = ["U0MANAGER1", "{groups[0]}", "{groups[1]}", "{groups[2]}"]'
    )
    config.write_text(text, encoding="utf-8")
    seed(config)
    slack.fail("usergroups.users.list", delay=60, times=None)
    code = main(
        ["digest", "monthly", "--period", "2026-11", "--preview", "--config", str(config)],
        environ={"SLACK_API_URL": slack.api_url},
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "SNS monthly KPI digest · 2026-11" in captured.out
    assert len(slack.calls_to("usergroups.users.list")) == 3  # each group asked once
    # One wait for all three, shown by what happened rather than by a stopwatch: a single
    # "no answer" line names every group (one wait per group would log one line each).
    late = [line for line in captured.err.splitlines() if f"no answer within {EXPAND_WAIT:.1f}s" in line]
    assert len(late) == 1, captured.err
    assert all(group in late[0] for group in groups)


def test_bad_period_is_refused(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["digest", "weekly", "--period", "2026-13", "--preview", "--config", str(config)], environ={})
        == 1
    )
    assert '"2026-13" is not a period I can read. Use the form 2026-W47.' in capsys.readouterr().err


def test_post_goes_through_exactly_once(
    config: Path, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(config)
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
    }
    args = ["digest", "weekly", "--period", "2026-W47", "--post", "--config", str(config)]
    assert main(args, environ=env) == 0
    first = capsys.readouterr().out
    assert first.startswith(f"Posted the weekly wins digest for 2026-W47 to {MGMT_CHANNEL} (ts ")
    assert main(args, environ=env) == 0
    assert "was already posted" in capsys.readouterr().out
    assert len(slack.messages(MGMT_CHANNEL)) == 1


def test_post_needs_a_token(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "weekly", "--post", "--config", str(config)], environ={}) == 1
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err


def test_two_processes_posting_at_once_post_once(config: Path, slack: FakeSlack) -> None:
    """Two real `sns-bot digest --post` processes race for the same digest."""
    import subprocess
    import sys

    seed(config)
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.api_url}
    for proxy in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        env.pop(proxy, None)
    cmd = [
        sys.executable,
        "-m",
        "bot",
        "digest",
        "weekly",
        "--period",
        "2026-W47",
        "--post",
        "--config",
        str(config),
    ]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert len(slack.messages(MGMT_CHANNEL)) == 1
