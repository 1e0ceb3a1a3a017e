"""The DMs admins get about one digest in one channel (I/O: store keys, Slack): it failed for good,
it is late, it cannot be checked, and — after one of those — it finally went out.

Each is sent at most once per (kind, period, channel), across replicas and restarts, by a key in
``processed_key``. Only the process holding the digest's claim sends them, so the claim already
orders them: a "late" DM is sent (and recorded) before the claim is released for the next attempt,
and whoever posts afterwards sees that it was sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.db import unit_of_work
from bot.digest.ui import admin as admin_ui
from bot.i18n import Translator
from bot.keys import ProcessedKey, claim_key

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)


def _key(what: str, *, kind: str, period: str, channel: str) -> str:
    return f"digest_{what}:{kind}:{period}:{channel}"


async def _seen(deps: Deps, key: str) -> bool:
    async with unit_of_work(deps.sessions) as session:
        return (await session.scalar(select(ProcessedKey.key).where(ProcessedKey.key == key))) is not None


async def _claim(deps: Deps, key: str) -> bool:
    async with unit_of_work(deps.sessions) as session:
        return await claim_key(session, key=key, now=deps.clock.now())


def _detail(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        data = exc.response.data
        return str((data.get("error") if isinstance(data, dict) else None) or exc.response.status_code)
    return type(exc).__name__


async def _dm_admins(deps: Deps, render: Callable[[Translator], str], *, about: str) -> bool:
    """DM every admin, each in their language (the client's own retries); True when at least one DM
    went out."""
    sent = False
    for admin in deps.settings.roles.admins:
        try:
            text = render(await deps.locales.for_user(admin))
            await deps.slack.chat_postMessage(channel=admin, text=text)
            sent = True
        except (TimeoutError, SlackApiError, aiohttp.ClientError, OSError) as exc:
            log.error("could not tell admin %s about %s: %s", admin, about, _detail(exc))
    return sent


async def tell_failed(deps: Deps, *, kind: str, period: str, channel: str, error: str) -> None:
    """A digest that cannot be posted for a reason retrying will not fix (recorded first: at most once)."""
    if not await _claim(deps, _key("failed", kind=kind, period=period, channel=channel)):
        return
    await _dm_admins(
        deps,
        lambda t: admin_ui.build_admin_failure_text(
            kind=kind, period=period, channel=channel, error=error, t=t
        ),
        about=f"the failed digest {kind} {period}",
    )


async def tell_late(
    deps: Deps, *, kind: str, period: str, channel: str, error: str, unverified: bool = False
) -> None:
    """An attempt ended without the digest in the channel: tell the admins once that it is late
    (or, once more, that it cannot be checked and waits for the bot to be invited).

    Sent first and recorded after: a DM that Slack refused (it is often down when a digest is late)
    is tried again at the next failed attempt, and a digest that goes out at the next attempt
    causes no DM at all. Only the claim holder calls this, so sending twice cannot race.
    """
    late = _key("late", kind=kind, period=period, channel=channel)
    key = _key("unverified", kind=kind, period=period, channel=channel) if unverified else late
    if await _seen(deps, key):
        return

    def text(t: Translator) -> str:
        return admin_ui.build_admin_late_text(
            kind=kind,
            period=period,
            channel=channel,
            error=error,
            days=deps.settings.digest.catch_up_days,
            unverified=unverified,
            t=t,
        )

    if not await _dm_admins(deps, text, about=f"the late digest {kind} {period}"):
        return
    await _claim(deps, key)
    if key != late:
        await _claim(deps, late)  # the "went out" DM follows this one too


async def tell_out_if_late(deps: Deps, *, kind: str, period: str, channel: str, found: bool) -> None:
    """The digest is in the channel now: if the admins were told it was late, tell them once it is out."""
    if not await _seen(deps, _key("late", kind=kind, period=period, channel=channel)):
        return
    if not await _claim(deps, _key("out", kind=kind, period=period, channel=channel)):
        return
    await _dm_admins(
        deps,
        lambda t: admin_ui.build_admin_out_text(kind=kind, period=period, channel=channel, found=found, t=t),
        about=f"the digest {kind} {period} that went out",
    )
