"""The language selector's identifiers on the App Home (pure)."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    CHOOSE = "language.choose"


class BlockId(StrEnum):
    LANGUAGE = "language"
