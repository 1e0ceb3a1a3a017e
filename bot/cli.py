"""The ``sns-bot`` command line: parses arguments, loads settings and hands over to the features.

Exit codes (the contract): 0 success or nothing to do, 1 bad input or refused work (every
problem printed), 2 usage error (argparse's own).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot import __version__
from bot.config import (
    ConfigError,
    Problem,
    Settings,
    load_settings,
    problems_for_run,
    resolve_config_path,
)
from bot.i18n import Locale, Translator, translator
from bot.logs import RedactingFilter

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2


def _add_config(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # Accepted before or after the subcommand: the sub-parser's copy must not overwrite the
    # top-level value with its default, hence SUPPRESS there.
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=None if top else argparse.SUPPRESS,
        help="config file (default: $SNS_BOT_CONFIG, else ./config.toml)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sns-bot", description="SNS Team Bot for Slack")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_config(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _add_config(p, top=False)
        return p

    add("run", "start the bot (migrates the database first)")
    add("migrate", "apply database migrations and exit")
    add("check-config", "validate the configuration and print every problem")
    manifest = add("manifest", "print the Slack app manifest (YAML) for this config")
    mode = manifest.add_mutually_exclusive_group()
    mode.add_argument("--socket-mode", action="store_true", help="manifest for Socket Mode")
    mode.add_argument("--http", action="store_true", help="manifest for HTTP mode (request URLs)")

    digest = add("digest", "preview or post a digest")
    digest.add_argument("kind", choices=("weekly", "monthly", "quarterly"))
    digest.add_argument(
        "--period",
        help="2026-W47 (weekly), 2026-11 (monthly) or 2026-Q3 (fiscal quarter); default: last finished",
    )
    action = digest.add_mutually_exclusive_group(required=True)
    action.add_argument("--preview", action="store_true", help="print the digest; post nothing")
    action.add_argument("--post", action="store_true", help="post it (exactly once per period and channel)")
    action.add_argument(
        "--pdf",
        metavar="FILE",
        help="write the monthly or quarterly digest as a one-page A4 PDF; post nothing",
    )
    digest.add_argument("--chart", metavar="PNG", help="with --preview: write the chart image here")
    digest.add_argument(
        "--update",
        action="store_true",
        help="with --post: edit the digest already posted for the period in place with today's data",
    )

    imp = add("import", "import a CSV export (posts or KPI values)")
    imp.add_argument("kind", choices=("posts", "kpi"))
    imp.add_argument("file", metavar="FILE")
    imp.add_argument(
        "--format", dest="format_name", metavar="NAME", help="the file's format (default: detect)"
    )
    imp.add_argument("--account", metavar="KEY", help="configured account a platform export belongs to")
    imp.add_argument(
        "--period", metavar="YYYY-MM", help="Search Console exports: the month the figures are for"
    )
    imp.add_argument("--dry-run", action="store_true", help="check and report; write nothing")

    collect = add("collect", "refresh post metrics from the platform APIs now")
    collect.add_argument("--account", metavar="KEY", help="only this account")

    demo = add("demo", "build a throw-away database with sample data and show what the bot posts")
    demo.add_argument(
        "--out", metavar="DIR", default=None, help="where to write the chart PNG (default: ./demo-output)"
    )
    demo.add_argument("--locale", choices=("ja", "en"), default=None, help="language (default: ja)")
    return parser


def _print_problems(problems: Sequence[Problem], locale: Locale) -> None:
    t = translator(locale)
    print(t("config.header", count=len(problems)), file=sys.stderr)
    for problem in problems:
        print(f"  - {problem.render(t)}", file=sys.stderr)


def _load(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings | None:
    path = resolve_config_path(args.config, environ)
    try:
        return load_settings(path, environ)
    except ConfigError as exc:
        _print_problems(exc.problems, exc.locale)
        return None


def _configure_logging(settings: Settings) -> RedactingFilter:
    from bot.logs import configure_logging

    s = settings.secrets
    values = [
        secret.get()
        for secret in (
            s.slack_bot_token,
            s.slack_signing_secret,
            s.slack_app_token,
            s.x_bearer_token,
            s.instagram_access_token,
            s.youtube_api_key,
        )
        if secret is not None
    ]
    values.extend(settings.database.secrets())
    return configure_logging(level=settings.logging.level, fmt=settings.logging.format, secrets=values)


def _failed(t: Translator, key: str, exc: BaseException, redaction: RedactingFilter, command: str) -> int:
    """Say that a command failed, in one line without any secret, and log the details (redacted).

    A traceback printed by Python itself would bypass the log's redaction, and a database error
    can carry the URL, password included.
    """
    logging.getLogger("bot.cli").error("%s", key, exc_info=exc)
    reason = redaction.redact(f"{type(exc).__name__}: {exc}").splitlines()[0]
    print(t(key, reason=reason, command=command), file=sys.stderr)
    return EXIT_REFUSED


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    args = build_parser().parse_args(argv)

    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo(out_dir=Path(args.out) if args.out else None, locale=args.locale, environ=environ)

    settings = _load(args, environ)
    if settings is None:
        return EXIT_REFUSED
    t = translator(settings.locale)

    if args.command == "check-config":
        # Exactly what `run` refuses: the file, the environment, and the secrets of the mode.
        if problems := problems_for_run(settings):
            _print_problems(problems, settings.locale)
            return EXIT_REFUSED
        print(
            t(
                "config.ok",
                accounts=len(settings.accounts),
                kpis=len(settings.kpis),
                locale=settings.locale,
                timezone=settings.timezone,
            )
        )
        # Warnings do not fail the check: a KPI without a glossary entry still works.
        from bot.kpi.glossary import glossary_warnings

        for warning in glossary_warnings(settings):
            print(f"  - {warning.render(t)}")
        return EXIT_OK

    if args.command == "manifest":
        from bot.manifest import build_manifest, to_yaml

        socket = True if args.socket_mode else False if args.http else None
        sys.stdout.write(to_yaml(build_manifest(settings, socket_mode=socket)))
        return EXIT_OK

    redaction = _configure_logging(settings)
    if args.command == "run" and (problems := problems_for_run(settings)):
        _print_problems(problems, settings.locale)
        return EXIT_REFUSED
    try:
        return _work(args, settings, t)
    except Exception as exc:  # one clean, redacted line instead of Python's traceback
        key = {"migrate": "cli.errors.migrate_failed", "run": "cli.errors.run_failed"}
        return _failed(t, key.get(args.command, "cli.errors.command_failed"), exc, redaction, args.command)


async def _digest(args: argparse.Namespace, settings: Settings) -> int:
    """``sns-bot digest``: the digest feature's command, with Deps built here (and disposed of)."""
    from bot.app import build_deps
    from bot.digest.cli import digest_command
    from bot.periods import PeriodKind

    deps = build_deps(settings)
    try:
        return await digest_command(
            deps,
            kind=PeriodKind(args.kind),
            period=args.period,
            post=args.post,
            chart=Path(args.chart) if args.chart else None,
            pdf=Path(args.pdf) if args.pdf else None,
            update=args.update,
        )
    finally:
        await deps.directory.aclose()  # user-group fetches Slack never answered stop here
        await deps.engine.dispose()


