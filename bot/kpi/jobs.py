"""Scheduled KPI collectors: find each account's recent posts, refresh recent posts' metrics and follower
counts from platform APIs (I/O: store, HTTP through the platform clients, Slack DMs to admins).

Each platform run is recorded in ``collector_run`` for the App Home. Network calls happen outside
any database transaction; one account's (or platform's) failure is recorded and never stops the
others. A rejected token is told to admins once per token (an exactly-once key holds a hash of
the token, so a newly issued token that also fails is reported again).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import AccountSettings, Settings
from bot.db import unit_of_work
from bot.errors import BotError
from bot.i18n import Translator, translator
from bot.keys import claim_key
from bot.kpi import run_errors
from bot.kpi.collector_runs import finish_collector_run, start_collector_run
from bot.kpi.ids import JobId, claim_auth_key
from bot.kpi.kinds import RunStatus
from bot.kpi.queries import recent_posts
from bot.kpi.records import PostRecord
from bot.kpi.user_ids import with_user_ids
from bot.kpi.values import record_followers, store_metrics, upsert_posts
from bot.metrics import AccountCounts, Metrics
from bot.runtime.platforms import (
    AccountRef,
    DiscoveredPost,
    DiscoverResult,
    PlatformClient,
    PlatformError,
    PlatformErrorKind,
    PostRef,
)

if TYPE_CHECKING:
    from bot.runtime.deps import Deps
    from bot.slack.locales import Locales

log = logging.getLogger(__name__)

#: Stored in ``post.source`` / ``metric_snapshot.source`` / ``account_snapshot.source``.
SOURCE = "api"
#: A missed daily run is still worth doing within this many seconds.
MISFIRE_GRACE_SECONDS = 6 * 3600


@dataclass(frozen=True, slots=True)
class CollectOutcome:
    """One platform's run: ``ok`` | ``partial`` | ``failed``, what was stored, and what went wrong.

    Attributes:
        posts_updated: posts created or changed in the store.
        posts_seen: posts the platform reported on (listed or measured).
        posts_new: of those, posts the store did not know (found in the accounts' recent posts).
    """

    platform: str
    status: RunStatus
    posts_updated: int
    followers_stored: int
    errors: tuple[BotError, ...] = ()
    posts_seen: int = 0
    posts_new: int = 0


def platform_tokens(settings: Settings) -> dict[str, str | None]:
    """Platform name → credential from the environment (``None`` when not set)."""
    s = settings.secrets
    return {
        "x": s.x_bearer_token.get() if s.x_bearer_token else None,
        "instagram": s.instagram_access_token.get() if s.instagram_access_token else None,
        "youtube": s.youtube_api_key.get() if s.youtube_api_key else None,
    }


def register_jobs(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    """The daily (``[collectors] cron``) metrics collection, when any collector has a token."""
    if not deps.platforms:
        log.info("no platform collectors configured (no API tokens set); metrics collection is off")
        return
    scheduler.add_job(
        deps.inflight.track(partial(run_collectors, deps)),
        CronTrigger.from_crontab(deps.settings.collectors.cron, timezone=deps.settings.tz),
        id=JobId.COLLECT,
        name="metrics collection",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
    )


async def run_collectors(deps: Deps, account: str | None = None) -> list[CollectOutcome]:
    """The scheduled job: collect every platform that has a client (thin wrapper over :func:`collect_all`)."""
    outcomes = await collect_all(
        sessions=deps.sessions,
        settings=deps.settings,
        platforms=deps.platforms,
        slack=deps.slack,
        now=deps.clock.now(),
        account=account,
        locales=deps.locales,
    )
    deps.home.refresh()  # KPI values and admins' collector status changed
    return outcomes


async def collect_all(
    *,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    platforms: Mapping[str, PlatformClient],
    slack: AsyncWebClient | None,
    now: datetime,
    account: str | None = None,
    locales: Locales | None = None,
) -> list[CollectOutcome]:
    """Find each account's posts of the last ``lookback_days``, collect their metrics (and those of
    every stored post of that window) and follower counts.

    Args:
        platforms: platform name → client (platforms without a token have none).
        slack: for the admins' DM about a rejected token; ``None`` skips it.
        account: only this configured account.
        locales: each admin's language for that DM (default: the configured one).
    """
    outcomes = []
    for platform, client in sorted(platforms.items()):
        accounts = [a for a in settings.accounts if a.platform == platform and account in (None, a.key)]
        if not accounts:
            continue
        try:
            outcome = await _collect_platform(
                sessions=sessions, settings=settings, client=client, accounts=accounts, now=now
            )
        except Exception as exc:  # one platform's failure must not stop the others
            log.exception("collector %s failed", platform)
            outcome = CollectOutcome(platform, RunStatus.FAILED, 0, 0, (_as_bot_error(exc),))
            async with unit_of_work(sessions) as session:
                run_id = await start_collector_run(session, platform=platform, now=now)
                await finish_collector_run(
                    session,
                    run_id=run_id,
                    status=RunStatus.FAILED,
                    posts_updated=0,
                    error=repr(exc)[:2000],
                    now=now,
                )
        outcomes.append(outcome)
        if slack is not None:
            await _report_token_problems(
                sessions, settings=settings, slack=slack, outcome=outcome, now=now, locales=locales
            )
    return outcomes


async def _collect_platform(
    *,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: PlatformClient,
    accounts: Sequence[AccountSettings],
    now: datetime,
) -> CollectOutcome:
    platform = client.platform
    since = now - timedelta(days=settings.collectors.lookback_days)
    async with unit_of_work(sessions) as session:
        run_id = await start_collector_run(session, platform=platform, now=now)
    errors: list[BotError] = []
    # X needs each account's user id: the configured one, else looked up once from its handle.
    accounts = await with_user_ids(sessions, client, accounts, errors=errors)
    # 1. Each account's recent posts (a review's post keyed by its URL is matched by permalink).
    # A listing that carries every metric (X) is stored as the posts' metrics; any other listing
    # only makes the posts known (insights follow below; its counts are the fallback).
    listed: list[PostRecord] = []
    measured: set[str] = set()  # listed with every metric already: no second call this run
    fallback: dict[str, Metrics] = {}
    for acc in accounts:
        if acc.platform_id:
            found = await _discover(client, acc, since=since, errors=errors)
            for post in found.posts:
                listed.append(_as_record(platform, acc.key, post, with_metrics=found.measured))
                if found.measured:
                    measured.add(post.external_id)
                elif not post.metrics.is_empty():
                    fallback[post.external_id] = post.metrics
    async with unit_of_work(sessions) as session:
        discovered = await upsert_posts(session, listed, source=SOURCE, now=now)
        recent = await recent_posts(session, platform=platform, since=since)
    listed_measured = discovered.new + discovered.updated if measured else 0
    # 2. Metrics of every recent post, and follower counts.
    keys = {a.key for a in accounts}
    metrics: dict[str, Metrics] = {}
    snapshots: list[AccountCounts] = []
    for acc in accounts:
        refs = [
            PostRef(external_id=ext, account_key=key)
            for ext, key in recent
            if key == acc.key and ext not in measured
        ]
        if refs:
            try:
                result = await client.fetch_post_metrics(refs)
                metrics.update(result.metrics)
                errors.extend(result.errors)
            except Exception as exc:  # the protocol says "never raises"; a bug must not stop others
                log.exception("collector %s: posts of %s failed", platform, acc.key)
                errors.append(_as_bot_error(exc))
        if acc.platform_id:
            try:
                snapshots.append(await client.fetch_account(AccountRef(acc.key, acc.platform_id)))
            except PlatformError as failure:
                errors.append(failure)
            except Exception as exc:  # a bug in one account must not stop the others
                log.exception("collector %s: account %s failed", platform, acc.key)
                errors.append(_as_bot_error(exc))
    snapshots = [s for s in snapshots if s.account_key in keys]
    for ext, counts in fallback.items():
        metrics.setdefault(ext, counts)  # no insights for it (too few viewers, an error): the listing's
    seen = len(set(metrics) | {record.external_id for record in listed})
    async with unit_of_work(sessions) as session:
        stored = await store_metrics(session, platform=platform, metrics=metrics, source=SOURCE, now=now)
        for snap in snapshots:
            await record_followers(
                session, account_key=snap.account_key, followers=snap.followers, source=SOURCE, now=now
            )
        collected = bool(metrics) or bool(snapshots) or bool(listed)
        if not errors:
            status = RunStatus.OK
        else:
            status = RunStatus.PARTIAL if collected else RunStatus.FAILED
        updated = listed_measured + stored.new + stored.updated
        await finish_collector_run(
            session,
            run_id=run_id,
            status=status,
            posts_updated=updated,
            posts_seen=seen,
            posts_new=discovered.new,
            error=run_errors.encode(errors),  # keys: each admin reads them in their own language
            now=now,
        )
    for err in errors:
        log.warning("collector %s: %r", platform, err)
    return CollectOutcome(
        platform, status, updated, len(snapshots), tuple(errors), posts_seen=seen, posts_new=discovered.new
    )


async def _discover(
    client: PlatformClient, acc: AccountSettings, *, since: datetime, errors: list[BotError]
) -> DiscoverResult:
    try:
        result = await client.discover_posts(AccountRef(acc.key, acc.platform_id), since=since)
    except Exception as exc:  # the protocol says "never raises"; a bug must not stop the others
        log.exception("collector %s: recent posts of %s failed", client.platform, acc.key)
        errors.append(_as_bot_error(exc))
        return DiscoverResult()
    errors.extend(result.errors)
    return result


def _as_record(platform: str, account_key: str, post: DiscoveredPost, *, with_metrics: bool) -> PostRecord:
    return PostRecord(
        platform=platform,
        external_id=post.external_id,
        published_at=post.published_at,
        url=post.url or None,
        text=post.text,
        account_key=account_key,
        metrics=post.metrics if with_metrics else Metrics(),
    )


def _as_bot_error(exc: BaseException) -> BotError:
    if isinstance(exc, BotError):
        return exc
    return BotError("common.errors.unexpected", ref=type(exc).__name__)


async def _report_token_problems(
    sessions: async_sessionmaker[AsyncSession],
    *,
    settings: Settings,
    slack: AsyncWebClient,
    outcome: CollectOutcome,
    now: datetime,
    locales: Locales | None = None,
) -> None:
    auth = next(
        (e for e in outcome.errors if isinstance(e, PlatformError) and e.kind == PlatformErrorKind.AUTH), None
    )
    if auth is None:
        return
    token = platform_tokens(settings).get(outcome.platform) or ""
    fingerprint = hashlib.sha256(token.encode()).hexdigest()[:16]

    def text_in(t: Translator) -> str:
        key = f"platforms.names.{outcome.platform}"
        name = t(key) if t.has(key) else outcome.platform
        return t("kpi.collect.auth_dm", platform=name, message=auth.render(t))

    # Each admin's language, asked before the claim's transaction opens (it may ask Slack).
    texts = {
        admin: text_in(await locales.for_user(admin) if locales else translator(settings.locale))
        for admin in settings.roles.admins
    }
    try:
        # The claim and the DMs share a transaction: if Slack refuses, the claim is rolled back
        # and the next run tries again.
        async with unit_of_work(sessions) as session:
            if not await claim_key(session, key=claim_auth_key(outcome.platform, fingerprint), now=now):
                return
            for admin, text in texts.items():
                await slack.chat_postMessage(channel=admin, text=text)
    except SlackApiError as exc:
        log.warning(
            "could not tell admins about the %s token: %s", outcome.platform, exc.response.get("error")
        )
