"""Ports a feature calls without knowing who answers: the App Home and the manager introduction (pure
protocols and null objects)."""

from __future__ import annotations

from collections.abc import Iterable
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


class Welcome(Protocol):
    """Introduces configured managers to the bot once each (implemented by :mod:`bot.welcome.greeting`;
    called by the Home when someone opens it and by the review when a request reaches its approvers).

    Returns at once: the work (user groups, the claim, the DM) runs after the caller's ack.
    """

    def greet(self, user_ids: Iterable[str], *, via: str) -> None:
        """Welcome the configured managers among ``user_ids`` who were never welcomed."""


class NoWelcome:
    """The introduction of a process that serves no Slack app (the CLI): nobody to welcome."""

    def greet(self, user_ids: Iterable[str], *, via: str) -> None:
        return None
