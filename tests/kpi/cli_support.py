"""Running the KPI feature's command-line commands as ``bot.cli`` does: ``Deps`` built around them and
disposed of afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from bot.app import build_deps
from bot.clock import Clock
from bot.config import Settings
from bot.kpi.cli import collect_command, import_command
from bot.runtime.deps import Deps
from bot.runtime.platforms import PlatformClient


@asynccontextmanager
async def cli_deps(
    settings: Settings, *, clock: Clock | None = None, platforms: Mapping[str, PlatformClient] | None = None
) -> AsyncIterator[Deps]:
    deps = build_deps(settings, clock=clock, platforms=platforms)
    try:
        yield deps
    finally:
        await deps.engine.dispose()


async def run_import(settings: Settings, *, clock: Clock | None = None, **kwargs: Any) -> int:
    """``sns-bot import`` with ``kwargs`` as :func:`bot.kpi.cli.import_command` takes them."""
    async with cli_deps(settings, clock=clock) as deps:
        return await import_command(deps, **kwargs)


async def run_collect(
    settings: Settings,
    *,
    account: str | None,
    clock: Clock | None = None,
    platforms: Mapping[str, PlatformClient] | None = None,
) -> int:
    """``sns-bot collect`` with the given platform clients (none: no token is set)."""
    async with cli_deps(settings, clock=clock, platforms=platforms) as deps:
        return await collect_command(deps, account=account)
