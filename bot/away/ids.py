"""Away mode's identifiers on the App Home (pure).

The values keep the ``home.`` / ``home_`` spelling they had when the Home owned away mode: Homes
Slack already shows carry them, and a click there must still reach :mod:`bot.away.listeners`.
"""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    AWAY_UNTIL = "home.away_until"
    AWAY_CLEAR = "home.away_clear"
    DELEGATE = "home.delegate"
    DELEGATE_CLEAR = "home.delegate_clear"


class BlockId(StrEnum):
    AWAY = "home_away"
    AWAY_ACTIONS = "home_away_actions"
    DELEGATE = "home_delegate"
    DELEGATE_ACTIONS = "home_delegate_actions"
