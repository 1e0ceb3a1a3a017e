"""Message catalogs (ja/en): every string a person reads comes from here (pure, loaded once per process).

Catalogs live in ``bot/i18n/<locale>/<feature>.toml``. A file's keys are prefixed with the
file's stem, so ``review.toml``'s ``[modal] title`` is the key ``review.modal.title``. Feature
packages add their own file and never edit another feature's. Placeholders use ``str.format``
syntax (``{name}``); a test guards that both locales hold the same keys and placeholders.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any, Literal

Locale = Literal["ja", "en"]
LOCALES: tuple[Locale, ...] = ("ja", "en")


def _flatten(prefix: str, table: Mapping[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            _flatten(full, value, out)
        elif isinstance(value, str):
            out[full] = value
        else:
            raise TypeError(f"catalog value {full!r} must be a string, not {type(value).__name__}")


@cache
def catalog(locale: Locale) -> Mapping[str, str]:
    """Every message of ``locale``, keyed ``<file stem>.<dotted key>``."""
    out: dict[str, str] = {}
    folder = resources.files("bot.i18n").joinpath(locale)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            _flatten(entry.name.removesuffix(".toml"), tomllib.loads(entry.read_text("utf-8")), out)
    return out


def placeholders(template: str) -> frozenset[str]:
    """The ``{name}`` fields a template uses (format specs ignored)."""
    return frozenset(
        field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(template) if field
    )


class Translator:
    """Renders catalog messages in one locale; ``t("kpi.help.title")`` or ``t(key, name=...)``."""

    __slots__ = ("locale", "_messages")

    def __init__(self, locale: Locale) -> None:
        self.locale: Locale = locale
        self._messages = catalog(locale)

    def __call__(self, key: str, /, **params: Any) -> str:
        template = self._messages[key]  # a missing key is a bug: the catalog test catches it
        return template.format(**params) if params else template

    def join(self, items: Iterable[str]) -> str:
        """Items listed in running text: ``A, B`` in English, ``A、B`` in Japanese."""
        return self._messages["common.words.list_separator"].join(items)

    def has(self, key: str) -> bool:
        return key in self._messages


@cache
def translator(locale: Locale) -> Translator:
    return Translator(locale)
