"""The parse job of one file: what the importers need from the settings, chosen once (pure).

A job travels to a parsing child process for large files, so it holds plain values only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bot.config import AccountSettings

if TYPE_CHECKING:
    from bot.kpi.import_worker import ParseJob
    from bot.runtime.deps import Deps


#: X names its exports after the account: ``(daily_)tweet_activity_metrics_<handle>_<from>_<to>_<lang>.csv``.
_X_FILE_NAME = re.compile(r"tweet_activity_metrics_(?P<handle>[A-Za-z0-9_]{1,15})_\d{8}_\d{8}")


def account_in_name(accounts: Sequence[AccountSettings], name: str) -> str | None:
    """The configured X account an export's file name names, if exactly one matches."""
    match = _X_FILE_NAME.search(name)
    if match is None:
        return None
    handle = match.group("handle").casefold()
    found = [a.key for a in accounts if a.platform == "x" and a.handle.lstrip("@").casefold() == handle]
    return found[0] if len(found) == 1 else None


def parse_job(
    deps: Deps,
    path: Path,
    *,
    kind: Literal["posts", "kpi"] | None,
    format: str | None,
    account: str | None,
    period: str | None,
    unrecorded_period: bool = False,
    chunk_rows: int = 20_000,
    part_of_zip: bool = False,
) -> ParseJob:
    """What a parsing worker needs to read ``path``: the settings it uses, nothing that pickles badly."""
    from bot.kpi.import_worker import ParseJob

    settings = deps.settings
    return ParseJob(
        path=path,
        kind=kind,
        format=format,
        tz=settings.tz,
        accounts={a.key: a.platform for a in settings.accounts},
        account=account,
        chunk_rows=chunk_rows,
        period=period,
        search_console=settings.search_console,
        kpis=tuple(k.key for k in settings.kpis),
        identities={a.key: tuple(i for i in (a.handle, a.platform_id) if i) for a in settings.accounts},
        unrecorded_period=unrecorded_period,
        part_of_zip=part_of_zip,
    )
