"""THE composition root: builds config-driven dependencies, the Bolt app, the scheduler and the
server, and runs them on one event loop (the only module that wires I/O together).

Nothing here runs at import time. ``run()`` creates everything inside an ``AsyncExitStack`` and
closes it in reverse order on SIGTERM/SIGINT: stop taking requests, let in-flight listener and
job runs finish, stop the scheduler, close HTTP clients and the database.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine, Mapping
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import __version__, db, serving
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.home.publisher import DEFAULT_DEBOUNCE, HomePublisher
from bot.runtime.deps import Deps
from bot.slack.authorization import SlackAuthorization
from bot.slack.body import reparse_command_body
from bot.slack.client import build_web_client, without_token
from bot.slack.directory import Directory
from bot.slack.errors import make_error_handler
from bot.slack.gate import AfterAck
from bot.slack.idempotency import make_event_dedupe_middleware
from bot.slack.inflight import InFlight
from bot.slack.locales import Locales
from bot.slack.outbox import Outbox
from bot.slack.posting import make_respond_middleware
from bot.slack.router import Router
from bot.slack.verify import SignatureCheck
from bot.slack.web import quiet_malformed_requests, verified_only
from bot.welcome.greeting import Greeter

if TYPE_CHECKING:
    from bot.runtime.platforms import PlatformClient

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"

#: How long SIGTERM waits for in-flight listener and job runs before closing anyway.
SHUTDOWN_GRACE_SECONDS = 25.0
#: How long start-up waits for ``auth.test`` before serving anyway.
IDENTITY_WAIT_SECONDS = 10.0


def build_deps(
    settings: Settings,
    *,
    clock: Clock | None = None,
    engine: AsyncEngine | None = None,
    slack: AsyncWebClient | None = None,
    platforms: Mapping[str, PlatformClient] | None = None,
    home_debounce: float = DEFAULT_DEBOUNCE,
) -> Deps:
    """Deps for ``settings``; tests pass their own clock, engine and Slack client.

    The App Home publisher is built here too: it only ever republishes Homes this process has shown,
    so a process that serves no Slack app (the CLI) never publishes anything.
    """
    from bot.digest.queries import StoredWins

    clock = clock or SystemClock()
    engine = engine or db.make_engine(settings.database.url)
    token = settings.secrets.slack_bot_token.get() if settings.secrets.slack_bot_token else None
    sessions = db.make_sessionmaker(engine)
    slack = slack or build_web_client(token=token, base_url=settings.slack_api_url)
    inflight = InFlight()
    built: list[Deps] = []  # the Home reads through the Deps it belongs to, made just below

    async def publish(user_id: str) -> None:
        from bot.home.listeners import publish_home

        await publish_home(built[0], user_id)

    deps = Deps(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=sessions,
        outbox=Outbox(sessions=sessions, clock=clock, track=inflight.track),
        slack=slack,
        directory=Directory(settings=settings, clock=clock),
        authorization=SlackAuthorization(slack),
        locales=Locales(settings=settings, clock=clock, sessions=sessions, slack=slack),
        after_ack=AfterAck(settings.server.max_concurrent_work),
        platforms=platforms or {},
        inflight=inflight,
        home=HomePublisher(publish, inflight=inflight, debounce=home_debounce),
        welcome=Greeter(lambda: built[0]),
        wins=StoredWins(sessions),
    )
    built.append(deps)
    return deps


def _feature_registrars() -> list[Callable[[Router, Deps], None]]:
    """Each feature package registers its own listeners; adding a feature is one line here."""
    from bot.actions import listeners as action_listeners
    from bot.away import listeners as away_listeners
    from bot.digest import listeners as digest_listeners
    from bot.home import listeners as home_listeners
    from bot.kpi import listeners as kpi_listeners  # import features at build time
    from bot.kpi import uploads as kpi_uploads
    from bot.language import listeners as language_listeners
    from bot.participation import listeners as participation_listeners
    from bot.review import listeners as review_listeners
    from bot.welcome import listeners as welcome_listeners

    return [
        review_listeners.register,
        kpi_listeners.register,
        kpi_uploads.register,
        digest_listeners.register,
        action_listeners.register,
        away_listeners.register,
        welcome_listeners.register,
        language_listeners.register,
        participation_listeners.register,
        home_listeners.register,
    ]


def _job_registrars() -> list[Callable[[AsyncIOScheduler, Deps], None]]:
    from bot.digest import jobs as digest_jobs
    from bot.kpi import jobs as kpi_jobs
    from bot.milestones import jobs as milestone_jobs
    from bot.pace import jobs as pace_jobs
    from bot.participation import jobs as participation_jobs
    from bot.review import jobs as review_jobs
    from bot.runtime import jobs as runtime_jobs

    return [
        digest_jobs.register_jobs,
        kpi_jobs.register_jobs,
        participation_jobs.register_jobs,
        review_jobs.register_jobs,
        milestone_jobs.register_jobs,
        pace_jobs.register_jobs,
        runtime_jobs.register_jobs,
    ]


def signature_check(settings: Settings) -> SignatureCheck:
    """The check every HTTP request passes before it has any effect (no secret: nothing passes)."""
    secret = settings.secrets.slack_signing_secret
    return SignatureCheck(secret.get() if secret else None)


def build_app(deps: Deps, *, client: AsyncWebClient | None = None, **bolt_overrides: Any) -> AsyncApp:
    """The Bolt app with every feature's listeners, the event de-duplication and the error handler."""
    secret = deps.settings.secrets.slack_signing_secret
    # The bot's identity and token come from deps.authorization (auth.test asked at start-up), not
    # from Bolt's single-workspace default, which asks on the first request, before its listener acks.
    bolt_overrides.setdefault("authorize", deps.authorization.bolt_authorize())
    app = AsyncApp(
        client=without_token(client or deps.slack),
        signing_secret=secret.get() if secret else "",
        name=deps.settings.slack.app_name,
        **bolt_overrides,
    )
    app.error(make_error_handler(deps.t, check=signature_check(deps.settings), locales=deps.locales))
    app.middleware(reparse_command_body)
    # After the reparse, which rebuilds the context.
    app.middleware(make_respond_middleware(api_url=deps.settings.slack_api_url))
    from bot.participation.ids import EVENTS as PARTICIPATION_EVENTS

    app.middleware(make_event_dedupe_middleware(deps.sessions, deps.clock, after_ack=PARTICIPATION_EVENTS))
    router = Router()
    for register in _feature_registrars():
        register(router, deps)
    router.install(app)
    return app


