"""The DMs admins get about one digest in one channel: failed, late or unverifiable, out after all (pure)."""

from __future__ import annotations

from bot.i18n import Translator


def build_admin_failure_text(*, kind: str, period: str, channel: str, error: str, t: Translator) -> str:
    """The one DM admins get when a digest cannot be posted for a reason retrying will not fix."""
    return t(
        "digest.errors.admin_failed",
        kind=t(f"digest.kinds.{kind}"),
        period=period,
        channel=channel,
        error=error,
    )


def build_admin_late_text(
    *, kind: str, period: str, channel: str, error: str, days: float, unverified: bool, t: Translator
) -> str:
    """The one DM admins get when a digest is late (an attempt failed; it is retried), or when it
    cannot be checked whether a post went through (the bot cannot read the channel)."""
    return t(
        "digest.admin.unverified" if unverified else "digest.admin.late",
        kind=t(f"digest.kinds.{kind}"),
        period=period,
        channel=channel,
        error=error,
        days=f"{days:g}",
    )


def build_admin_out_text(*, kind: str, period: str, channel: str, found: bool, t: Translator) -> str:
    """The one DM admins get when a digest they were told was late is in the channel after all."""
    return t(
        "digest.admin.found" if found else "digest.admin.out",
        kind=t(f"digest.kinds.{kind}"),
        period=period,
        channel=channel,
    )
