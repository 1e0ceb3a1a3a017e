"""The KPI glossary: each KPI's four-part entry — what it is, how it is measured, a good range, what
moves it — from the config's ``[kpis.glossary]`` over the built-in text of its derivation, and the
warnings ``sns-bot check-config`` prints for KPIs left without one (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.config import GLOSSARY_PARTS, KpiSettings, Problem, Settings
from bot.i18n import LOCALES, Translator, translator

#: Catalog prefix of the built-in entries, keyed by ``derive`` name (``glossary.derived.<derive>.what``).
BUILTIN_PREFIX = "glossary.derived"


class Part(StrEnum):
    """The four parts of an entry, in the order they are shown (``[kpis.glossary]`` keys)."""

    WHAT = "what"
    HOW = "how"
    GOOD = "good"
    MOVE = "move"


assert tuple(Part) == GLOSSARY_PARTS  # one list of parts for the config and the glossary


@dataclass(frozen=True, slots=True)
class Entry:
    """One KPI's glossary entry in one language; a part nobody wrote is ``None``."""

    key: str
    name: str
    why: str
    parts: tuple[tuple[Part, str | None], ...]

    def part(self, part: Part) -> str | None:
        return dict(self.parts)[part]

    @property
    def complete(self) -> bool:
        return all(text for _, text in self.parts)


def builtin_key(derive: str, part: Part) -> str:
    return f"{BUILTIN_PREFIX}.{derive}.{part.value}"


def _builtin(kpi: KpiSettings, part: Part, t: Translator) -> str | None:
    """The built-in text of a derived KPI's part (only a derived KPI's numbers mean the same everywhere)."""
    if kpi.aggregate != "derived" or not kpi.derive:
        return None
    key = builtin_key(kpi.derive, part)
    return t(key) if t.has(key) else None


def part_text(kpi: KpiSettings, part: Part, t: Translator) -> str | None:
    """The config's text for ``part`` (in ``t``'s language), else the built-in one, else ``None``."""
    own = kpi.glossary.part(part.value)
    if own is not None and own.get(t.locale).strip():
        return own.get(t.locale)
    return _builtin(kpi, part, t)


def entry(kpi: KpiSettings, t: Translator) -> Entry:
    """``kpi``'s entry in ``t``'s language."""
    return Entry(
        key=kpi.key,
        name=kpi.name.get(t.locale),
        why=kpi.why.get(t.locale),
        parts=tuple((part, part_text(kpi, part, t)) for part in Part),
    )


def missing_parts(kpi: KpiSettings) -> tuple[Part, ...]:
    """The parts without a text in some language (neither configured nor built in)."""
    return tuple(
        part for part in Part if any(part_text(kpi, part, translator(loc)) is None for loc in LOCALES)
    )


def glossary_warnings(settings: Settings) -> list[Problem]:
    """One warning per KPI whose entry is incomplete (``check-config`` prints them; they do not fail)."""
    out: list[Problem] = []
    for i, kpi in enumerate(settings.kpis):
        if missing := missing_parts(kpi):
            out.append(Problem(f"kpis[{i}] ({kpi.key})", "glossary_missing", {"parts": " / ".join(missing)}))
    return out


def find(settings: Settings, key: str) -> KpiSettings | None:
    """The configured KPI ``key`` names (a button value or a typed key), or ``None``."""
    return settings.kpi_def(key.strip()) if key else None