def build_scheduler(deps: Deps) -> AsyncIOScheduler:
    """The scheduler in the configured zone with every feature's jobs (not started)."""
    scheduler = AsyncIOScheduler(timezone=deps.settings.tz)
    for register in _job_registrars():
        register(scheduler, deps)
    return scheduler


def _healthz(deps: Deps) -> Callable[[web.Request], Any]:
    async def healthz(_request: web.Request) -> web.Response:
        healthy = await db.ping(deps.engine)
        body = {
            "status": "ok" if healthy else "unavailable",
            "database": "ok" if healthy else "unreachable",
            "mode": "socket" if deps.settings.socket_mode else "http",
            "version": __version__,
        }
        return web.json_response(body, status=200 if healthy else 503)

    return healthz


def build_health_app(deps: Deps) -> web.Application:
    """Socket Mode: only ``GET /healthz`` (200 when the database answers, 503 otherwise)."""
    health = web.Application()
    health.router.add_get(HEALTH_PATH, _healthz(deps))
    return health


def build_web_app(app: AsyncApp, deps: Deps) -> web.Application:
    """HTTP mode: ``POST /slack/events`` (Bolt, signature-verified) and ``GET /healthz`` on one server."""
    web_app = app.web_app(path=deps.settings.server.path, port=deps.settings.server.port)
    web_app.middlewares.append(verified_only(signature_check(deps.settings), health_path=HEALTH_PATH))
    quiet_malformed_requests()
    web_app.router.add_get(HEALTH_PATH, _healthz(deps))
    return web_app


async def on_start(deps: Deps) -> None:
    """Start-up work after migrations: make the store agree with the config, and say which KPIs
    managers cannot read up on (no glossary entry: ``check-config`` warns about the same)."""
    from bot.i18n import translator
    from bot.kpi.glossary import glossary_warnings
    from bot.kpi.values import sync_accounts

    async with deps.sessions.begin() as session:
        await sync_accounts(session, accounts=deps.settings.accounts)
    for warning in glossary_warnings(deps.settings):
        log.warning("%s", warning.render(translator("en")))


def start_background(deps: Deps) -> list[asyncio.Task[Any]]:
    """Work that must not delay serving: digests due while the bot was down (within
    ``[digest] catch_up_days``) are posted right after the server is up, and the members of every
    configured user group are loaded, so no request waits for them."""
    from bot.digest.jobs import catch_up

    return [
        asyncio.create_task(deps.inflight.track(catch_up)(deps), name="digest-catch-up"),
        asyncio.create_task(deps.directory.warm(deps.slack), name="user-groups"),
    ]


