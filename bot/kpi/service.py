"""KPI store operations (I/O through a passed-in AsyncSession; no Slack)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AccountSettings
from bot.kpi.models import Account


async def sync_accounts(session: AsyncSession, *, accounts: Sequence[AccountSettings]) -> None:
    """Make the ``account`` table hold every configured account (rows of removed accounts stay,
    because posts still point at them)."""
    existing = {a.key: a for a in (await session.scalars(select(Account))).all()}
    for cfg in accounts:
        row = existing.get(cfg.key)
        if row is None:
            session.add(Account(key=cfg.key, platform=cfg.platform, handle=cfg.handle))
        else:
            row.platform = cfg.platform
            row.handle = cfg.handle
