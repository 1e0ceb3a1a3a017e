"""Problem collection (pure): :class:`Reader` walks a TOML table and records every problem with its key
path instead of stopping at the first, and flags unknown keys."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from bot.config.values import HHMM_RE, LocalizedText
from bot.i18n import LOCALES, Translator


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the configuration: where, and a catalog key saying what."""

    path: str
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, t: Translator) -> str:
        params = {k: v.render(t) if isinstance(v, Types) else v for k, v in self.params.items()}
        return f"{self.path}: {t('config.' + self.key, **params)}"


@dataclass(frozen=True, slots=True)
class Types:
    """The TOML types a value may have, said in the reader's language (``config.types.*``)."""

    names: tuple[str, ...]

    def render(self, t: Translator) -> str:
        return t("config.types.or").join(t(f"config.types.{name}") for name in self.names)


def join(path: str, name: str) -> str:
    """The key path of ``name`` inside the table at ``path`` (``""`` is the top level)."""
    return f"{path}.{name}" if path else name


#: TOML's types by the Python type a value reads as; each has a catalog entry ``config.types.<name>``.
_TYPE_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "table"}


def _type_names(kinds: tuple[type, ...]) -> Types:
    """``(int, float)`` is any number: said as "number", not "integer or number"."""
    if int in kinds and float in kinds:
        kinds = tuple(k for k in kinds if k is not int)
    return Types(tuple(_TYPE_NAMES[k] for k in kinds))


class Reader:
    """Walks a TOML table, recording problems instead of raising, and flags unknown keys."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems

    def add(self, path: str, key: str, **params: Any) -> None:
        self.problems.append(Problem(path, key, params))

    def table(self, raw: Mapping[str, Any], name: str, path: str) -> Mapping[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, Mapping):
            self.add(join(path, name), "not_table")
            return {}
        return value

    def known(self, raw: Mapping[str, Any], path: str, allowed: Sequence[str]) -> None:
        for key in raw:
            if key not in allowed:
                self.add(join(path, key), "unknown_key", allowed=", ".join(allowed))

    def get(
        self,
        raw: Mapping[str, Any],
        name: str,
        path: str,
        kind: type | tuple[type, ...],
        default: Any = None,
        *,
        required: bool = False,
    ) -> Any:
        full = join(path, name)
        if name not in raw:
            if required:
                self.add(full, "missing")
            return default
        value = raw[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int in Python; a TOML `true` must not pass as a number.
        if isinstance(value, bool) and bool not in kinds:
            self.add(full, "wrong_type", expected=_type_names(kinds))
            return default
        if not isinstance(value, kinds):
            self.add(full, "wrong_type", expected=_type_names(kinds))
            return default
        return value

    def str_list(self, raw: Mapping[str, Any], name: str, path: str) -> tuple[str, ...]:
        value = self.get(raw, name, path, list, [])
        out: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                out.append(item)
            else:
                self.add(f"{join(path, name)}[{i}]", "wrong_type", expected=Types(("string",)))
        return tuple(out)

    def ids(
        self, raw: Mapping[str, Any], name: str, path: str, check: Callable[[str], bool], what: str
    ) -> tuple[str, ...]:
        values = self.str_list(raw, name, path)
        for i, item in enumerate(values):
            if not check(item):
                self.add(f"{join(path, name)}[{i}]", "bad_id", value=item, what=what)
        return values

    def positive(self, raw: Mapping[str, Any], name: str, path: str, default: float) -> float:
        value = self.get(raw, name, path, (int, float), default)
        if value <= 0:
            self.add(join(path, name), "not_positive")
            return default
        return float(value)

    def choice(
        self, raw: Mapping[str, Any], name: str, path: str, choices: Sequence[str], default: Any
    ) -> Any:
        value = self.get(raw, name, path, str, default)
        if value is not None and value not in choices:
            self.add(join(path, name), "bad_choice", value=value, choices=" | ".join(choices))
            return default
        return value

    def hhmm(self, raw: Mapping[str, Any], name: str, path: str, default: time) -> time:
        value = self.get(raw, name, path, str, None)
        if value is None:
            return default
        match = HHMM_RE.match(value)
        if not match:
            self.add(join(path, name), "bad_time", value=value)
            return default
        return time(int(match.group(1)), int(match.group(2)))

    def localized(self, raw: Mapping[str, Any], name: str, path: str, *, required: bool) -> LocalizedText:
        full = join(path, name)
        value = raw.get(name)
        if value is None:
            if required:
                self.add(full, "missing")
            return LocalizedText("", "")
        if isinstance(value, str):  # one text for both languages is allowed
            return LocalizedText(value, value)
        if not isinstance(value, Mapping):
            self.add(full, "wrong_type", expected=Types(("localized",)))
            return LocalizedText("", "")
        self.known(value, full, LOCALES)
        texts = {}
        for locale in LOCALES:
            text = value.get(locale)
            if not isinstance(text, str) or not text.strip():
                self.add(f"{full}.{locale}", "missing")
                text = ""
            texts[locale] = text
        return LocalizedText(ja=texts["ja"], en=texts["en"])
