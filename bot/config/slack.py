"""The Slack app's section (pure): ``[slack]`` (app name, slash commands) and ``$SLACK_API_URL``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.config.reader import Reader
from bot.config.values import COMMAND_RE

DEFAULT_API_URL = "https://slack.com/api/"


@dataclass(frozen=True, slots=True)
class SlackSettings:
    app_name: str = "SNS Team Bot"
    review_command: str = "/sns-review"
    kpi_command: str = "/sns-kpi"


def read_slack(r: Reader, raw: Mapping[str, Any]) -> SlackSettings:
    """``[slack]``: two distinct slash commands, so a staging app can use ``/sns-review-dev``."""
    sl = r.table(raw, "slack", "")
    r.known(sl, "slack", ("app_name", "review_command", "kpi_command"))
    slack = SlackSettings(
        app_name=r.get(sl, "app_name", "slack", str, "SNS Team Bot"),
        review_command=r.get(sl, "review_command", "slack", str, "/sns-review"),
        kpi_command=r.get(sl, "kpi_command", "slack", str, "/sns-kpi"),
    )
    for name in ("review_command", "kpi_command"):
        if not COMMAND_RE.match(getattr(slack, name)):
            r.add(f"slack.{name}", "bad_command", value=getattr(slack, name))
    if slack.review_command == slack.kpi_command:
        r.add("slack.kpi_command", "duplicate", value=slack.kpi_command)
    return slack


def read_slack_api_url(r: Reader, environ: Mapping[str, str]) -> str:
    """``$SLACK_API_URL`` (default: Slack's), always ending in ``/``."""
    api_url = environ.get("SLACK_API_URL") or DEFAULT_API_URL
    if not api_url.startswith(("http://", "https://")):
        r.add("$SLACK_API_URL", "bad_url", value=api_url)
    if not api_url.endswith("/"):
        api_url += "/"
    return api_url
