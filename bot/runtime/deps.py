"""``Deps``: everything a listener, job or service needs, built once per process by the composition root
(:func:`bot.app.build_deps`) and passed down; nothing here builds anything."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import Translator, translator
from bot.runtime.platforms import PlatformClient
from bot.runtime.ports import HomeRefresh, NoHome, NoWins, WinsReader
from bot.slack.authorization import SlackAuthorization
from bot.slack.directory import Directory
from bot.slack.errors import guard
from bot.slack.gate import AfterAck
from bot.slack.inflight import InFlight
from bot.slack.locales import Locales
from bot.slack.outbox import Outbox


@dataclass(frozen=True, slots=True)
class Deps:
    """Everything a listener, job or service needs, built once per process."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    slack: AsyncWebClient
    directory: Directory
    #: Slack work owed for stored changes, retried until done (:mod:`bot.slack.outbox`).
    outbox: Outbox
    #: Bolt's ``authorize``: the bot token and identity (``auth.test`` at start-up, not before an ack).
    authorization: SlackAuthorization
    #: Who reads which language: ``await deps.locales.for_user(user_id)`` for what one person reads
    #: (DMs, ephemeral answers, modals, the App Home); ``deps.t`` for channel posts (bot.slack.locales).
    locales: Locales
    inflight: InFlight = field(default_factory=InFlight)
    #: Turns for listener work after the ack (``[server] max_concurrent_work``).
    after_ack: AfterAck = field(default_factory=AfterAck)
    platforms: Mapping[str, PlatformClient] = field(default_factory=dict)
    #: The App Home, republished after changes (:class:`~bot.runtime.ports.NoHome` in the CLI).
    home: HomeRefresh = field(default_factory=NoHome)
    #: The wins the team shared (the digest feature's store), for features below it.
    wins: WinsReader = field(default_factory=NoWins)

    @property
    def t(self) -> Translator:
        """The configured language: what channels read (digests, review requests, alerts)."""
        return translator(self.settings.locale)

    def listener(
        self,
        func: Callable[..., Awaitable[Any]],
        *,
        opens_modal: bool | Callable[[dict[str, Any]], bool] = False,
    ) -> Callable[..., Awaitable[None]]:
        """Register-ready listener: tracked for shutdown, guarded by the error boundary, and its work
        after the ack waiting for a turn (:mod:`bot.slack.gate`; ``opens_modal``: its answer is a
        modal, which must open within Slack's 3 s, so it goes first; or a test of the request body)."""
        # Tracked outside the guard: the error answer is work in progress too (SIGTERM waits for it).
        return self.inflight.track(
            guard(func, t=self.t, locales=self.locales, gate=self.after_ack, opens_modal=opens_modal)
        )
