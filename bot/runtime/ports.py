"""Ports a feature calls without knowing who answers: the App Home (pure protocols and a null object)."""

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