def _work(args: argparse.Namespace, settings: Settings, t: Translator) -> int:
    """The commands that use the store or Slack (logging is configured)."""
    if args.command == "migrate":
        from bot import db

        db.upgrade(settings.database.url)
        print(t("cli.migrated"))
        return EXIT_OK

    if args.command == "run":
        from bot.app import run

        asyncio.run(run(settings))
        return EXIT_OK

    if args.command == "digest":
        return asyncio.run(_digest(args, settings))

    if args.command in ("import", "collect"):
        return asyncio.run(_kpi_command(args, settings))

    raise AssertionError(f"unhandled command {args.command}")  # pragma: no cover


async def _kpi_command(args: argparse.Namespace, settings: Settings) -> int:
    """``import`` and ``collect``: the KPI feature's commands, given ``Deps`` built here (``collect``
    with a client for each platform that has a token) and disposed of afterwards."""
    from bot.app import build_deps

    if args.command == "import":
        from bot.kpi.cli import import_command

        deps = build_deps(settings)
        try:
            return await import_command(
                deps,
                kind=args.kind,
                path=Path(args.file),
                format_name=args.format_name,
                account=args.account,
                period=args.period,
                dry_run=args.dry_run,
            )
        finally:
            await deps.engine.dispose()

    import httpx

    from bot.kpi.cli import collect_command
    from bot.kpi.jobs import platform_tokens
    from bot.platforms import build_clients

    async with httpx.AsyncClient(timeout=settings.collectors.timeout_seconds) as http:
        deps = build_deps(settings, platforms=build_clients(http, tokens=platform_tokens(settings)))
        try:
            return await collect_command(deps, account=args.account)
        finally:
            await deps.engine.dispose()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
