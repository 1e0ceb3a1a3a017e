"""Accounts' platform user ids for collectors: the configured ``platform_id``, else the id looked up
once from the handle and kept on the ``account`` row (I/O: the store, and the platform client for
the one lookup).

X addresses an account's timeline and follower count by user id, which people rarely know; their
handle they do. A client that can look a handle up (:class:`~bot.runtime.platforms.UserLookup`) is
asked once per handle: the id is stored and reused by every later run and replica; a changed
handle clears it (:func:`bot.kpi.values.sync_accounts`), so the new one is looked up.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import AccountSettings
from bot.db import unit_of_work
from bot.errors import BotError
from bot.kpi.models import Account
from bot.runtime.platforms import PlatformClient, PlatformError, UserLookup

log = logging.getLogger(__name__)


async def with_user_ids(
    sessions: async_sessionmaker[AsyncSession],
    client: PlatformClient,
    accounts: Sequence[AccountSettings],
    *,
    errors: list[BotError],
) -> list[AccountSettings]:
    """``accounts`` with ``platform_id`` filled in where the config leaves it out and the handle
    says who it is (stored id, else one lookup, then stored). A failed lookup is added to
    ``errors`` and leaves that account without an id (its discovery is skipped this run)."""
    if not isinstance(client, UserLookup):
        return list(accounts)
    missing = [a for a in accounts if not a.platform_id and a.handle.strip().lstrip("@")]
    if not missing:
        return list(accounts)
    async with unit_of_work(sessions) as session:
        stored = {
            key: user_id
            for key, user_id in (
                await session.execute(
                    select(Account.key, Account.platform_user_id).where(
                        Account.key.in_([a.key for a in missing])
                    )
                )
            ).all()
            if user_id
        }
    found: dict[str, str] = {}
    for account in missing:
        if account.key in stored:
            found[account.key] = stored[account.key]
            continue
        try:
            found[account.key] = await client.lookup_user_id(account.handle)
        except PlatformError as failure:
            log.warning("%s: no user id for %s: %r", client.platform, account.handle, failure)
            errors.append(failure)
            continue
        except Exception as exc:  # a bug for one account must not stop the others
            log.exception("%s: looking up %s failed", client.platform, account.handle)
            errors.append(BotError("common.errors.unexpected", ref=type(exc).__name__))
            continue
        async with unit_of_work(sessions) as session:
            # Only for the handle it was looked up for (the config may have changed meanwhile).
            await session.execute(
                update(Account)
                .where(Account.key == account.key, Account.handle == account.handle)
                .values(platform_user_id=found[account.key])
            )
    return [replace(a, platform_id=found[a.key]) if a.key in found else a for a in accounts]
