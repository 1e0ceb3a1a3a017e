"""Who reads which language: each person's own choice (App Home, stored) or their Slack locale
(``users.info`` with ``include_locale``, cached), falling back to the configured ``locale`` (Slack and
store I/O).

What a person reads alone — a DM, an ephemeral answer, a modal, their App Home — is rendered with
``await deps.locales.for_user(user_id)``; what a channel reads (digests, the review request message,
alerts) keeps the configured locale (``deps.t``). The rules:

- **Nothing waits on Slack before an ack** (as :mod:`bot.slack.directory`): code before an ack calls
  :meth:`Locales.known`, which reads this process's memory only; :meth:`Locales.for_user` may ask
  Slack and the store and is called after the ack, waiting at most ``wait`` seconds for Slack (a
  fetch that takes longer goes on in the background and fills the cache for next time).
- A person's choice is read from the store on every :meth:`Locales.for_user` (one primary-key read),
  so a choice made through one replica holds on every replica at once.
- A Slack locale is cached for ``[i18n] cache_ttl_minutes``; one fetch per person runs at a time (later
  callers join it); an answer older than the TTL is still used at once while a refresh runs. A failed
  fetch is retried after :data:`RETRY_AFTER`, meanwhile the configured locale is used.
- A Slack locale the bot has no catalog for (``fr-FR``) means the configured locale.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import db
from bot.clock import Clock
from bot.config import I18nSettings, Settings
from bot.errors import BotError, Unavailable
from bot.i18n import LOCALES, Locale, Translator, translator
from bot.slack.models import UserLocale

log = logging.getLogger(__name__)

#: Seconds a caller after its ack waits for ``users.info`` before using the configured locale.
DEFAULT_WAIT = 2.0
#: For a modal: ``views.open`` must still come within Slack's 3 s of the click.
MODAL_WAIT = 0.8
#: Seconds the store may take to say what a person picked before their last known choice is used.
CHOICE_WAIT = 1.5
#: How soon a failed ``users.info`` (Slack down, user not found) is asked again.
RETRY_AFTER = timedelta(minutes=1)


class Choice(StrEnum):
    """What a person picked on the App Home: follow Slack, or one language."""

    AUTO = "auto"
    JA = "ja"
    EN = "en"

    @property
    def locale(self) -> Locale | None:
        return None if self is Choice.AUTO else _LOCALE_OF[self.value]


_LOCALE_OF: dict[str, Locale] = {loc: loc for loc in LOCALES}


def from_slack(tag: object) -> Locale | None:
    """A Slack locale (``ja-JP``, ``en-US``, ``en-GB``) → a catalog locale; ``None`` when the bot has
    no catalog for it (``fr-FR``) or it is not a locale at all."""
    if not isinstance(tag, str):
        return None
    language = tag.strip().replace("_", "-").split("-")[0].lower()
    return _LOCALE_OF.get(language)


@dataclass(frozen=True, slots=True)
class _Seen:
    """What Slack said of a person (``None``: no catalog for it, or Slack did not answer)."""

    locale: Locale | None
    at: datetime
    ok: bool


class Locales:
    """The per-person language resolver (one per process, on ``Deps.locales``)."""

    def __init__(
        self,
        *,
        settings: Settings,
        clock: Clock,
        sessions: async_sessionmaker[AsyncSession] | None,
        slack: AsyncWebClient | None,
    ) -> None:
        self._default: Locale = settings.locale
        self._options: I18nSettings = settings.i18n
        self._ttl = timedelta(minutes=settings.i18n.cache_ttl_minutes)
        self._clock = clock
        self._sessions = sessions
        self._slack = slack
        self._seen: dict[str, _Seen] = {}
        #: The last choice read or made in this process (for :meth:`known`, before an ack).
        self._chosen: dict[str, Locale | None] = {}
        self._fetching: dict[str, asyncio.Task[Locale | None]] = {}

    @property
    def per_user(self) -> bool:
        return self._options.per_user and self._slack is not None

    @property
    def default(self) -> Translator:
        """The configured language: channel posts, and anyone the bot knows nothing about."""
        return translator(self._default)

    # -- the cache only: safe before an ack --------------------------------------------------

    def known_locale(self, user_id: str | None) -> Locale:
        """``user_id``'s language from this process's memory only (no Slack, no store)."""
        if not user_id or not self.per_user:
            return self._default
        chosen = self._chosen.get(user_id)
        if chosen is not None:
            return chosen
        seen = self._seen.get(user_id)
        return seen.locale if seen is not None and seen.locale is not None else self._default

    def known(self, user_id: str | None) -> Translator:
        """:meth:`known_locale` as a translator: for answers rendered before an ack."""
        return translator(self.known_locale(user_id))

    # -- after an ack: may ask the store and Slack ------------------------------------------

    async def locale_for(self, user_id: str | None, *, wait: float = DEFAULT_WAIT) -> Locale:
        """``user_id``'s language: their App Home choice, else their Slack locale (asked at most
        ``wait`` seconds), else the configured one. Call it after the ack."""
        if not user_id or not self.per_user:
            return self._default
        chosen = await self._read_choice(user_id)
        if chosen is not None:
            return chosen
        slack_locale = await self._slack_locale(user_id, wait=wait)
        return slack_locale or self._default

    async def for_user(self, user_id: str | None, *, wait: float = DEFAULT_WAIT) -> Translator:
        """The translator for what ``user_id`` reads alone (DM, ephemeral answer, modal, App Home)."""
        return translator(await self.locale_for(user_id, wait=wait))

    async def choice(self, user_id: str) -> Choice:
        """What ``user_id`` picked on the App Home (``AUTO`` when nothing, or the store is away)."""
        chosen = await self._read_choice(user_id)
        return Choice(chosen) if chosen is not None else Choice.AUTO

    async def choose(self, user_id: str, choice: Choice) -> None:
        """Store ``user_id``'s pick (``AUTO``: forget it, follow Slack again).

        Raises:
            Unavailable: when the store cannot be written (nothing changed).
        """
        sessions = self._sessions
        if sessions is None:
            raise Unavailable("common.errors.db_unavailable")
        now = self._clock.now()
        locale = choice.locale

        async def unit() -> None:
            async with db.unit_of_work(sessions, write=True) as session:
                if locale is None:
                    await session.execute(delete(UserLocale).where(UserLocale.user_id == user_id))
                    return
                # An upsert: two clicks at once must not collide on the primary key.
                stmt = db.dialect_insert(session)(UserLocale).values(
                    user_id=user_id, locale=locale, updated_at=now
                )
                await session.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[UserLocale.user_id], set_={"locale": locale, "updated_at": now}
                    )
                )

        await db.with_retry(unit)
        self._chosen[user_id] = locale

    async def aclose(self) -> None:
        """Cancel ``users.info`` calls still running (shutdown)."""
        tasks = list(self._fetching.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- the store ------------------------------------------------------------------------------

    async def _read_choice(self, user_id: str) -> Locale | None:
        if self._sessions is None:
            return self._chosen.get(user_id)
        try:
            async with asyncio.timeout(CHOICE_WAIT), db.unit_of_work(self._sessions) as session:
                stored = await session.scalar(select(UserLocale.locale).where(UserLocale.user_id == user_id))
        except (BotError, SQLAlchemyError, OSError, TimeoutError) as exc:
            # The store is away: the last choice this process saw is the best answer (never an error
            # about the language in place of the answer the person asked for).
            log.warning("language choice of %s unreadable: %s", user_id, type(exc).__name__)
            return self._chosen.get(user_id)
        chosen = _LOCALE_OF.get(stored) if stored else None
        self._chosen[user_id] = chosen
        return chosen

    # -- Slack ------------------------------------------------------------------------------------

    async def _slack_locale(self, user_id: str, *, wait: float) -> Locale | None:
        seen = self._seen.get(user_id)
        now = self._clock.now()
        if seen is not None:
            if now - seen.at >= (self._ttl if seen.ok else RETRY_AFTER):
                self._fetch(user_id)  # stale: used now, refreshed meanwhile
            return seen.locale
        try:
            async with asyncio.timeout(wait):
                return await asyncio.shield(self._fetch(user_id))
        except TimeoutError:
            log.warning("users.info %s: no answer within %.1fs", user_id, wait)
            return None

    def _fetch(self, user_id: str) -> asyncio.Task[Locale | None]:
        """The running ``users.info`` of ``user_id``, or a new one (one at a time per person)."""
        running = self._fetching.get(user_id)
        if running is not None and not running.done():
            return running
        task = asyncio.create_task(self._ask(user_id), name=f"users-info-{user_id}")
        self._fetching[user_id] = task
        task.add_done_callback(lambda done: self._forget(user_id, done))
        return task

    def _forget(self, user_id: str, task: asyncio.Task[Locale | None]) -> None:
        if self._fetching.get(user_id) is task:
            del self._fetching[user_id]

    async def _ask(self, user_id: str) -> Locale | None:
        assert self._slack is not None  # per_user is False without a client
        try:
            response = await self._slack.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            log.warning("users.info %s failed: %s", user_id, exc.response.get("error"))
            return self._failed(user_id)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("users.info %s failed: %s", user_id, type(exc).__name__)
            return self._failed(user_id)
        user = response.get("user")
        tag = user.get("locale") if isinstance(user, dict) else None
        locale = from_slack(tag)
        if tag and locale is None:
            log.info("users.info %s: no catalog for Slack locale %r; using %s", user_id, tag, self._default)
        self._seen[user_id] = _Seen(locale, self._clock.now(), ok=True)
        return locale

    def _failed(self, user_id: str) -> Locale | None:
        """Keep the last answer (however old) and ask again after :data:`RETRY_AFTER`."""
        last = self._seen.get(user_id)
        locale = last.locale if last is not None else None
        self._seen[user_id] = _Seen(locale, self._clock.now(), ok=False)
        return locale