async def run(settings: Settings, *, stop: asyncio.Event | None = None, clock: Clock | None = None) -> None:
    """Migrate, then serve Slack (Socket Mode or HTTP) and run the scheduler until stopped."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix or not main thread
            pass

    if await db.migrate(settings.database.url):
        log.info("database migrated")

    async with AsyncExitStack() as stack:
        from bot.kpi.jobs import platform_tokens
        from bot.platforms import build_clients, present_tokens

        tokens = present_tokens(platform_tokens(settings))
        platforms: dict[str, PlatformClient] = {}
        if tokens:  # the platform APIs' client (its TLS context takes ~70 ms) only when one can be asked
            import httpx

            http = httpx.AsyncClient(timeout=settings.collectors.timeout_seconds)
            stack.push_async_callback(http.aclose)
            platforms = build_clients(http, tokens=tokens, clock=clock)
        slack_session = aiohttp.ClientSession()  # one connection pool for every Slack call
        stack.push_async_callback(slack_session.close)
        token = settings.secrets.slack_bot_token
        deps = build_deps(
            settings,
            clock=clock,
            slack=build_web_client(
                token=token.get() if token else None, base_url=settings.slack_api_url, session=slack_session
            ),
            platforms=platforms,
        )
        stack.push_async_callback(deps.engine.dispose)
        stack.push_async_callback(deps.directory.aclose)
        stack.push_async_callback(deps.locales.aclose)
        stack.push_async_callback(deps.authorization.aclose)
        identity = asyncio.create_task(deps.authorization.load(), name="auth.test")  # while the store starts
        await on_start(deps)
        app = build_app(deps)
        # Serve once Slack said who the bot is (a Slack that does not answer in time only delays
        # that answer to the first request that needs it, as Bolt's default would).
        await asyncio.wait({identity}, timeout=IDENTITY_WAIT_SECONDS)

        # What takes requests (the Socket Mode connection, the HTTP server) is closed, and the
        # scheduler paused, before the drain below, so no new work starts while work in progress
        # finishes (a digest job firing mid-drain would be cut off by the grace period).
        intake = AsyncExitStack()
        stack.push_async_callback(intake.aclose)  # also when starting fails half-way

        background: list[asyncio.Task[Any]] = []  # held here: the loop keeps only weak references
        try:
            if await _serve(app, deps, intake=intake, stop=stop):
                await _start_scheduler(deps, stack=stack, intake=intake)
                background = start_background(deps)
                await stop.wait()
        finally:
            log.info("shutting down: no new requests; waiting for work in progress")
            await intake.aclose()
            if not await deps.inflight.drain(SHUTDOWN_GRACE_SECONDS):
                log.warning(
                    "%d task(s) still running after %.0fs; closing anyway",
                    deps.inflight.count,
                    SHUTDOWN_GRACE_SECONDS,
                )
            for task in background:
                if not task.done():
                    task.cancel()
    log.info("stopped")


async def _start_scheduler(deps: Deps, *, stack: AsyncExitStack, intake: AsyncExitStack) -> None:
    """Start the digest/collector jobs once the bot serves.

    The first fire times need the holiday tables, which take ~0.2 s of CPU to load: they load in a
    thread first, so neither the start of serving nor the requests arriving meanwhile wait for them.
    """
    if not deps.settings.scheduler.enabled:
        log.info("scheduler disabled in this process ([scheduler] enabled = false)")
        return
    from bot.calendars import business_days

    year = deps.clock.now().astimezone(deps.settings.tz).year
    await asyncio.to_thread(business_days(deps.settings).load_holidays, year, year + 1)
    scheduler = build_scheduler(deps)
    scheduler.start()
    stack.callback(scheduler.shutdown, wait=False)
    intake.callback(scheduler.pause)
    log.info("scheduler started with %d job(s)", len(scheduler.get_jobs()))


async def _serve(app: AsyncApp, deps: Deps, *, intake: AsyncExitStack, stop: asyncio.Event) -> bool:
    """Connect to Slack (Socket Mode) and start the HTTP server, pushing each close onto ``intake``.

    False when ``stop`` came first: the SDK retries a failed Socket Mode connection (Slack down, a
    revoked app token) forever, and SIGTERM must still end the process.
    """
    settings = deps.settings
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        assert settings.secrets.slack_app_token is not None
        handler = AsyncSocketModeHandler(app, settings.secrets.slack_app_token.get())
        intake.push_async_callback(handler.close_async)
        # slack_bolt leaves AsyncSocketModeHandler.connect_async unannotated (it returns None).
        connecting = handler.connect_async()  # type: ignore[no-untyped-call]
        if not await _unless_stopped(connecting, stop):
            return False
        web_app = build_health_app(deps)
        log.info("connected to Slack in Socket Mode")
    else:
        web_app = build_web_app(app, deps)

    # Every request must arrive whole within the read timeout (aiohttp itself never times out a
    # client that trickles its headers or body: bot.serving).
    runner, listener, _port = await serving.serve(
        web_app,
        host=settings.server.host,
        port=settings.server.port,
        read_timeout=settings.server.read_timeout_seconds,
    )
    intake.push_async_callback(runner.cleanup)  # drains the connections...
    intake.push_async_callback(listener.close)  # ...after no new one is accepted
    log.info(
        "listening on %s:%d (%s mode)",
        settings.server.host,
        settings.server.port,
        "socket" if settings.socket_mode else "http",
    )
    return True


async def _unless_stopped(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> bool:
    """Await ``work`` unless ``stop`` is set first (then cancel it); True when ``work`` finished."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((task, stopping), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.cancelled():
        return False
    task.result()  # a failure to connect is raised here
    return True
