"""Ports a feature calls without knowing who answers: the App Home and the wins shared lately (pure
protocols, their plain answers and null objects)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class HomeRefresh(Protocol):
    """Republishes App Homes after a change; implemented by the Home feature, called by every feature.

    Both calls return at once (the publish runs later, coalesced per user).
    """

    def show(self, user_id: str) -> None:
        """Publish ``user_id``'s Home soon: they opened it."""

    def refresh(self, user_ids: Iterable[str] | None = None) -> None:
        """Republish the Homes a change affects (``None``: every Home this process has shown)."""


class NoHome:
    """The Home of a process that serves no Slack app (the CLI): there is nothing to republish."""

    def show(self, user_id: str) -> None:
        return None

    def refresh(self, user_ids: Iterable[str] | None = None) -> None:
        return None


@dataclass(frozen=True, slots=True)
class WinBrief:
    """One shared win: what happened, and the message it points to."""

    what: str
    permalink: str | None


@dataclass(frozen=True, slots=True)
class RecentWins:
    """Wins shared in a span: the first few, how many in all, and where to read them (the newest
    weekly digest post, else the first win's message)."""

    wins: tuple[WinBrief, ...] = ()
    total: int = 0
    url: str | None = None


class WinsReader(Protocol):
    """Reads the wins the team shared; implemented by the digest feature (which owns wins), called by
    features below it (a nudge to a silent manager shows last week's wins)."""

    async def recent(self, *, start: datetime, end: datetime, limit: int) -> RecentWins:
        """Wins shared in ``[start, end)``, oldest first, at most ``limit`` of them."""
        ...


class NoWins:
    """No wins to read (a process without the digest feature)."""

    async def recent(self, *, start: datetime, end: datetime, limit: int) -> RecentWins:
        return RecentWins()
